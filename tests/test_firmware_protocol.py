"""Host tests of the firmware's protocol logic (firmware/src/protocol.c, fmt.c), compiled for the host
with the system C compiler and driven through ctypes (harness: tests/c/proto_host_shim.c). Every command
and every error path of the EEMBC / MLPerf Tiny protocol; float formatting against Python's "%.3f"."""

from __future__ import annotations

import ctypes
import random
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
FW = REPO / "firmware"
SHIM = Path(__file__).resolve().parent / "c" / "proto_host_shim.c"

pytestmark = pytest.mark.unit

INPUT_BYTES = 490
BUFFER_MAX = 3072


@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if cc is None:
        pytest.skip("no host C compiler (cc) to build the protocol harness")
    out = tmp_path_factory.mktemp("proto") / "libproto.so"
    cmd = [cc, "-std=c11", "-O1", "-g", "-shared", "-fPIC", "-Wall", "-Wextra",
           "-Wno-unused-parameter", f"-I{FW / 'include'}", str(FW / "src" / "protocol.c"),
           str(FW / "src" / "fmt.c"), str(SHIM), "-o", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    so = ctypes.CDLL(str(out))
    so.host_init.argtypes = [ctypes.c_size_t, ctypes.c_size_t, ctypes.c_int]
    so.host_feed.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
    so.host_feed.restype = ctypes.c_int
    so.host_output.restype = ctypes.c_char_p
    so.host_inferences.restype = ctypes.c_uint32
    so.host_loads.restype = ctypes.c_uint32
    so.host_loaded_first.restype = ctypes.c_uint8
    so.host_buffer.restype = ctypes.POINTER(ctypes.c_uint8)
    so.host_rx_lost.argtypes = [ctypes.c_uint32]
    so.host_set_results.argtypes = [ctypes.POINTER(ctypes.c_float), ctypes.c_size_t]
    so.host_fmt_f3.argtypes = [ctypes.c_float, ctypes.c_char_p, ctypes.c_size_t]
    so.host_fmt_f3.restype = ctypes.c_size_t
    return so


class Dut:
    """The protocol under test: send() a command (the '%' is added), get the reply lines."""

    def __init__(self, lib, input_bytes=INPUT_BYTES, buffer_max=BUFFER_MAX, energy=0):
        self.lib = lib
        lib.host_init(input_bytes, buffer_max, energy)

    def raw(self, data: bytes) -> list[str]:
        self.lib.host_clear()
        self.lib.host_feed(data, len(data))
        text = self.lib.host_output().decode("ascii")
        assert text == "" or text.endswith("\r\n"), text
        return text.split("\r\n")[:-1] if text else []

    def send(self, cmd: str) -> list[str]:
        lines = self.raw(cmd.encode("latin-1") + b"%")
        assert lines and lines[-1] == "m-ready", lines
        assert lines.count("m-ready") == 1, lines
        return lines[:-1]

    def buffer(self, n: int) -> bytes:
        return bytes(self.lib.host_buffer()[:n])

    def set_results(self, values):
        arr = (ctypes.c_float * len(values))(*values)
        self.lib.host_set_results(arr, len(values))

    def load(self, data: bytes, chunk: int = 32) -> None:
        assert self.send(f"db load {len(data)}") == [f"m-[Expecting {len(data)} bytes]"]
        for i in range(0, len(data), chunk):
            reply = self.send("db " + data[i:i + chunk].hex())
            assert reply == (["m-load-done"] if i + chunk >= len(data) else []), reply


@pytest.fixture
def dut(lib):
    return Dut(lib)


def test_boot_banner(lib):
    Dut(lib)
    lib.host_clear()
    lib.host_boot()
    assert lib.host_output().decode().split("\r\n") == [
        "m-timestamp-mode-performance", "m-lap-us-1000", "m-init-done", "m-ready", ""]
    Dut(lib, energy=1)
    lib.host_boot()
    assert lib.host_output().decode().startswith("m-timestamp-mode-energy\r\n")


def test_name_profile_help_timestamp(dut):
    assert dut.send("name") == ["m-name-dut-[tinyperf]"]
    assert dut.send("profile") == ["m-profile-[test-version]", "m-model-[kws01]",
                                   "m-model-md5-[0123456789abcdef0123456789abcdef]"]
    help_lines = dut.send("help")
    assert help_lines[0] == "test-version"
    for cmd in ("name", "profile", "timestamp", "db load N", "db print", "infer N [W]", "results"):
        assert any(line.startswith(cmd) for line in help_lines), cmd
    assert dut.send("timestamp") == ["m-lap-us-1000"]
    assert dut.send("timestamp") == ["m-lap-us-2000"]


def test_unknown_and_malformed_commands(dut):
    assert dut.send("bogus") == ["e-[Unknown command: bogus]"]
    assert dut.send("bogus with args") == ["e-[Unknown command: bogus]"]
    assert dut.send("NAME") == ["e-[Unknown command: NAME]"]
    # control characters and ']' are not echoed raw; long tokens are cut
    assert dut.send("a\x01b]c") == ["e-[Unknown command: a?b)c]"]
    assert dut.send("x" * 100) == ["e-[Unknown command: " + "x" * 48 + "...]"]
    assert dut.send("name extra") == ["e-[Unexpected argument: extra]"]
    assert dut.send("results now") == ["e-[Usage: results]"]
    assert dut.send("") == []                      # an empty command only gets m-ready
    assert dut.send("   ") == []
    assert dut.send("  name  ") == ["m-name-dut-[tinyperf]"]  # spaces separate tokens, repeated ones too
    assert dut.send(" ".join(["db"] + ["00"] * 60)) == ["e-[Too many arguments]"]


def test_cr_lf_are_ignored(dut):
    lines = dut.raw(b"na\r\nme%\r\n")
    assert lines == ["m-name-dut-[tinyperf]", "m-ready"]


def test_several_commands_in_one_write(dut):
    lines = dut.raw(b"name%timestamp%bogus%")
    assert lines == ["m-name-dut-[tinyperf]", "m-ready", "m-lap-us-1000", "m-ready",
                     "e-[Unknown command: bogus]", "m-ready"]


def test_db_load_errors(dut):
    assert dut.send("db") == ["e-[Usage: db load N | db HEX [HEX ...] | db print [N [OFFSET]]]"]
    assert dut.send("db load") == ["e-[Usage: db load N]"]
    assert dut.send("db load 1 2") == ["e-[Usage: db load N]"]
    assert dut.send("db load 0") == ["e-[Invalid buffer size: 0]"]
    assert dut.send("db load -5") == ["e-[Invalid buffer size: -5]"]
    assert dut.send("db load 12x") == ["e-[Invalid buffer size: 12x]"]
    assert dut.send("db load 99999999999") == ["e-[Invalid buffer size: 99999999999]"]
    assert dut.send(f"db load {BUFFER_MAX + 1}") == [
        f"e-[Buffer size {BUFFER_MAX + 1} exceeds the maximum of {BUFFER_MAX} bytes]"]
    assert dut.send("db 00") == ["e-[No buffer: send db load N first]"]


def test_db_load_and_print(dut):
    data = bytes(range(20))
    assert dut.send("db load 20") == ["m-[Expecting 20 bytes]"]
    assert dut.send("db 000102") == []
    assert dut.send("db 0304 05060708") == []            # several hex tokens in one command
    assert dut.send("db 090A0b0C0d0E0f1011") == []       # upper and lower case digits
    assert dut.send("db 1213") == ["m-load-done"]
    assert dut.buffer(20) == data
    assert dut.send("db print") == ["m-buffer-00-01-02-03-04-05-06-07", "m-buffer-08-09-0a-0b-0c-0d-0e-0f",
                                    "m-buffer-10-11-12-13"]
    assert dut.send("db print 3 17") == ["m-buffer-11-12-13"]
    assert dut.send("db print 0") == []
    assert dut.send("db print 21") == ["e-[db print: range outside the loaded buffer]"]
    assert dut.send("db print 2 19") == ["e-[db print: range outside the loaded buffer]"]
    assert dut.send("db print x") == ["e-[Invalid byte count: x]"]
    assert dut.send("db print 1 y") == ["e-[Invalid offset: y]"]
    assert dut.send("db print 1 2 3") == ["e-[Usage: db print [N [OFFSET]]]"]
    # a new load starts from an empty (zeroed) buffer
    assert dut.send("db load 4") == ["m-[Expecting 4 bytes]"]
    assert dut.send("db print") == ["m-buffer-00-00-00-00"]


def test_db_bad_hex_is_reported_and_ignored(dut):
    assert dut.send("db load 4") == ["m-[Expecting 4 bytes]"]
    assert dut.send("db 0a1") == ["e-[Odd number of hex digits: 0a1]"]
    assert dut.send("db 0a1g") == ["e-[Invalid hex digit: g]"]
    assert dut.send("db 0a 1g") == ["e-[Invalid hex digit: g]"]   # nothing from the command is stored
    assert dut.send("db 0x12") == ["e-[Invalid hex digit: x]"]
    assert dut.send("db aabb ccd") == ["e-[Odd number of hex digits: ccd]"]
    assert dut.send("db print") == ["m-buffer-00-00-00-00"]
    assert dut.send("db a1b2") == []
    assert dut.send("db c3d4") == ["m-load-done"]
    assert dut.buffer(4) == bytes.fromhex("a1b2c3d4")


def test_db_overrun_is_reported_and_ignored(dut):
    assert dut.send("db load 3") == ["m-[Expecting 3 bytes]"]
    assert dut.send("db 0102") == []
    assert dut.send("db 030405") == ["m-load-done", "e-[Buffer overrun: 2 bytes beyond the 3-byte buffer ignored]"]
    assert dut.buffer(4)[:3] == bytes([1, 2, 3])
    assert dut.send("db 06") == ["e-[Buffer overrun: the buffer is already full; data ignored]"]
    assert dut.send("db print") == ["m-buffer-01-02-03"]


def test_infer_errors(dut):
    assert dut.send("infer") == ["e-[Input not loaded: need 490 bytes (db load 490), have 0 of 0]"]
    dut.send("db load 490")
    dut.send("db " + "11" * 100)
    assert dut.send("infer 1 0") == ["e-[Input not loaded: need 490 bytes (db load 490), have 100 of 490]"]
    assert dut.send("infer 0") == ["e-[Inference iterations must be >0]"]
    assert dut.send("infer 0 0") == ["e-[Inference iterations must be >0]"]
    assert dut.send("infer -1") == ["e-[Invalid inference count: -1]"]
    assert dut.send("infer abc") == ["e-[Invalid inference count: abc]"]
    assert dut.send("infer 1 x") == ["e-[Invalid warmup count: x]"]
    assert dut.send("infer 1 2 3") == ["e-[Usage: infer N [W]]"]
    assert dut.send("infer 99999999999") == ["e-[Invalid inference count: 99999999999]"]
    assert dut.send("results") == ["e-[No results: run infer first]"]
    dut.send("db load 5")
    dut.send("db 0102030405")
    assert dut.send("infer 1 0") == ["e-[Input not loaded: need 490 bytes (db load 490), have 5 of 5]"]
    assert dut.lib.host_inferences() == 0


def test_infer_sequence_and_results(dut):
    dut.set_results([0.00390625, 0.0625, 0.99609375, 0.5])
    dut.load(bytes([7]) * INPUT_BYTES)
    lines = dut.send("infer 3 2")
    assert lines == ["m-warmup-start-2", "m-warmup-done", "m-infer-start-3", "m-lap-us-1000", "m-lap-us-2000",
                     "m-infer-done", "m-results-[0.004,0.062,0.996,0.500]"]
    assert dut.lib.host_inferences() == 5
    assert dut.lib.host_loaded_first() == 7
    assert dut.send("results") == ["m-results-[0.004,0.062,0.996,0.500]"]
    lines = dut.send("infer")                                  # defaults: N=1, W=10
    assert lines[0] == "m-warmup-start-10" and lines[2] == "m-infer-start-1"
    assert dut.lib.host_inferences() == 5 + 11
    assert dut.send("infer 1 0")[:3] == ["m-warmup-start-0", "m-warmup-done", "m-infer-start-1"]


def test_infer_input_rejected_by_task(dut):
    dut.load(bytes([0xEE]) + bytes(INPUT_BYTES - 1))
    assert dut.send("infer 1 1") == ["e-[Input rejected: test rejection]"]
    assert dut.lib.host_inferences() == 0


def test_long_lines(dut):
    # exactly TP_CMD_MAX (1024) characters is accepted: "db " + 1020 hex digits + " " = 510 bytes
    dut.send("db load 1000")
    assert len("db " + "ab" * 510 + " ") == 1024
    assert dut.send("db " + "ab" * 510 + " ") == []
    assert dut.buffer(510) == b"\xab" * 510
    # one more character is too long; the command is ignored and the next one works
    assert dut.send("db " + "cd" * 511) == ["e-[Command too long: more than 1024 characters; ignored]"]
    assert dut.send("x" * 100000) == ["e-[Command too long: more than 1024 characters; ignored]"]
    assert dut.buffer(511)[-1] == 0
    assert dut.send("name") == ["m-name-dut-[tinyperf]"]


def test_receive_overflow_is_reported(dut):
    dut.lib.host_rx_lost(17)
    assert dut.send("name") == ["e-[Receive overflow: 17 bytes lost]", "m-name-dut-[tinyperf]"]
    assert dut.send("name") == ["m-name-dut-[tinyperf]"]


def test_garbage_never_breaks_the_protocol(dut):
    rng = random.Random(1234)
    for _ in range(200):
        junk = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200))).replace(b"%", b"")
        lines = dut.raw(junk + b"%")
        assert lines[-1] == "m-ready" and lines.count("m-ready") == 1
        assert all(line.startswith(("m-", "e-[")) for line in lines), lines
        assert all(all(0x20 <= ord(c) < 0x7F for c in line) for line in lines)
    assert dut.send("name") == ["m-name-dut-[tinyperf]"]


def _f32(x: float) -> float:
    return struct.unpack("<f", struct.pack("<f", x))[0]


def test_float_format_matches_python(lib):
    rng = random.Random(42)
    values = [0.0, -0.0, 1.0, 0.0625, 0.0005, 0.0015, 0.0025, 2.5e-4, 1e-30, 1.4e-45, 0.999999, 123456.789,
              -3.0005, 4294967.5, 1e15, 0.1, 0.7, 2.0 ** -10, 255.0 / 256]
    values += [(q + 128) / 256 for q in range(-128, 128)]                 # every softmax probability
    values += [rng.uniform(-1000, 1000) for _ in range(2000)]
    values += [rng.uniform(0, 1) * 10 ** rng.randint(-6, 12) for _ in range(2000)]
    buf = ctypes.create_string_buffer(64)
    for v in values:
        v = _f32(v)
        n = lib.host_fmt_f3(v, buf, 64)
        assert buf.raw[:n].decode() == f"{v:.3f}", v
    for v, text in ((float("nan"), "nan"), (float("inf"), "inf"), (float("-inf"), "-inf"), (3e38, "inf")):
        n = lib.host_fmt_f3(v, buf, 64)
        assert buf.raw[:n].decode() == text
