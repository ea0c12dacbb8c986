"""Which firmware image the simulated board runs: a user's image (`--firmware`), or our firmware built for the
task and mode from a .tflite (`--model`, default: the verified reference model)."""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tinyperf.errors import BuildError, RunnerError
from tinyperf.runner.models import md5, reference_model
from tinyperf.runner.tasks import Task

log = logging.getLogger("tinyperf.runner.firmware")


@dataclass
class Firmware:
    """An image plus what is known about it: the model it was built from (path, md5) and build facts
    (toolchain, flags, sizes) for systems/<system>.json."""

    image: Path | None
    model_path: Path | None
    model_md5: str | None
    model_source: str
    build: dict[str, Any] = field(default_factory=dict)

    @property
    def image_sha256(self) -> str | None:
        return hashlib.sha256(self.image.read_bytes()).hexdigest() if self.image else None


def provide(
    task: Task,
    mode: str,
    *,
    image: Path | None = None,
    model: Path | None = None,
    baud: int | None = None,
    build: bool = True,
) -> Firmware:
    """The firmware for `task` in `mode` (see module docstring). With `build=False` (a real board: the
    board runs whatever is flashed) only the model facts are gathered."""
    if image is not None:
        image = Path(image)
        if not image.is_file():
            raise RunnerError(f"firmware image {image} does not exist")
        m = Path(model) if model else None
        return Firmware(
            image,
            m,
            md5(m) if m else None,
            f"--model {m} (asserted for --firmware {image.name})" if m else f"--firmware {image.name}",
        )
    if model is None and not build:
        return Firmware(None, None, None, "the firmware on the board (no --model given)")
    if model is not None:
        model = Path(model)
        if not model.is_file():
            raise RunnerError(f"model {model} does not exist")
        source = f"--model {model.name}"
    else:
        model = reference_model(task.name)
        source = f"reference model {model.name}"
    fw = Firmware(None, model, md5(model), source)
    if not build:
        return fw
    try:
        from tinyperf.firmware.build import build_firmware
    except ImportError as e:
        raise RunnerError(
            f"cannot build firmware: tinyperf.firmware.build is not available ({e}); pass --firmware IMAGE"
        ) from None
    kwargs: dict[str, Any] = {"model": str(model), "mode": mode}
    if baud:
        kwargs["baud"] = baud
    try:
        result = build_firmware(task.name, **kwargs)
    except BuildError:
        raise
    fw.image = Path(result.elf)
    fw.build = {k: v for k, v in _facts(result).items() if v is not None}
    return fw


def _facts(result: Any) -> dict[str, Any]:
    """JSON-ready build facts of a BuildResult (toolchain, flags, section sizes in bytes, cache key)."""
    facts: dict[str, Any] = {}
    for name in ("mode", "baud", "toolchain", "toolchain_version", "cflags", "opt", "kernels", "key"):
        v = getattr(result, name, None)
        if v is not None:
            facts[name] = v if isinstance(v, (str, int, float, list, dict)) else str(v)
    sizes = getattr(result, "sizes", None) or []
    facts["sections"] = [
        {"name": s.name, "region": s.region, "bytes": s.size} if hasattr(s, "region") else str(s)
        for s in sizes
    ]
    return facts
