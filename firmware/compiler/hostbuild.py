"""Build a generated model plus the kernels for the host (system cc, shared library) and run it via ctypes.

On the host the Cortex-M4 intrinsics of firmware/kernels/m4 fall back to portable C with the same
semantics, so both kernel sets can be checked against the TFLite Micro interpreter on the development
machine. Builds are cached under $TINYPERF_CACHE (default ~/.cache/tinyperf)/host/<sha256 of sources>.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
from tinyperf.errors import BuildError

from . import INCLUDE_DIR, CompiledModel, kernel_sources

CFLAGS = ["-O2", "-std=c99", "-Wall", "-Wextra", "-Werror", "-fPIC"]


def cache_dir() -> Path:
    return Path(os.environ.get("TINYPERF_CACHE", Path.home() / ".cache" / "tinyperf")) / "host"


def _digest(parts: list, files: list[Path]) -> str:
    h = hashlib.sha256(" ".join(map(str, parts)).encode())
    for p in files:
        h.update(Path(p).name.encode())
        h.update(Path(p).read_bytes())
    return h.hexdigest()[:24]


def _run(cmd: list[str]) -> None:
    r = subprocess.run(cmd, capture_output=True, text=True)
    if r.returncode != 0:
        raise BuildError(f"host build failed: {' '.join(cmd[:4])} ...\n{r.stderr[-4000:]}")


def _cc(cc: str | None) -> str:
    cc = cc or os.environ.get("CC", "cc")
    if shutil.which(cc) is None:
        raise BuildError(f"host C compiler '{cc}' not found; install gcc or set CC")
    return cc


def build_kernels(cc: str | None = None) -> Path:
    """All kernel sources compiled (-fPIC) into one static archive, cached by content."""
    cc = _cc(cc)
    sources = kernel_sources()
    headers = sorted(INCLUDE_DIR.glob("*.h")) + sorted({h for s in sources for h in s.parent.glob("*.h")})
    out = cache_dir() / ("kernels-" + _digest([cc, *CFLAGS], sources + headers)) / "libtpkernels.a"
    if out.exists():
        return out
    work = out.parent / f"tmp{os.getpid()}"
    work.mkdir(parents=True, exist_ok=True)
    objs = []
    for src in sources:
        obj = work / (src.parent.name + "_" + src.stem + ".o")
        _run([cc, *CFLAGS, "-c", f"-I{INCLUDE_DIR}", str(src), "-o", str(obj)])
        objs.append(str(obj))
    tmp = work / "libtpkernels.a"
    _run(["ar", "rcs", str(tmp), *objs])
    os.replace(tmp, out)
    shutil.rmtree(work, ignore_errors=True)
    return out


def build_model_library(model_dir: Path, cc: str | None = None) -> Path:
    """model.c of a generated model linked with the kernel archive into a shared library (cached)."""
    cc = _cc(cc)
    kernels = build_kernels(cc)
    model_c = Path(model_dir) / "model.c"
    out = cache_dir() / ("model-" + _digest([cc, *CFLAGS, kernels], [model_c, Path(model_dir) / "model.h",
                                                                        kernels])) / "libmodel.so"
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(f".tmp{os.getpid()}")
    _run([cc, *CFLAGS, "-shared", f"-I{INCLUDE_DIR}", f"-I{model_dir}", str(model_c), str(kernels),
          "-o", str(tmp), "-lm"])
    os.replace(tmp, out)
    return out


class HostModel:
    """A compiled model loaded into this process. `run(x)` -> output array (one inference)."""

    def __init__(self, cm: CompiledModel, cc: str | None = None):
        self.cm = cm
        self.path = build_model_library(cm.out_dir, cc=cc)
        self.lib = ctypes.CDLL(str(self.path))
        self.lib.model_input.restype = ctypes.c_void_p
        self.lib.model_output.restype = ctypes.c_void_p
        self.lib.model_invoke.restype = None

    def run(self, x: np.ndarray) -> np.ndarray:
        x = np.ascontiguousarray(x, dtype=self.cm.input_dtype)
        if x.nbytes != self.cm.input_bytes:
            raise ValueError(f"input has {x.nbytes} bytes; the model takes {self.cm.input_bytes}")
        ctypes.memmove(self.lib.model_input(), x.ctypes.data, x.nbytes)
        self.lib.model_invoke()
        out = (ctypes.c_char * self.cm.output_bytes).from_address(self.lib.model_output())
        return np.frombuffer(bytes(out), dtype=self.cm.output_dtype).reshape(self.cm.output_shape)
