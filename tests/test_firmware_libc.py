"""The firmware's own C library pieces (firmware/src/mem.c, libm.c), compiled for the host under renamed
symbols and checked against Python: memcpy/memmove/memset/memcmp over sizes, alignments and overlaps;
roundf/floorf/ceilf/fabsf over float32 values including halves, negative zero, huge values, inf and NaN."""

from __future__ import annotations

import ctypes
import math
import random
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

FW = Path(__file__).resolve().parent.parent / "firmware"
NAMES = ("memcpy", "memmove", "memset", "memcmp", "roundf", "floorf", "ceilf", "fabsf")

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def lib(tmp_path_factory):
    cc = shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if cc is None:
        pytest.skip("no host C compiler (cc)")
    out = tmp_path_factory.mktemp("libc") / "libtplibc.so"
    renames = [f"-D{n}=tp_test_{n}" for n in NAMES]
    cmd = [cc, "-std=c11", "-O2", "-shared", "-fPIC", "-fno-builtin", "-Wall", "-Wextra",
           "-isystem", str(FW / "include" / "libc"), *renames, str(FW / "src" / "mem.c"),
           str(FW / "src" / "libm.c"), "-o", str(out)]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    so = ctypes.CDLL(str(out))
    vp, sz = ctypes.c_void_p, ctypes.c_size_t
    for name in ("memcpy", "memmove"):
        getattr(so, f"tp_test_{name}").argtypes = [vp, vp, sz]
        getattr(so, f"tp_test_{name}").restype = vp
    so.tp_test_memset.argtypes = [vp, ctypes.c_int, sz]
    so.tp_test_memset.restype = vp
    so.tp_test_memcmp.argtypes = [vp, vp, sz]
    so.tp_test_memcmp.restype = ctypes.c_int
    for name in ("roundf", "floorf", "ceilf", "fabsf"):
        getattr(so, f"tp_test_{name}").argtypes = [ctypes.c_float]
        getattr(so, f"tp_test_{name}").restype = ctypes.c_float
    return so


def _addr(buf, offset: int) -> int:
    return ctypes.addressof(buf) + offset


def test_memcpy_memset_memcmp(lib):
    rng = random.Random(7)
    for _ in range(400):
        n = rng.randrange(0, 70)
        so, do = rng.randrange(4), rng.randrange(4)
        src = ctypes.create_string_buffer(bytes(rng.randrange(256) for _ in range(80)), 80)
        dst = ctypes.create_string_buffer(b"\xee" * 80, 80)
        before = dst.raw
        assert lib.tp_test_memcpy(_addr(dst, do), _addr(src, so), n) == _addr(dst, do)
        assert dst.raw == before[:do] + src.raw[so:so + n] + before[do + n:]
        value = rng.randrange(-300, 300)
        lib.tp_test_memset(_addr(dst, do), value, n)
        assert dst.raw == before[:do] + bytes([value & 0xFF]) * n + before[do + n:]
        a = ctypes.create_string_buffer(src.raw, 80)
        if n:
            i = rng.randrange(n)
            a[so + i] = (a.raw[so + i] + rng.choice((1, 255))) & 0xFF
        want = (src.raw[so:so + n] > a.raw[so:so + n]) - (src.raw[so:so + n] < a.raw[so:so + n])
        got = lib.tp_test_memcmp(_addr(src, so), _addr(a, so), n)
        assert (got > 0) - (got < 0) == want


def test_memmove_overlaps(lib):
    rng = random.Random(8)
    for _ in range(400):
        data = bytes(rng.randrange(256) for _ in range(96))
        buf = ctypes.create_string_buffer(data, 96)
        n = rng.randrange(0, 48)
        s, d = rng.randrange(0, 96 - n), rng.randrange(0, 96 - n)
        lib.tp_test_memmove(_addr(buf, d), _addr(buf, s), n)
        want = bytearray(data)
        want[d:d + n] = data[s:s + n]
        assert buf.raw == bytes(want)


def _f32(x: float) -> float:
    return struct.unpack("<f", struct.pack("<f", x))[0]


def _same(a: float, b: float) -> bool:
    return (math.isnan(a) and math.isnan(b)) or (a == b and math.copysign(1, a) == math.copysign(1, b))


def test_rounding_functions(lib):
    rng = random.Random(9)
    values = [0.0, -0.0, 0.5, -0.5, 1.5, -1.5, 2.5, -2.5, 0.49999997, -0.49999997, 8388607.5, 8388608.0,
              -8388609.0, 1e30, -1e-30, 1.4e-45, float("inf"), float("-inf"), float("nan"), 3.0, -3.0]
    values += [rng.uniform(-1000, 1000) for _ in range(3000)]
    values += [k / 2 + rng.choice((0.0, 1e-3)) for k in range(-60, 61)]
    for v in map(_f32, values):
        if math.isfinite(v):
            ref_round = math.copysign(math.floor(abs(v) + 0.5), v)   # half away from zero, exact in double
            ref_floor, ref_ceil = float(math.floor(v)), float(math.ceil(v))
            if ref_ceil == 0 and v < 0:
                ref_ceil = -0.0
            if ref_round == 0:
                ref_round = math.copysign(0.0, v)
            if v == 0:
                ref_floor = ref_ceil = v
        else:
            ref_round = ref_floor = ref_ceil = v
        assert _same(lib.tp_test_roundf(v), ref_round), v
        assert _same(lib.tp_test_floorf(v), ref_floor), v
        assert _same(lib.tp_test_ceilf(v), ref_ceil), v
        assert _same(lib.tp_test_fabsf(v), abs(v)), v
