"""The console UART seen from the host, in process: send bytes, wait (in simulated time) for a reply.

    board.console.send(b"name%")
    out = board.console.expect(b"m-ready", timeout_s=5.0)   # simulated seconds

`expect` runs the board until the pattern appears in what the device transmitted; it stops the CPU at the
cycle the matching byte finished shifting out, so the simulated time after `expect` is exact.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from tinyperf.errors import SimTimeout

if TYPE_CHECKING:
    from tinyperf.sim.board import SimBoard
    from tinyperf.sim.uart_host import UartHost


class ConsoleStream:
    """In-process endpoint of a UART: `received` holds device output not yet consumed by expect/read."""

    def __init__(self, board: SimBoard, host: UartHost):
        self.board = board
        self.host = host
        self.received = bytearray()
        self._pattern: re.Pattern[bytes] | None = None
        self._seen = False           # the pattern of the running expect() is in `received`
        host.uart.tx_listeners.append(self._on_tx)

    @property
    def name(self) -> str:
        return self.host.uart.name

    def _on_tx(self, data: bytes) -> None:
        self.received += data
        # `received` only grows while expect() runs, so once the pattern matched it stays matched
        if self._pattern is not None and (self._seen or self._pattern.search(self.received)):
            self._seen = True
            self.board.request_stop()

    def send(self, data: bytes) -> None:
        """Queue bytes for the device's receiver; they arrive one per frame time at its baud rate."""
        self.host.uart.host_send(bytes(data))
        self.board.invalidate_events()

    def read(self) -> bytes:
        """Everything received and not yet consumed (consumes it)."""
        data, self.received = bytes(self.received), bytearray()
        return data

    def expect(self, pattern: bytes | re.Pattern[bytes], timeout_s: float = 5.0) -> bytes:
        """Run the simulation until `pattern` (bytes or compiled bytes regex) is received; returns all
        bytes up to and including the match and consumes them. `timeout_s` is SIMULATED seconds; on
        timeout raises SimTimeout naming what arrived instead."""
        regex = pattern if isinstance(pattern, re.Pattern) else re.compile(re.escape(bytes(pattern)))
        self._pattern = regex
        try:
            match = regex.search(self.received)
            if match is None:
                self._seen = False
                self.board.run(max_seconds=timeout_s, stop_when=lambda: self._seen, limit_is_error=False)
                match = regex.search(self.received)
            if match is None:
                tail = bytes(self.received[-200:])
                raise SimTimeout(f"{self.name}: {regex.pattern!r} not received within {timeout_s} simulated "
                                 f"seconds (at {self.board.seconds:.6f} s); last bytes received: {tail!r}")
            out = bytes(self.received[: match.end()])
            del self.received[: match.end()]
            return out
        finally:
            self._pattern = None
            self._seen = False
