"""EEMBC-format datasets: a directory with `y_labels.csv` and one .bin file per stimulus.

`y_labels.csv` lines: `file,classes,class` (kws01, vww01, ic01) or `file,classes,class,window,stride` (ad01:
float32 log-mel frames sent as sliding windows of `window` bytes every `stride` bytes). Everything is
checked before the first inference: a missing or truncated file is a DatasetError naming it, so a run never
fails half-way on bad data. Also generates seeded random stimuli for performance runs without a dataset.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from tinyperf.errors import DatasetError
from tinyperf.runner.tasks import Task

LABELS = "y_labels.csv"


@dataclass(frozen=True)
class Entry:
    """One stimulus: file name (relative to the dataset), label; for ad01 the window and stride (bytes)."""

    file: str
    classes: int
    label: int
    window: int | None = None
    stride: int | None = None


def windows(data: bytes, window: int, stride: int) -> list[bytes]:
    """Sliding windows of `window` bytes every `stride` bytes (only whole windows), as the EEMBC runner
    sends ad01 files."""
    return [data[i : i + window] for i in range(0, len(data) - window + 1, stride)]


class Dataset:
    """A validated dataset directory for one task; `load(i)` returns the stimulus bytes, `inputs(i)` the
    list of device inputs (one, or the ad01 windows)."""

    def __init__(self, root: str | Path, task: Task):
        self.root = Path(root)
        self.task = task
        if not self.root.is_dir():
            raise DatasetError(
                f"dataset directory {self.root} does not exist; pass --dataset DIR "
                f"(make one with scripts/make_dataset.py)"
            )
        labels = self.root / LABELS
        if not labels.is_file():
            raise DatasetError(f"{labels} is missing: an EEMBC dataset lists its files and labels there")
        self.entries = self._parse(labels)
        if not self.entries:
            raise DatasetError(f"{labels} lists no stimuli")
        for e in self.entries:
            self._check_file(e)

    def _parse(self, labels: Path) -> list[Entry]:
        entries = []
        with labels.open(newline="") as f:
            for lineno, row in enumerate(csv.reader(f), 1):
                row = [c.strip() for c in row]
                if not row or not any(row) or row[0].startswith("#"):
                    continue
                if lineno == 1 and len(row) > 1 and not row[1].lstrip("-").isdigit():
                    continue  # a header line
                try:
                    if self.task.window_bytes:
                        file, classes, label, window, stride = row[0], *map(int, row[1:5])
                        if len(row) != 5:
                            raise ValueError
                    else:
                        file, classes, label = row[0], *map(int, row[1:3])
                        window = stride = None
                        if len(row) != 3:
                            raise ValueError
                except ValueError:
                    fmt = (
                        "file,2,class,2560,512"
                        if self.task.window_bytes
                        else f"file,{self.task.classes},class"
                    )
                    raise DatasetError(
                        f"{labels}:{lineno}: malformed line {','.join(row)!r}; expected {fmt}"
                    ) from None
                n = 2 if self.task.metric == "auc" else self.task.classes
                if classes != n:
                    raise DatasetError(
                        f"{labels}:{lineno}: {file} says {classes} classes, {self.task.name} "
                        f"has {n}; is this a dataset for another task?"
                    )
                if not 0 <= label < n:
                    raise DatasetError(f"{labels}:{lineno}: label {label} of {file} outside 0..{n - 1}")
                if window is not None and (window != self.task.window_bytes or stride <= 0):
                    raise DatasetError(
                        f"{labels}:{lineno}: window {window} / stride {stride} of {file}; "
                        f"{self.task.name} windows are {self.task.window_bytes} bytes"
                    )
                entries.append(Entry(file, classes, label, window, stride))
        return entries

    def _check_file(self, e: Entry) -> None:
        path = self.root / e.file
        if not path.is_file():
            raise DatasetError(f"{path} is missing (listed in {LABELS}); restore it or remove its line")
        size = path.stat().st_size
        if e.window is None:
            if size != self.task.input_bytes:
                raise DatasetError(
                    f"{path} is {size} bytes, {self.task.name} inputs are "
                    f"{self.task.input_bytes} bytes: truncated or from another task"
                )
        elif size < e.window or size % 4:
            raise DatasetError(
                f"{path} is {size} bytes: an ad01 file holds whole float32 values and at "
                f"least one {e.window}-byte window; truncated?"
            )

    def __len__(self) -> int:
        return len(self.entries)

    def load(self, i: int) -> bytes:
        e = self.entries[i]
        data = (self.root / e.file).read_bytes()
        self._check_size(e, data)
        return data

    def _check_size(self, e: Entry, data: bytes) -> None:
        if e.window is None and len(data) != self.task.input_bytes:
            raise DatasetError(
                f"{self.root / e.file} changed size while the benchmark ran ({len(data)} bytes)"
            )

    def inputs(self, i: int) -> list[bytes]:
        """The device inputs for stimulus i: the file itself, or its ad01 windows."""
        e = self.entries[i]
        data = self.load(i)
        return [data] if e.window is None else windows(data, e.window, e.stride)

    @property
    def labels(self) -> list[int]:
        return [e.label for e in self.entries]


def random_stimuli(task: Task, count: int, seed: int = 0) -> list[bytes]:
    """`count` seeded random device inputs for performance and energy runs without a dataset: uniform bytes
    (kws01, vww01, ic01) or ad01 windows of float32 log-mel values distributed like the real sample in
    ../shared/samples (mean -28, deviation 11, within the model's input range -84.8 .. 14.9)."""
    rng = np.random.default_rng(seed)
    if task.window_bytes:
        return [
            np.clip(rng.normal(-28.0, 11.0, task.window_bytes // 4), -80.0, 14.0).astype("<f4").tobytes()
            for _ in range(count)
        ]
    return [rng.integers(0, 256, task.input_bytes, dtype=np.uint8).tobytes() for _ in range(count)]
