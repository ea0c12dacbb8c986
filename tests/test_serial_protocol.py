"""The protocol client and the serial backend against a scripted device on a real pty pair (os.openpty).

The fake device below speaks the EEMBC / MLPerf Tiny protocol of issue 4 with a virtual microsecond clock,
and misbehaves on request (garbage bytes, silence mid-load, e-[...] replies, another model). It stands in
for the device, not for the code under test (the runner's protocol client and serial transport).
"""

from __future__ import annotations

import os
import select
import threading
import tty

import pytest

from tinyperf.errors import ProtocolError, SerialTimeout
from tinyperf.runner.backends.base import BackendSpec
from tinyperf.runner.backends.serial import SerialBackend
from tinyperf.runner.protocol import DutClient, parse_results, sanitize

pytestmark = pytest.mark.unit


def fake_output(buf: bytes, classes: int) -> list[float]:
    """What the fake device 'infers': class sum(bytes) % classes with probability 0.996 (or, with one
    output, the mean byte value / 255 as an anomaly score)."""
    if classes == 1:
        return [round(sum(buf) / len(buf) / 255.0, 3)]
    out = [0.0] * classes
    out[sum(buf) % classes] = 0.996
    return out


class FakeDut(threading.Thread):
    """A scripted DUT on the master side of a pty. Options: `model` (profile reply), `placeholder`,
    `us_per_inference`, `lap_start` (µs; near 2**32 to test wrap), `garbage` (a garbage line before every
    reply), `stop_after_bytes` (stop answering once that many input bytes arrived), `error_on` (command
    prefix answered with e-[...]), `classes`, `loop_overhead_us` (µs per infer outside the loop)."""

    def __init__(
        self,
        fd: int,
        *,
        model="kws01",
        placeholder=False,
        us_per_inference=43_400,
        lap_start=1_000,
        garbage=False,
        stop_after_bytes=None,
        error_on=None,
        classes=12,
        loop_overhead_us=0,
        boot_banner=True,
    ):
        super().__init__(daemon=True)
        self.fd = fd
        self.model, self.placeholder, self.classes = model, placeholder, classes
        self.us = us_per_inference
        self.clock = lap_start
        self.overhead = loop_overhead_us
        self.garbage, self.stop_after, self.error_on = garbage, stop_after_bytes, error_on
        self.buf = bytearray()
        self.expected = 0
        self.received = 0
        self.silent = False
        self.commands: list[str] = []
        self.infers: list[tuple[int, int]] = []
        self._halt = threading.Event()
        self.boot_banner = boot_banner

    def send(self, *lines: str) -> None:
        data = b""
        if self.garbage:
            data += b"\xff\xfe\x00\x13noise\x80\r\n"
        data += b"".join(x.encode() + b"\r\n" for x in lines)
        os.write(self.fd, data)

    def stop(self) -> None:
        self._halt.set()

    def run(self) -> None:
        if self.boot_banner:
            self.send("m-timestamp-mode-performance", "m-init-done", "m-ready")
        pending = b""
        while not self._halt.is_set():
            r, _, _ = select.select([self.fd], [], [], 0.05)
            if not r:
                continue
            try:
                chunk = os.read(self.fd, 4096)
            except OSError:
                return
            pending += chunk
            while b"%" in pending:
                cmd, pending = pending.split(b"%", 1)
                if not self.silent:
                    self.handle(cmd.decode(errors="replace").strip())

    def handle(self, cmd: str) -> None:
        self.commands.append(cmd)
        if self.error_on and cmd.startswith(self.error_on):
            self.send(f"e-[Something went wrong with: {cmd}]", "m-ready")
            return
        args = cmd.split()
        out: list[str] = []
        if cmd == "name":
            out = ["m-name-dut-[fake dut]"]
        elif cmd == "profile":
            fw = "fake 1.0" + (" PLACEHOLDER model" if self.placeholder else "")
            out = [f"m-profile-[{fw}]", f"m-model-[{self.model}]"]
        elif args[:2] == ["db", "load"] and len(args) == 3:
            self.expected, self.buf = int(args[2]), bytearray()
            out = [f"m-[Expecting {self.expected} bytes]"]
        elif args[:1] == ["db"] and len(args) == 2:
            data = bytes.fromhex(args[1])
            self.received += len(data)
            if self.stop_after is not None and self.received >= self.stop_after:
                self.silent = True
                return
            self.buf += data
            if len(self.buf) >= self.expected:
                out = ["m-load-done"]
        elif args[:1] == ["infer"] and len(args) == 3:
            n, w = int(args[1]), int(args[2])
            self.infers.append((n, w))
            self.clock += w * self.us
            t0 = self.clock % (1 << 32)
            self.clock += n * self.us + self.overhead
            t1 = self.clock % (1 << 32)
            res = ",".join(f"{x:.3f}" for x in fake_output(bytes(self.buf), self.classes))
            out = [
                f"m-warmup-start-{w}",
                "m-warmup-done",
                f"m-infer-start-{n}",
                f"m-lap-us-{t0}",
                f"m-lap-us-{t1}",
                "m-infer-done",
                f"m-results-[{res}]",
            ]
        elif cmd == "results":
            out = [
                "m-results-[" + ",".join(f"{x:.3f}" for x in fake_output(bytes(self.buf), self.classes)) + "]"
            ]
        else:
            out = [f"e-[Unknown command: {cmd}]"]
        self.send(*out, "m-ready")


