"""Results folder in the MLPerf Tiny submission layout, written atomically, resumable.

    <out>/<division>/<submitter>/results/<system>/<task>/<mode>/{results.txt, log.txt, results.json}
    <out>/<division>/<submitter>/systems/<system>.json

`<task>` is the submission folder name (kws, vww, ic, ad); `<mode>` is performance, energy, accuracy or a
scenario name. Every file is written to a temporary file in the same directory and moved into place with
os.replace, so a reader never sees half a file. results.json is written last and records the sha256 of
results.txt and log.txt and the run's configuration key: an entry counts as complete only when that record
is intact and the hashes match (so `--resume` skips it); a failed entry gets log.txt and a results.json
with status "failed", never a results.txt.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger("tinyperf.runner.results")

FILES = ("results.txt", "log.txt")


def atomic_write(path: Path, data: str | bytes) -> None:
    """Write `data` to `path` via a temporary file in the same directory, fsync and os.replace."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    raw = data.encode() if isinstance(data, str) else data
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(raw)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def config_key(config: dict[str, Any]) -> str:
    """A stable hash of the settings that determine an entry's result (firmware, model, mode options)."""
    return hashlib.sha256(json.dumps(config, sort_keys=True, default=str).encode()).hexdigest()[:16]


@dataclass(frozen=True)
class ResultsTree:
    """Where one run's results go."""

    out: Path
    division: str
    submitter: str
    system: str

    @property
    def base(self) -> Path:
        return Path(self.out) / self.division / self.submitter

    def entry_dir(self, task_folder: str, mode: str) -> Path:
        return self.base / "results" / self.system / task_folder / mode

    def system_json(self) -> Path:
        return self.base / "systems" / f"{self.system}.json"

    def write_system(self, description: dict[str, Any]) -> None:
        atomic_write(self.system_json(), json.dumps(description, indent=2, sort_keys=False) + "\n")

    def write_entry(
        self, task_folder: str, mode: str, *, results_txt: str, log_txt: str, record: dict[str, Any], key: str
    ) -> Path:
        """Write a complete entry: results.txt, log.txt, then results.json (status complete, hashes)."""
        d = self.entry_dir(task_folder, mode)
        atomic_write(d / "results.txt", results_txt)
        atomic_write(d / "log.txt", log_txt)
        doc = {"status": "complete", "config_key": key, "sha256": {f: sha256(d / f) for f in FILES}, **record}
        atomic_write(d / "results.json", json.dumps(doc, indent=2, default=_jsonable) + "\n")
        return d

    def mark_running(self, task_folder: str, mode: str, key: str) -> None:
        """Before an entry runs: replace any earlier record by status "running" and drop its results.txt,
        so an interrupted run never leaves an older result looking like this run's."""
        d = self.entry_dir(task_folder, mode)
        stale = d / "results.txt"
        if stale.exists():
            stale.unlink()
        atomic_write(d / "results.json", json.dumps({"status": "running", "config_key": key}) + "\n")

    def write_failure(self, task_folder: str, mode: str, *, log_txt: str, error: str, key: str) -> Path:
        """Record a failed entry: its log and the error; any stale results.txt is removed."""
        d = self.entry_dir(task_folder, mode)
        atomic_write(d / "log.txt", log_txt)
        stale = d / "results.txt"
        if stale.exists():
            stale.unlink()
        atomic_write(
            d / "results.json",
            json.dumps({"status": "failed", "config_key": key, "error": error}, indent=2) + "\n",
        )
        return d

    def completed(self, task_folder: str, mode: str, key: str) -> dict[str, Any] | None:
        """The entry's record when it is complete, intact and made with configuration `key`, else None
        (the reason is logged)."""
        d = self.entry_dir(task_folder, mode)
        path = d / "results.json"
        if not path.exists():
            return None
        try:
            doc = json.loads(path.read_text())
        except (OSError, ValueError) as e:
            log.warning("%s is unreadable (%s); running %s/%s again", path, e, task_folder, mode)
            return None
        if doc.get("status") != "complete":
            log.info("%s/%s did not complete last time; running it again", task_folder, mode)
            return None
        if doc.get("config_key") != key:
            log.warning("%s/%s was made with other settings; running it again", task_folder, mode)
            return None
        for f in FILES:
            p = d / f
            if not p.exists() or sha256(p) != doc.get("sha256", {}).get(f):
                log.warning(
                    "%s is missing or modified since it was written; running %s/%s again",
                    p,
                    task_folder,
                    mode,
                )
                return None
        return doc


def _jsonable(o: Any) -> Any:
    if hasattr(o, "tolist"):
        return o.tolist()
    if isinstance(o, Path):
        return str(o)
    raise TypeError(f"not JSON serialisable: {type(o).__name__}")
