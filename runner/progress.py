"""A small progress bar with ETA on stderr (host time); silent when disabled or stderr is not a terminal,
except for one line when a bar finishes."""

from __future__ import annotations

import sys
import time
from typing import TextIO


def _fmt(seconds: float) -> str:
    seconds = int(max(0, seconds))
    return f"{seconds // 3600:d}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


class Progress:
    """`Progress(total, label)`; call `advance(k)` as work finishes and `close()` at the end."""

    WIDTH = 28

    def __init__(self, total: int, label: str, *, enabled: bool = True, stream: TextIO | None = None):
        self.total = max(1, total)
        self.label = label
        self.stream = stream or sys.stderr
        self.enabled = enabled
        self.live = enabled and getattr(self.stream, "isatty", lambda: False)()
        self.done = 0
        self.t0 = time.monotonic()
        self._last = 0.0
        self._draw(force=True)

    def advance(self, k: int = 1) -> None:
        self.done = min(self.total, self.done + k)
        self._draw()

    def _line(self) -> str:
        frac = self.done / self.total
        bar = "#" * int(frac * self.WIDTH) + "-" * (self.WIDTH - int(frac * self.WIDTH))
        elapsed = time.monotonic() - self.t0
        eta = elapsed / self.done * (self.total - self.done) if self.done else 0.0
        return (
            f"{self.label:<24} [{bar}] {self.done}/{self.total} {_fmt(elapsed)} "
            f"ETA {_fmt(eta) if self.done else '?'}"
        )

    def _draw(self, force: bool = False) -> None:
        if not self.live:
            return
        now = time.monotonic()
        if force or now - self._last > 0.2 or self.done == self.total:
            self._last = now
            self.stream.write("\r" + self._line())
            self.stream.flush()

    def close(self) -> None:
        if self.live:
            self.stream.write("\r" + self._line() + "\n")
        elif self.enabled:
            self.stream.write(
                f"{self.label}: {self.done}/{self.total} in {_fmt(time.monotonic() - self.t0)}\n"
            )
        self.stream.flush()