class PtyDut:
    """A FakeDut on a pty; `.port` is the slave path the runner opens."""

    def __init__(self, **options):
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)  # no echo of the device's output back to it before pyserial opens
        self.port = os.ttyname(self.slave)
        self.dut = FakeDut(self.master, **options)

    def __enter__(self):
        self.dut.start()
        return self

    def __exit__(self, *exc):
        self.dut.stop()
        self.dut.join(2)
        os.close(self.master)
        os.close(self.slave)


def open_client(port: str, **kw) -> tuple[SerialBackend, DutClient]:
    backend = SerialBackend(BackendSpec("serial", port=port))
    backend.open()
    return backend, DutClient(backend.transport, **{"command_timeout_s": 1.0, **kw})


def test_round_trip_on_pty():
    data = bytes(range(256)) * 2 + bytes(range(234))  # 746 bytes: several chunks
    with PtyDut(lap_start=(1 << 32) - 50_000) as p:  # the µs counter wraps inside the infer
        backend, dut = open_client(p.port)
        try:
            dut.sync()
            assert dut.name() == "fake dut"
            prof = dut.profile()
            assert (prof.model, prof.placeholder) == ("kws01", False)
            dut.load(data)
            r = dut.infer(10, 1, timeout_s=5)
            assert r.elapsed_us == 10 * 43_400
            assert r.results == fake_output(data, 12)
            assert dut.results() == fake_output(data, 12)
        finally:
            backend.close()
    assert "db load 746" in p.dut.commands
    chunks = [c for c in p.dut.commands if c.startswith("db ") and "load" not in c]
    assert len(chunks) == -(-746 // 32) and all(len(c) <= 3 + 64 for c in chunks)


def test_garbage_lines_are_tolerated_and_logged():
    with PtyDut(garbage=True) as p:
        backend, dut = open_client(p.port)
        try:
            dut.sync()
            dut.load(b"\x01" * 100)
            r = dut.infer(3, 0, timeout_s=5)
            assert r.results == fake_output(b"\x01" * 100, 12)
            assert dut.garbage_seen > 0
            assert any("[garbage]" in x for x in dut.transcript)
        finally:
            backend.close()


def test_too_much_garbage_is_a_clear_error():
    with PtyDut(garbage=True) as p:
        backend, dut = open_client(p.port, max_garbage=0)
        try:
            with pytest.raises(ProtocolError, match="garbage.*baud rate"):
                dut.name()
        finally:
            backend.close()


def test_device_that_stops_answering_mid_load():
    with PtyDut(stop_after_bytes=64) as p:
        backend, dut = open_client(p.port, command_timeout_s=0.3, retries=1)
        try:
            dut.sync()
            with pytest.raises(SerialTimeout, match=r"stopped answering while loading byte \d+ of 490"):
                dut.load(bytes(490))
        finally:
            backend.close()
    assert sum(c.startswith("db load") for c in p.dut.commands) == 1  # then silent: retry got no answer


def test_error_reply_is_raised_and_link_stays_in_step():
    with PtyDut(error_on="infer") as p:
        backend, dut = open_client(p.port)
        try:
            dut.sync()
            dut.load(bytes(490))
            with pytest.raises(ProtocolError, match=r"e-\[Something went wrong with: infer 5 0\]"):
                dut.infer(5, 0, timeout_s=2)
            assert dut.name() == "fake dut"  # the m-ready after the error was consumed
        finally:
            backend.close()


def test_unknown_command_error():
    with PtyDut() as p:
        backend, dut = open_client(p.port)
        try:
            dut.sync()
            with pytest.raises(ProtocolError, match="Unknown command: bogus"):
                dut.command("bogus")
        finally:
            backend.close()


def test_silent_device_times_out_with_retries():
    master, slave = os.openpty()
    tty.setraw(slave)
    try:
        backend, dut = open_client(os.ttyname(slave), command_timeout_s=0.2, retries=2)
        try:
            with pytest.raises(SerialTimeout, match="no m-ready within 0.2 s after 'name'"):
                dut.name()
        finally:
            backend.close()
        sent = os.read(master, 1000)
        assert sent == b"name%" * 3  # one try and two bounded retries
    finally:
        os.close(master)
        os.close(slave)


def test_parse_results_and_sanitize():
    assert parse_results("m-results-[0.000,0.996,0.004]") == [0.0, 0.996, 0.004]
    for bad in ("m-results-[]", "m-results-[0.1,x]", "m-result-[0.1]"):
        with pytest.raises(ProtocolError):
            parse_results(bad)
    assert sanitize(b"m-ready\r") == ("m-ready", False)
    assert sanitize(b"\xffm-ready")[1] is True
