"""Serial backend: a NUCLEO-L4R5ZI on its ST-LINK virtual COM port, or the simulated board's pty
(`tinyperf sim IMAGE --pty`), through pyserial. Lines are framed on `\\n`; timeouts are host seconds.

The port is a path (/dev/ttyACM0, /dev/pts/5, COM3) or, when none is given, the first USB serial port with an
ST-LINK VID:PID (V2-1 0483:374B, V3 0483:374E). Baud per mode: 115200 for performance and accuracy
(921600 with --baud), 9600 for energy. Reset: pyocd when installed and a probe is named, else a DTR pulse
(the NUCLEO's ST-LINK does not wire DTR to NRST on every firmware: then the handshake alone re-synchronises).
Energy mode: an energy monitor (options["energy_monitor"] = "joulescope", see runner/energy_monitor.py)
streams while the port is open; its IN0 falling edges, with the energy integrated up to each, are the
timestamp edges (monitor seconds, µJ).
"""

from __future__ import annotations

import logging
import time
from typing import Any

from tinyperf.errors import RunnerError, SerialTimeout
from tinyperf.runner.backends.base import DEFAULT_BAUD, Backend, BackendSpec, Edge

log = logging.getLogger("tinyperf.runner.serial")

#: ST-LINK USB IDs (vendor, product): ST-LINK/V2-1 and ST-LINK/V3 virtual COM ports.
ST_LINK_IDS = ((0x0483, 0x374B), (0x0483, 0x374E))
MAX_LINE = 64 * 1024  # bytes; a longer line without \n is garbage, not a reason to run out of memory


def find_st_link_port() -> str:
    """Path of the first serial port whose USB VID:PID is an ST-LINK; RunnerError when there is none."""
    from serial.tools import list_ports

    ports = [p for p in list_ports.comports() if (p.vid, p.pid) in ST_LINK_IDS]
    if not ports:
        ids = ", ".join(f"{v:04X}:{p:04X}" for v, p in ST_LINK_IDS)
        raise RunnerError(f"no ST-LINK serial port found (USB {ids}); connect the board or pass --port PATH")
    if len(ports) > 1:
        log.warning(
            "several ST-LINK ports (%s); using %s", ", ".join(p.device for p in ports), ports[0].device
        )
    return ports[0].device


class SerialTransport:
    """`Transport` over an open pyserial port (host clock)."""

    def __init__(self, ser, name: str):
        self.ser = ser
        self.name = name
        self._buf = bytearray()

    def now(self) -> float:
        return time.monotonic()

    def write(self, data: bytes) -> None:
        self.ser.write(data)
        self.ser.flush()

    def read_line(self, timeout_s: float) -> bytes:
        deadline = time.monotonic() + max(timeout_s, 0.0)
        while True:
            i = self._buf.find(b"\n")
            if i >= 0:
                line = bytes(self._buf[:i])
                del self._buf[: i + 1]
                return line
            if len(self._buf) > MAX_LINE:
                line = bytes(self._buf)
                self._buf.clear()
                return line
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise SerialTimeout(
                    f"{self.name}: no complete line within {timeout_s:g} s "
                    f"(partial: {bytes(self._buf[-40:])!r})"
                )
            self.ser.timeout = min(remaining, 0.1)
            chunk = self.ser.read(max(1, self.ser.in_waiting))
            if chunk:
                self._buf += chunk

    def drain(self) -> bytes:
        """Discard whatever the device sent and nobody read yet; returns it."""
        pending = bytes(self._buf) + self.ser.read(self.ser.in_waiting)
        self._buf.clear()
        return pending


class SerialBackend(Backend):
    """A device on a serial port (see module docstring)."""

    simulated = False

    def __init__(self, spec: BackendSpec):
        self.spec = spec
        self.port = spec.port
        self.baud = spec.baud or DEFAULT_BAUD.get(spec.mode, 115200)
        self.ser = None
        #: multiplies device-time estimates used as host-time timeouts; a pty is usually the simulated board,
        #: which may run slower than the real one (override with options["timeout_scale"])
        default_scale = 50.0 if str(self.port or "").startswith("/dev/pts/") else 1.0
        self.timeout_scale = float(spec.options.get("timeout_scale", default_scale))
        #: seconds to wait for the boot banner's m-ready after a reset (before the handshake)
        self.boot_timeout_s = float(spec.options.get("boot_timeout_s", 1.0))
        self.monitor = None
        if spec.mode == "energy":
            from tinyperf.runner.energy_monitor import make_monitor

            self.monitor = make_monitor(
                spec.options.get("energy_monitor"), serial_number=spec.options.get("joulescope_serial")
            )

    def open(self) -> None:
        import serial

        self.port = self.port or find_st_link_port()
        try:
            self.ser = serial.Serial(self.port, self.baud, timeout=0.1, write_timeout=5.0)
        except (serial.SerialException, OSError) as e:
            raise RunnerError(
                f"cannot open serial port {self.port}: {e}; check the path and permissions (dialout group)"
            ) from None
        self.transport = SerialTransport(self.ser, self.port)
        if self.monitor is not None:
            try:
                self.monitor.start()
            except BaseException:
                self.close()
                raise

    def close(self) -> None:
        if self.monitor is not None:
            self.monitor.close()
        if self.ser is not None:
            self.ser.close()
            self.ser = None

    def reset(self) -> None:
        probe = self.spec.options.get("probe")
        if probe is not None:
            try:
                from pyocd.core.helpers import ConnectHelper
            except ImportError:
                log.warning("pyocd is not installed (pip install 'tinyperf[flash]'); resetting through DTR")
            else:
                with ConnectHelper.session_with_chosen_probe(unique_id=probe or None) as session:
                    session.target.reset()
                time.sleep(0.2)
                self.transport.drain()
                return
        try:
            self.ser.dtr = False
            time.sleep(0.05)
            self.ser.dtr = True
        except OSError as e:  # a pty has no modem lines: nothing reboots, so no boot banner to wait for
            log.debug("%s: no DTR reset (%s); relying on the handshake", self.port, e)
            self.boot_timeout_s = 0.0
        time.sleep(0.05)
        self.transport.drain()

    def clear_edges(self) -> None:
        if self.monitor is not None:
            self.monitor.clear()

    def timestamp_edges(self) -> list[Edge]:
        if self.monitor is None:
            return []
        return [Edge(e.seconds, e.energy_J * 1e6) for e in self.monitor.edges()]

    @property
    def measures_energy(self) -> bool:
        return self.monitor is not None

    def describe(self) -> dict[str, Any]:
        d = {"simulated": False, "backend": "serial", "port": self.port, "baud": self.baud}
        if self.monitor is not None:
            d.update(self.monitor.describe())
        return d
