"""Host side of the EEMBC / MLPerf Tiny device protocol, independent of how the bytes travel.

A `DutClient` drives a device under test over a `Transport` (write bytes; read one `\\n`-terminated line
with a timeout; a clock). Commands end with `%`; the device answers with `m-...` lines and ends every
command with `m-ready`; `e-[...]` lines are errors (raised as ProtocolError after the `m-ready`, so the link
stays in step). Lines with bytes outside printable ASCII are garbage: tolerated (and logged) up to
`max_garbage` per command, then a ProtocolError. Timeouts are in the transport's clock (simulated seconds
on the simulated board, host seconds on a serial port) and raise SerialTimeout naming the command and the
last lines seen.

Call order: 1. `sync()` (m-ready handshake), 2. `name()`, `profile()`, 3. per stimulus `load(data)`,
`infer(n, warmups)`, 4. `results()` if needed. `transcript` keeps every line both ways for log.txt.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from typing import Protocol

from tinyperf.errors import ProtocolError, SerialTimeout

log = logging.getLogger("tinyperf.runner.protocol")

READY = "m-ready"
LAP_RE = re.compile(r"^m-lap-us-(\d+)$")
RESULTS_RE = re.compile(r"^m-results-\[(.*)\]$")
NAME_RE = re.compile(r"^m-name-dut-\[(.*)\]$")
PROFILE_RE = re.compile(r"^m-profile-\[(.*)\]$")
MODEL_RE = re.compile(r"^m-model-\[(.*)\]$")
MODEL_HASH_RE = re.compile(r"^m-model-(?:md5|hash)-\[([0-9a-fA-F]{32})\]$")
EXPECT_RE = re.compile(r"^m-\[Expecting (\d+) bytes\]$")
LAP_WRAP = 1 << 32  # m-lap-us comes from a free-running 32-bit µs counter


class Transport(Protocol):
    """A byte link to a device. `read_line` returns one line without its `\\n` (bytes, may hold `\\r` or
    garbage) or raises SerialTimeout after `timeout_s` in the transport's clock; `now()` is that clock in
    seconds; `name` says what the link is (for error messages)."""

    name: str

    def write(self, data: bytes) -> None: ...

    def read_line(self, timeout_s: float) -> bytes: ...

    def now(self) -> float: ...


@dataclass(frozen=True)
class Profile:
    """What `profile` reported. `placeholder` is True when the firmware says its model is a placeholder
    (FIRMWARE marks it in the reply); results of such firmware are never published."""

    firmware: str
    model: str
    model_md5: str | None
    placeholder: bool
    lines: tuple[str, ...]


@dataclass
class InferResult:
    """One `infer N W` exchange. `elapsed_us` is end-start of the two m-lap-us timestamps (32-bit wrap
    handled), None when the firmware timestamps on a GPIO instead (energy mode)."""

    iterations: int
    warmups: int
    lap_us: list[int]
    results: list[float] | None
    lines: list[str] = field(default_factory=list)

    @property
    def elapsed_us(self) -> int | None:
        if len(self.lap_us) < 2:
            return None
        return (self.lap_us[-1] - self.lap_us[-2]) % LAP_WRAP


def parse_results(line: str) -> list[float]:
    """`m-results-[0.000,0.996,...]` -> list of floats; ProtocolError for anything else."""
    m = RESULTS_RE.match(line)
    if not m:
        raise ProtocolError(f"expected m-results-[...], got {line!r}")
    body = m.group(1).strip()
    if not body:
        raise ProtocolError(f"empty result vector in {line!r}; the firmware ran no inference?")
    try:
        return [float(x) for x in body.split(",")]
    except ValueError:
        raise ProtocolError(f"result vector is not a list of numbers: {line!r}") from None


def sanitize(raw: bytes) -> tuple[str, bool]:
    """Decode one line; returns (text, is_garbage). Trailing CR and NULs are dropped; any other byte outside
    printable ASCII makes the line garbage (its printable part is returned for the log)."""
    raw = raw.rstrip(b"\r\x00")
    text = raw.decode("ascii", errors="replace")
    clean = "".join(c for c in text if " " <= c <= "~")
    return clean.strip(), clean != text


class DutClient:
    """Protocol client (see module docstring). `retries` bounds how often an idempotent command or a whole
    load is retried after a timeout; `chunk_bytes` is the payload per `db <hex>` command (the EEMBC command
    buffer holds 80 characters: `db ` + 64 hex digits + `%` fits)."""

    def __init__(
        self,
        transport: Transport,
        *,
        command_timeout_s: float = 2.0,
        retries: int = 2,
        chunk_bytes: int = 32,
        max_garbage: int = 16,
    ):
        self.t = transport
        self.command_timeout_s = command_timeout_s
        self.retries = retries
        self.chunk_bytes = chunk_bytes
        self.max_garbage = max_garbage
        self.transcript: list[str] = []
        self.garbage_seen = 0

    # -- low level ---------------------------------------------------------------------------------------
    def _send(self, cmd: str) -> None:
        self.transcript.append(f"> {cmd}")
        self.t.write(cmd.encode("ascii") + b"%")

    def _collect(self, cmd: str, timeout_s: float) -> list[str]:
        """Lines up to and including m-ready; raises on timeout, too much garbage or an e- reply."""
        deadline = self.t.now() + timeout_s
        lines: list[str] = []
        errors: list[str] = []
        garbage = 0
        while True:
            remaining = deadline - self.t.now()
            if remaining <= 0:
                self._timeout(cmd, timeout_s, lines)
            try:
                raw = self.t.read_line(remaining)
            except SerialTimeout:
                self._timeout(cmd, timeout_s, lines)
            text, bad = sanitize(raw)
            if bad:
                garbage += 1
                self.garbage_seen += 1
                self.transcript.append(f"< [garbage] {raw!r}")
                log.warning("%s: garbage line from device after %r: %r", self.t.name, cmd, raw[:60])
                if garbage > self.max_garbage:
                    raise ProtocolError(
                        f"{self.t.name}: device sent {garbage} garbage lines answering "
                        f"{cmd!r} (last {raw[:60]!r}); check the baud rate and the cable"
                    )
                # a protocol line may follow garbage on the same line (noise before the first byte)
                idx = text.find("m-")
                if idx < 0:
                    continue
                text = text[idx:]
            if not text:
                continue
            self.transcript.append(f"< {text}")
            if text.startswith("e-"):
                errors.append(text)
            if text == READY:
                if errors:
                    raise ProtocolError(f"{self.t.name}: device replied {'; '.join(errors)} to {cmd!r}")
                return lines
            lines.append(text)

    def _timeout(self, cmd: str, timeout_s: float, lines: list[str]) -> None:
        tail = " | ".join(lines[-3:]) or "nothing"
        raise SerialTimeout(
            f"{self.t.name}: no m-ready within {timeout_s:g} s after {cmd!r} (received: "
            f"{tail}); is the firmware running and the baud rate right?"
        )

    def command(
        self,
        cmd: str,
        *,
        timeout_s: float | None = None,
        expect: re.Pattern | None = None,
        retry: bool = False,
    ) -> list[str]:
        """Send `cmd%` and return the reply lines before m-ready. With `expect`, a reply without a matching
        line is read once more (a stale m-ready from before the command) and then a ProtocolError."""
        timeout_s = self.command_timeout_s if timeout_s is None else timeout_s
        attempts = self.retries + 1 if retry else 1
        for attempt in range(attempts):
            try:
                self._send(cmd)
                lines = self._collect(cmd, timeout_s)
                if expect is not None and not any(expect.match(x) for x in lines):
                    lines += self._collect(cmd, timeout_s)
                    if not any(expect.match(x) for x in lines):
                        raise ProtocolError(
                            f"{self.t.name}: reply to {cmd!r} lacks {expect.pattern!r}: {lines[-5:]}"
                        )
                return lines
            except SerialTimeout:
                if attempt + 1 >= attempts:
                    raise
                log.warning(
                    "%s: timeout on %r, retrying (%d/%d)", self.t.name, cmd, attempt + 1, attempts - 1
                )
        raise AssertionError("unreachable")

    # -- protocol commands -------------------------------------------------------------------------------
    def sync(self, boot_timeout_s: float = 1.0) -> str:
        """m-ready handshake: swallow boot output (up to its m-ready), then a `name` must get its m-ready.
        Returns the DUT name."""
        try:
            self._collect("<boot>", boot_timeout_s)
        except SerialTimeout:
            pass  # no boot banner (already running, or reset not possible): fine
        except ProtocolError as e:
            log.info("%s: ignoring boot output: %s", self.t.name, e)
        return self.name()

    def name(self) -> str:
        for line in self.command("name", expect=NAME_RE, retry=True):
            m = NAME_RE.match(line)
            if m:
                return m.group(1)
        raise AssertionError("unreachable")

    def profile(self) -> Profile:
        lines = self.command("profile", expect=MODEL_RE, retry=True)
        fw = model = ""
        md5 = None
        for line in lines:
            if m := PROFILE_RE.match(line):
                fw = m.group(1)
            elif m := MODEL_RE.match(line):
                model = m.group(1)
            elif m := MODEL_HASH_RE.match(line):
                md5 = m.group(1).lower()
        placeholder = any("placeholder" in x.lower() for x in lines)
        return Profile(fw, model, md5, placeholder, tuple(lines))

    def timestamp(self) -> list[int]:
        return [int(m.group(1)) for x in self.command("timestamp") if (m := LAP_RE.match(x))]

    def load(self, data: bytes, *, chunk_timeout_s: float | None = None) -> None:
        """`db load N`, then the bytes as hex in chunks; the last chunk must be answered by m-load-done.
        A timeout restarts the whole load (bounded by `retries`); the final error names the byte offset."""
        n = len(data)
        if n == 0:
            raise ProtocolError("refusing to load an empty input")
        for attempt in range(self.retries + 1):
            offset = 0
            try:
                lines = self.command(f"db load {n}", timeout_s=chunk_timeout_s)
                got = [int(m.group(1)) for x in lines if (m := EXPECT_RE.match(x))]
                if got != [n]:
                    raise ProtocolError(
                        f"{self.t.name}: `db load {n}` answered {lines}; expected m-[Expecting {n} bytes]"
                    )
                done = False
                for offset in range(0, n, self.chunk_bytes):
                    chunk = data[offset : offset + self.chunk_bytes]
                    lines = self.command(f"db {chunk.hex()}", timeout_s=chunk_timeout_s)
                    done = "m-load-done" in lines
                    if done and offset + len(chunk) < n:
                        raise ProtocolError(
                            f"{self.t.name}: m-load-done after {offset + len(chunk)} of {n} bytes"
                        )
                if not done:
                    raise ProtocolError(f"{self.t.name}: no m-load-done after all {n} bytes were sent")
                return
            except SerialTimeout as e:
                if attempt >= self.retries:
                    raise SerialTimeout(
                        f"device stopped answering while loading byte {offset} of {n} "
                        f"({self.retries + 1} attempts): {e}"
                    ) from None
                log.warning(
                    "%s: load timed out at byte %d of %d, restarting the load", self.t.name, offset, n
                )

    def infer(self, iterations: int, warmups: int = 0, *, timeout_s: float) -> InferResult:
        """`infer N W`: N timed inferences after W warm-ups; returns timestamps and the result vector.
        `timeout_s` must cover N + W inferences (transport clock)."""
        if iterations < 1 or warmups < 0:
            raise ProtocolError(f"infer needs iterations >= 1 and warmups >= 0, got {iterations}, {warmups}")
        cmd = f"infer {iterations} {warmups}"
        lines = self.command(cmd, timeout_s=timeout_s)
        if "m-infer-done" not in lines:
            raise ProtocolError(f"{self.t.name}: `{cmd}` ended without m-infer-done: {lines[-5:]}")
        laps = [int(m.group(1)) for x in lines if (m := LAP_RE.match(x))]
        res = [x for x in lines if x.startswith("m-results-")]
        return InferResult(iterations, warmups, laps, parse_results(res[-1]) if res else None, lines)

    def results(self) -> list[float]:
        lines = self.command("results", expect=RESULTS_RE, retry=True)
        return parse_results([x for x in lines if RESULTS_RE.match(x)][-1])
