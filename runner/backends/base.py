"""The interface the runner drives a device under test through, and a picklable spec to create one.

Call order: 1. `open()` (or `with backend:`), 2. `reset()` then `DutClient(backend.transport).sync()`,
3. the procedure; during `infer` commands an energy-capable backend records timestamp edges, read with
`timestamp_edges()` (device seconds and cumulative µJ at each edge), 4. `close()`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from tinyperf.runner.protocol import Transport

#: Baud rate per benchmark mode (EEMBC: energy mode runs the DUT UART at 9600 through the IO manager).
DEFAULT_BAUD = {"performance": 115200, "accuracy": 115200, "energy": 9600}


@dataclass(frozen=True)
class Edge:
    """A timestamp edge: device time in seconds since reset and the energy consumed so far in µJ (None when
    the backend has no energy measurement)."""

    seconds: float
    energy_uJ: float | None


@dataclass(frozen=True)
class EnergyWindow:
    """Energy between two timestamp edges: µJ over seconds; `avg_power_mW` = µJ / s / 1000."""

    seconds: float
    energy_uJ: float

    @property
    def avg_power_mW(self) -> float:
        return self.energy_uJ / self.seconds / 1000.0 if self.seconds > 0 else 0.0


def energy_between(a: Edge, b: Edge) -> EnergyWindow | None:
    """The window from edge `a` to edge `b`, or None when either edge carries no energy."""
    if a.energy_uJ is None or b.energy_uJ is None:
        return None
    return EnergyWindow(b.seconds - a.seconds, b.energy_uJ - a.energy_uJ)


@dataclass(frozen=True)
class BackendSpec:
    """Everything needed to open a backend in another process: `kind` "sim" or "serial"; `image` the firmware
    (sim); `port` a path or None to search by USB VID:PID (serial); `mode` selects UART and baud."""

    kind: str
    mode: str = "performance"
    image: str | None = None
    port: str | None = None
    baud: int | None = None
    board: str = "nucleo_l4r5zi"
    options: dict[str, Any] = field(default_factory=dict)


class Backend(ABC):
    """A device under test reachable through a `Transport` (see module docstring)."""

    simulated: bool = False
    transport: Transport

    @abstractmethod
    def open(self) -> None: ...

    @abstractmethod
    def close(self) -> None: ...

    @abstractmethod
    def reset(self) -> None:
        """Restart the firmware (power-on state); a backend that cannot reset logs why and returns."""

    def device_seconds(self) -> float | None:
        """Device time in seconds since reset when the backend knows it (simulated board), else None."""
        return None

    def clear_edges(self) -> None:
        """Forget recorded timestamp edges."""

    def timestamp_edges(self) -> list[Edge]:
        """Timestamp edges (falling edges of the timestamp GPIO) recorded since `clear_edges()`."""
        return []

    @property
    def measures_energy(self) -> bool:
        return False

    def describe(self) -> dict[str, Any]:
        """Facts for systems/<system>.json (engine, port, simulated or real)."""
        return {"simulated": self.simulated}

    def __enter__(self) -> "Backend":
        self.open()
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def make_backend(spec: BackendSpec) -> Backend:
    """Create (not open) the backend a spec describes."""
    from tinyperf.errors import RunnerError

    if spec.kind == "sim":
        from tinyperf.runner.backends.sim import SimBackend

        return SimBackend(spec)
    if spec.kind == "serial":
        from tinyperf.runner.backends.serial import SerialBackend

        return SerialBackend(spec)
    raise RunnerError(f"unknown backend {spec.kind!r}; choose sim or serial")
