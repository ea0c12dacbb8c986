"""Build and load the native accounting library (sim/timing/native/tp_counter.c).

native/tp_counter.c (with its headers) is compiled on first use with the system C compiler (`$CC`,
else `cc`) into `$TINYPERF_CACHE/native/` (default `~/.cache/tinyperf/native/`), under a name keyed by
the hash of the sources, the compiler and the unicorn headers, so an edit or an upgrade rebuilds it. It includes the
headers shipped inside the unicorn wheel and links no libunicorn symbol: `cycles.py` hands it the
functions of the library the Python binding loaded, so the hooks drive the same engine instance.
"""

from __future__ import annotations

import ctypes
import hashlib
import logging
import os
import shutil
import subprocess
import tempfile
from functools import cache
from pathlib import Path

import unicorn
from tinyperf.errors import SimError

log = logging.getLogger("tinyperf.sim.timing")

NATIVE_DIR = Path(__file__).resolve().parent / "native"
SOURCE = NATIVE_DIR / "tp_counter.c"          # includes tp_types.h and tp_memory.h
CFLAGS = ("-O2", "-shared", "-fPIC", "-std=c11", "-Wall")


def cache_dir() -> Path:
    """Where built artefacts live: $TINYPERF_CACHE, else ~/.cache/tinyperf."""
    return Path(os.environ.get("TINYPERF_CACHE", Path.home() / ".cache" / "tinyperf"))


def unicorn_include_dir() -> Path:
    """The C headers shipped in the unicorn wheel (site-packages/unicorn/include)."""
    path = Path(unicorn.__file__).resolve().parent / "include"
    if not (path / "unicorn" / "unicorn.h").is_file():
        raise SimError(f"unicorn headers not found at {path}; reinstall the unicorn 2.1.4 wheel "
                       "(`pip install --force-reinstall unicorn==2.1.4`)")
    return path


def _compiler() -> str:
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc")
    if not cc:
        raise SimError("no C compiler found to build the native cycle counter; install gcc (apt install gcc) "
                       "or set $CC")
    return cc


@cache
def load_native() -> ctypes.CDLL:
    """Compile (once per source hash) and load the native library; returns the ctypes handle."""
    cc = _compiler()
    inc = unicorn_include_dir()
    digest = hashlib.sha256()
    for path in sorted(NATIVE_DIR.glob("*.[ch]")):
        digest.update(path.name.encode() + b"\0" + path.read_bytes())
    digest.update(" ".join((cc,) + CFLAGS).encode())
    digest.update((inc / "unicorn" / "unicorn.h").read_bytes())
    out_dir = cache_dir() / "native"
    out = out_dir / f"tp_counter-{digest.hexdigest()[:16]}.so"
    if not out.is_file():
        out_dir.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(suffix=".so", dir=out_dir)
        os.close(fd)
        cmd = [cc, *CFLAGS, f"-I{inc}", str(SOURCE), "-o", tmp]
        log.info("building native cycle counter: %s", " ".join(cmd))
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            os.unlink(tmp)
            raise SimError(f"building {SOURCE.name} failed (exit {proc.returncode}):\n{proc.stderr.strip()}\n"
                           f"command: {' '.join(cmd)}")
        os.replace(tmp, out)   # atomic: concurrent builders never load a half-written file
    lib = ctypes.CDLL(str(out))
    _prototypes(lib)
    return lib


def _prototypes(lib: ctypes.CDLL) -> None:
    vp, u32, u64, i32 = ctypes.c_void_p, ctypes.c_uint32, ctypes.c_uint64, ctypes.c_int
    p16, p32, p64 = ctypes.POINTER(ctypes.c_uint16), ctypes.POINTER(u32), ctypes.POINTER(u64)
    pi64 = ctypes.POINTER(ctypes.c_int64)
    protos = {
        "tp_new": (vp, [vp, vp, vp, vp, vp, i32]),
        "tp_free": (None, [vp]),
        "tp_define_block": (i32, [vp, u32, u32, u32, p16, p32, u32, u32, u32, u32, p32, u64,
                                  u32, pi64, u32, pi64, u32, pi64]),
        "tp_set_flash": (None, [vp, u32, u32, u32, u32]),
        "tp_set_ram": (None, [vp, u32, u32, u32]),
        "tp_add_div": (None, [vp, u32, i32, i32, i32]),
        "tp_add_load": (None, [vp, u32, i32, i32, i32, i32, ctypes.c_int64, u32]),
        "tp_div_cycles": (u32, [u32, u32, i32]),
        "tp_sync": (None, [vp, u32, i32]),
        "tp_cycles_at": (u64, [vp, u32]),
        "tp_begin": (None, [vp]),
        "tp_request_stop": (None, [vp]),
        "tp_set_deadline": (None, [vp, u64]),
        "tp_set_irq_waiting": (None, [vp, i32]),
        "tp_set_stop_on_wfi": (None, [vp, i32]),
        "tp_add": (None, [vp, u64, u64]),
        "tp_set_energy": (None, [vp, u64, u64, u64, u64, u64]),
        "tp_energy_at": (u64, [vp, u32]),
        "tp_set_memory": (None, [vp, u32, u32, u32, u32, u32, u32, u32, u32, u32, u32]),
        "tp_reset_caches": (None, [vp, i32, i32]),
        "tp_get": (u64, [vp, i32]),
        "tp_block_stats": (u32, [vp, u32, p32, p32, p64, p64]),
    }
    for name, (res, args) in protos.items():
        fn = getattr(lib, name)
        fn.restype = res
        fn.argtypes = args
