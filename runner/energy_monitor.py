"""Energy monitors for real boards: energy between the EEMBC timestamp edges, measured on the DUT's supply.

EEMBC's energy setup powers the DUT through the monitor and wires the DUT's timestamp GPIO (PF13 on the
NUCLEO-L4R5ZI) to the monitor's general-purpose input IN0; the firmware pulls it low once before and once
after the timed inferences. Every falling edge of IN0 is a timestamp.

- `EdgeEnergyIntegrator`: the pure computation. Feed it sample chunks (current A, voltage V, IN0 bits) at a
  fixed sample rate (Hz); it integrates power (rectangle rule: E = sum(i * v) / fs, J) and records falling
  edges of IN0 (debounced: IN0 high for a few samples before each), with the cumulative energy at each.
- `energy_windows(...)`, `read_capture(path)`: the same on whole arrays and on a recorded .jls file (pyjls).
- `EnergyMonitor` (interface: start/stop/clear/edges/windows) and `JoulescopeMonitor` (the `joulescope`
  package, optional extra `tinyperf[joulescope]`).
Times are monitor seconds since the first sample; energies in J, powers in W.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from itertools import pairwise
from pathlib import Path

import numpy as np
from tinyperf.errors import RunnerError

log = logging.getLogger("tinyperf.runner.energy")

EXTRA = "pip install 'tinyperf[joulescope]'"
#: samples IN0 must stay high before a falling edge counts again (2-4 µs at 1-2 MHz; timestamps are
#: milliseconds apart)
DEBOUNCE_SAMPLES = 4
#: names the IN0 signal has in .jls recordings (Joulescope UI 1.x: "gpi[0]"), in order of preference
IN0_NAMES = ("gpi[0]", "in0", "IN0", "current_lsb")


@dataclass(frozen=True)
class MonitorEdge:
    """A falling edge of IN0: `seconds` since the first sample, `energy_J` integrated before it."""

    seconds: float
    energy_J: float


@dataclass(frozen=True)
class EnergyWindowJ:
    """Energy between two consecutive falling edges: seconds, J and average W."""

    t_start_s: float
    t_end_s: float
    energy_J: float
    avg_power_W: float

    def as_tuple(self) -> tuple[float, float, float, float]:
        return (self.t_start_s, self.t_end_s, self.energy_J, self.avg_power_W)


def windows_from_edges(edges: Sequence[MonitorEdge]) -> list[EnergyWindowJ]:
    """The windows between consecutive edges."""
    out = []
    for a, b in pairwise(edges):
        dt = b.seconds - a.seconds
        e = b.energy_J - a.energy_J
        out.append(EnergyWindowJ(a.seconds, b.seconds, e, e / dt if dt > 0 else 0.0))
    return out


class EdgeEnergyIntegrator:
    """Streaming integration of power and debounced falling-edge detection on IN0 (see module docstring).

    A falling edge counts when IN0 goes low after being high for at least `debounce` samples; it is dated
    at its first low sample and carries the energy of all samples before it. The low level itself may be
    a single sample (the firmware's timestamp pulse lasts 1-2 µs, 1-4 samples at 1-2 MHz); a bounce (high
    for fewer than `debounce` samples between lows) does not count again. Missing samples (NaN) count as
    0 W and are tallied in `missing_samples`.
    """

    def __init__(self, sample_rate_hz: float, debounce: int = DEBOUNCE_SAMPLES):
        if sample_rate_hz <= 0:
            raise RunnerError(f"sample rate must be > 0 Hz, got {sample_rate_hz}")
        self.fs = float(sample_rate_hz)
        self.debounce = max(1, int(debounce))
        self.samples = 0  # samples consumed
        self.energy_J = 0.0  # integrated over all consumed samples
        self.missing_samples = 0
        self.edges: list[MonitorEdge] = []
        self._last: int | None = None  # IN0 level of the last sample consumed
        self._high_run = 0  # samples IN0 has been high up to the last sample consumed

    def feed(self, current_A, voltage_V, in0, power_W=None) -> None:
        """Consume one chunk: arrays of equal length (power_W replaces current * voltage when given)."""
        if power_W is None:
            power_W = np.asarray(current_A, dtype=np.float64) * np.asarray(voltage_V, dtype=np.float64)
        p = np.asarray(power_W, dtype=np.float64)
        bits = (np.asarray(in0) != 0).astype(np.int8)
        n = len(p)
        if len(bits) != n:
            raise RunnerError(f"IN0 has {len(bits)} samples, power {n}: the signals are not aligned")
        if n == 0:
            return
        bad = ~np.isfinite(p)
        if bad.any():
            self.missing_samples += int(bad.sum())
            p = np.where(bad, 0.0, p)
        # energy before each sample of the chunk, J
        before = self.energy_J + np.concatenate(([0.0], np.cumsum(p[:-1]))) / self.fs
        starts = np.concatenate(([0], np.flatnonzero(np.diff(bits)) + 1))
        ends = np.concatenate((starts[1:], [n]))
        for s, e in zip(starts.tolist(), ends.tolist()):
            value = int(bits[s])
            continues = s == 0 and value == self._last
            if value:
                self._high_run = self._high_run + (e - s) if continues else e - s
            else:  # a low run continuing from the last chunk has _high_run == 0 already
                if self._high_run >= self.debounce:
                    self.edges.append(MonitorEdge((self.samples + s) / self.fs, float(before[s])))
                self._high_run = 0
        self._last = int(bits[-1])
        self.samples += n
        self.energy_J = float(before[-1] + p[-1] / self.fs)

    @property
    def seconds(self) -> float:
        """Monitor time consumed so far, s."""
        return self.samples / self.fs

    def windows(self) -> list[EnergyWindowJ]:
        return windows_from_edges(self.edges)


def energy_windows(
    current_A, voltage_V, in0, sample_rate_hz: float, debounce: int = DEBOUNCE_SAMPLES
) -> list[EnergyWindowJ]:
    """Energy per window between falling edges of IN0 in whole arrays; RunnerError with fewer than two
    edges (nothing to measure)."""
    integ = EdgeEnergyIntegrator(sample_rate_hz, debounce)
    integ.feed(current_A, voltage_V, in0)
    return require_windows(integ, "the samples")


def require_windows(integ: EdgeEnergyIntegrator, what: str) -> list[EnergyWindowJ]:
    if len(integ.edges) < 2:
        raise RunnerError(
            f"{what}: {len(integ.edges)} falling edge(s) of IN0 in {integ.seconds:.3f} s, at least 2 needed; "
            f"is the DUT's timestamp pin (PF13) wired to the Joulescope IN0 and the energy build running?"
        )
    return integ.windows()


# --- recorded captures (.jls) -------------------------------------------------------------------------


def _import(name: str):
    try:
        return __import__(name)
    except ImportError:
        raise RunnerError(f"the {name!r} package is not installed; {EXTRA}") from None


def _signal(reader, names: Iterable[str]):
    for sig in reader.signals.values():
        if sig.name in names:
            return sig
    return None


def _unpack(raw, data_type, types, k: int):
    """IN0 samples from pyjls' packed u1 (8 per byte, LSB first) or u4 (2 per byte) data."""
    if data_type == types.U1:
        return np.unpackbits(raw, bitorder="little")[:k]
    if data_type == types.U4:
        return np.stack((raw & 0x0F, raw >> 4), axis=1).reshape(-1)[:k]
    return raw


