"""In-process simulated board backend (the default): the firmware image runs on `tinyperf.sim.SimBoard`.

The transport is the board's console UART (LPUART1) in performance and accuracy mode and the energy UART
(USART3, from the board description) in energy mode. Reading a line runs the simulation until the device
has sent `\\n`, so every timeout and every timestamp is in simulated seconds. In energy mode a listener on
the timestamp GPIO (PF13 in the board description) records each falling edge with the simulated time and
the energy the energy model has accounted so far (µJ), which gives the energy between timestamp edges.
"""

from __future__ import annotations

import logging
import types
from typing import Any

from tinyperf.errors import RunnerError, SerialTimeout, SimTimeout
from tinyperf.runner.backends.base import Backend, BackendSpec, Edge

log = logging.getLogger("tinyperf.runner.sim")


class SimTransport:
    """`Transport` over a simulated UART stream (`send(bytes)`, `expect(pattern, timeout_s)`, `received`);
    its clock is the board's simulated time in seconds."""

    def __init__(self, board, stream, name: str):
        self.board = board
        self.stream = stream
        self.name = name

    def now(self) -> float:
        return float(self.board.seconds)

    def write(self, data: bytes) -> None:
        self.stream.send(data)

    def read_line(self, timeout_s: float) -> bytes:
        try:
            line = self.stream.expect(b"\n", timeout_s=max(timeout_s, 1e-6))
        except SimTimeout as e:
            raise SerialTimeout(f"{self.name}: {e}") from None
        return line[:-1]


def _stream_for(board, uart_name: str):
    """The in-process stream of `uart_name`: the board's console when it is that UART, else a stream
    attached to the UART model's tx_listeners."""
    console = getattr(board, "console", None)
    if console is not None and getattr(console, "name", None) == uart_name:
        return console
    for attr in ("stream", "uart_stream"):
        fn = getattr(board, attr, None)
        if callable(fn):
            return fn(uart_name)
    from tinyperf.sim.console import ConsoleStream

    return ConsoleStream(board, types.SimpleNamespace(uart=board.uart(uart_name)))


class SimBackend(Backend):
    """The simulated NUCLEO-L4R5ZI (see module docstring)."""

    simulated = True
    timeout_scale = 1.0

    def __init__(self, spec: BackendSpec):
        if not spec.image:
            raise RunnerError(
                "the simulated board needs a firmware image (--firmware, or let tinyperf build one)"
            )
        self.spec = spec
        self.board = None
        self._edges: list[Edge] = []

    def _platform(self):
        from tinyperf.platforms import load_board

        return load_board(self.spec.board)

    def open(self) -> None:
        try:
            from tinyperf.sim import SimBoard
        except ImportError as e:
            raise RunnerError(f"the simulated board is not available ({e})") from None
        plat = self._platform()
        self.board = SimBoard.from_image(self.spec.image, board=self.spec.board)
        if self.spec.mode == "energy":
            uart = plat.raw.get("energy_uart", {}).get("uart", "USART3")
            pin = plat.raw.get("timestamp_gpio", "PF13")
            port = self.board.peripheral(f"GPIO{pin[1]}")
            port.listeners.append(self._on_gpio(pin))
        else:
            uart = plat.console.get("uart", "LPUART1")
        self.transport = SimTransport(self.board, _stream_for(self.board, uart), f"sim:{uart}")

    def _on_gpio(self, pin: str):
        def listener(name: str, level: int, cycles: int) -> None:
            if name == pin and level == 0:
                self._edges.append(Edge(float(self.board.seconds), self._energy_uJ()))

        return listener

    def _energy_uJ(self) -> float | None:
        """Cumulative energy (µJ) from the energy model: `counter.energy_uJ` (cheap, preferred), else
        `board.energy_uJ`, else `counter.snapshot()["energy_uJ"]`; None when the model provides none."""
        counter = getattr(self.board, "counter", None)
        for obj in (counter, self.board):
            value = getattr(obj, "energy_uJ", None)
            if value is not None:
                return float(value() if callable(value) else value)
        if counter is not None:
            snap = counter.snapshot()
            if "energy_uJ" in snap:
                return float(snap["energy_uJ"])
        return None

    def close(self) -> None:
        board, self.board = self.board, None
        if board is not None and hasattr(board, "close"):
            board.close()

    def reset(self) -> None:
        """The board was created at power-on in open(); a later reset re-creates it."""
        if self.board is not None and self.board.cycles > 0 and hasattr(self.board, "reset"):
            self.board.reset()

    def device_seconds(self) -> float | None:
        return float(self.board.seconds) if self.board is not None else None

    def clear_edges(self) -> None:
        self._edges.clear()

    def timestamp_edges(self) -> list[Edge]:
        return list(self._edges)

    @property
    def measures_energy(self) -> bool:
        return self.spec.mode == "energy" and self.board is not None and self._energy_uJ() is not None

    def describe(self) -> dict[str, Any]:
        return {"simulated": True, "backend": "sim", "board": self.spec.board, "image": self.spec.image}