def read_capture(
    path: str | Path, debounce: int = DEBOUNCE_SAMPLES, chunk: int = 1 << 20
) -> EdgeEnergyIntegrator:
    """Integrate a Joulescope .jls recording (signals current+voltage or power, and IN0 as one of
    `IN0_NAMES`) in chunks of `chunk` samples; returns the integrator (`.edges`, `.windows()`)."""
    pyjls = _import("pyjls")
    path = Path(path)
    if not path.is_file():
        raise RunnerError(f"energy capture {path} does not exist")
    try:
        reader = pyjls.Reader(str(path))
    except (RuntimeError, ValueError, OSError) as e:  # pyjls: RuntimeError on a corrupt header
        raise RunnerError(f"{path}: not a readable JLS file ({e})") from None
    with reader:
        cur, volt = _signal(reader, ("current",)), _signal(reader, ("voltage",))
        pwr, gpi = _signal(reader, ("power",)), _signal(reader, IN0_NAMES)
        names = sorted(s.name for s in reader.signals.values())
        if gpi is None or not ((cur and volt) or pwr):
            raise RunnerError(
                f"{path}: needs current and voltage (or power) and IN0 ({' or '.join(IN0_NAMES)}); "
                f"it has {names}. Record with the general-purpose inputs enabled."
            )
        used = [cur, volt] if cur and volt else [pwr]
        rates = {s.sample_rate for s in used + [gpi]}
        if len(rates) != 1:
            raise RunnerError(f"{path}: signals have different sample rates {sorted(rates)} Hz")
        n = min(s.length for s in used + [gpi])
        chunk = max(8, chunk - chunk % 8)  # pyjls misreads packed u1 data at unaligned starts near the end
        integ = EdgeEnergyIntegrator(rates.pop(), debounce)
        for start in range(0, n, chunk):
            k = min(chunk, n - start)
            bits = _unpack(reader.fsr(gpi.signal_id, start, k), gpi.data_type, pyjls.DataType, k)
            if cur and volt:
                integ.feed(reader.fsr(cur.signal_id, start, k), reader.fsr(volt.signal_id, start, k), bits)
            else:
                integ.feed(None, None, bits, power_W=reader.fsr(pwr.signal_id, start, k))
    if integ.missing_samples:
        log.warning("%s: %d missing samples counted as 0 W", path, integ.missing_samples)
    return integ


def capture_report(path: str | Path, inferences: int | None = None) -> str:
    """Text table of the windows of a .jls capture (µJ, mW; per inference when `inferences` is given)."""
    integ = read_capture(path)
    wins = require_windows(integ, str(path))
    lines = [f"{path}: {len(integ.edges)} timestamp edges, {integ.seconds:.3f} s at {integ.fs:g} Hz"]
    for k, w in enumerate(wins):
        per = f", {w.energy_J * 1e6 / inferences:.3f} uJ/inf" if inferences else ""
        lines.append(
            f"  window {k}: {w.t_start_s:.6f} s .. {w.t_end_s:.6f} s  {w.energy_J * 1e6:.3f} uJ  "
            f"{w.avg_power_W * 1e3:.4f} mW{per}"
        )
    return "\n".join(lines) + "\n"


# --- live monitors --------------------------------------------------------------------------------------


class EnergyMonitor:
    """Interface the serial backend uses in energy mode: `start()` streaming, `clear()` recorded edges,
    `edges(settle_s)` falling edges of IN0 so far, `windows()`, `stop()`, `close()`."""

    name = "none"

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def close(self) -> None:
        self.stop()

    def clear(self) -> None: ...

    def edges(self, settle_s: float = 0.0) -> list[MonitorEdge]:
        return []

    def windows(self, settle_s: float = 0.0) -> list[EnergyWindowJ]:
        return windows_from_edges(self.edges(settle_s))

    def describe(self) -> dict:
        return {"energy_monitor": self.name}


class _StreamProcessor:
    """joulescope stream-process object: integrates new samples on the USB thread (`stream_notify`)."""

    def __init__(self, integ: EdgeEnergyIntegrator):
        self.integ = integ
        self.lock = threading.Lock()
        self.next_id: int | None = None
        self.error: str | None = None
        self.driver_active = True  # joulescope's protocol: False after an exception

    def stream_notify(self, stream_buffer) -> bool:
        """New samples arrived; returns False to keep streaming."""
        try:
            start, end = stream_buffer.sample_id_range
            first = start if self.next_id is None else max(self.next_id, start)
            if self.next_id is not None and first > self.next_id:
                log.warning("Joulescope: %d samples lost (host too slow)", first - self.next_id)
            if end > first:
                d = stream_buffer.samples_get(first, end, fields=["current", "voltage", "current_lsb"])
                d = d["signals"]
                with self.lock:
                    self.integ.feed(d["current"]["value"], d["voltage"]["value"], d["current_lsb"]["value"])
                self.next_id = end
        except Exception as e:  # noqa: BLE001 -- keep the USB thread alive; edges() reports it
            self.error = f"{type(e).__name__}: {e}"
            return True  # stop streaming
        return False

    def close(self) -> None:
        """Called by joulescope after an exception in stream_notify; the monitor owns the device."""


class JoulescopeMonitor(EnergyMonitor):
    """A Joulescope (JS110/JS220) through the `joulescope` 1.x package: auto current range, IO voltage
    `io_voltage`, IN0 mapped into the sample stream (`current_lsb`), integrated on the fly (no samples are
    kept). `sampling_frequency` (Hz) None keeps the device's full rate (JS110 2 MHz, JS220 1 MHz)."""

    name = "joulescope"

    def __init__(
        self,
        serial_number: str | None = None,
        io_voltage: str = "3.3V",
        sampling_frequency: int | None = None,
        debounce: int = DEBOUNCE_SAMPLES,
    ):
        self.serial_number = serial_number
        self.io_voltage = io_voltage
        self.sampling_frequency = sampling_frequency
        self.debounce = debounce
        self.js = None
        self._proc: _StreamProcessor | None = None
        self._cleared = 0  # edges before this index were cleared

    def open(self) -> None:
        joulescope = _import("joulescope")
        devices = joulescope.scan(config="auto")
        if self.serial_number:
            devices = [d for d in devices if self.serial_number in str(d)]
        which = f" with serial number {self.serial_number}" if self.serial_number else ""
        if not devices:
            raise RunnerError(f"no Joulescope{which} found on USB; connect it (see runner/README.md wiring)")
        if len(devices) > 1:
            raise RunnerError(
                f"{len(devices)} Joulescopes found ({', '.join(map(str, devices))}); pick one with --joulescope SERIAL"
            )
        js = devices[0]
        js.open()
        try:
            js.parameter_set("i_range", "auto")
            js.parameter_set("io_voltage", self.io_voltage)
            js.parameter_set("current_lsb", "gpi0")  # JS110: IN0 in the current LSB; JS220 streams gpi0
            js.parameter_set("voltage_lsb", "gpi1")
            if self.sampling_frequency:
                js.parameter_set("sampling_frequency", int(self.sampling_frequency))
        except Exception:
            js.close()
            raise
        self.js = js

    def start(self) -> None:
        if self.js is None:
            self.open()
        fs = float(self.js.stream_buffer.output_sampling_frequency)
        self._proc, self._cleared = _StreamProcessor(EdgeEnergyIntegrator(fs, self.debounce)), 0
        self.js.stream_process_register(self._proc)
        self.js.start()

    def stop(self) -> None:
        if self.js is not None:
            self.js.stop()
            if self._proc is not None:
                self.js.stream_process_unregister(self._proc)

    def close(self) -> None:
        if self.js is not None:
            self.stop()
            self.js.close()
            self.js = None

    def clear(self) -> None:
        if self._proc is not None:
            with self._proc.lock:
                self._cleared = len(self._proc.integ.edges)

    def edges(self, settle_s: float = 0.25) -> list[MonitorEdge]:
        """Edges since `clear()`, after waiting until samples up to `settle_s` past this call arrived (the
        USB stream lags the serial line); RunnerError when the stream failed or stalls."""
        proc = self._proc
        if proc is None:
            return []
        deadline = time.monotonic() + settle_s + 2.0
        target = proc.integ.seconds + settle_s
        while proc.integ.seconds < target and proc.error is None:
            if time.monotonic() > deadline:
                raise RunnerError(
                    "Joulescope: the sample stream stalled (no data for 2 s); check the USB link"
                )
            time.sleep(0.02)
        if proc.error:
            raise RunnerError(f"Joulescope: streaming failed: {proc.error}")
        with proc.lock:
            return list(proc.integ.edges[self._cleared :])

    @property
    def integrator(self) -> EdgeEnergyIntegrator | None:
        return self._proc.integ if self._proc else None

    def describe(self) -> dict:
        d = {"energy_monitor": self.name, "io_voltage": self.io_voltage}
        if self.js is not None:
            d["device"] = str(self.js)
        return d


MONITORS = ("none", "joulescope")


def make_monitor(kind: str | None, **options) -> EnergyMonitor | None:
    """The monitor `kind` names (None for "none"/None); checks the package is installed first."""
    if kind in (None, "none"):
        return None
    if kind == "joulescope":
        _import("joulescope")
        return JoulescopeMonitor(**{k: v for k, v in options.items() if v is not None})
    raise RunnerError(f"unknown energy monitor {kind!r}; choose one of {', '.join(MONITORS)}")
