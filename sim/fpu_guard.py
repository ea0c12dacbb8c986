"""CPACR semantics for the FPU: a floating-point instruction executed while CPACR does not grant access to
CP10/CP11 raises a NOCP UsageFault [ARMv7-M ARM B3.2.20, B1.5.14] (reset: CPACR = 0).

Unicorn 2.1.4 never checks CPACR, so the board watches FP instructions itself while access is off:
the image is scanned for candidate FP encodings (T32 coprocessor space 111x11xx with coprocessor 10/11,
a superset: instructions are re-checked when they run) and code hooks are placed on them, in clusters.
Once firmware enables the FPU (typically the first thing SystemInit does) the hooks are removed and the
translation cache flushed, so FP code runs with no hook at all.
"""

from __future__ import annotations

import logging
import struct
from collections.abc import Callable

import numpy as np
from unicorn import UC_HOOK_CODE, Uc

log = logging.getLogger("tinyperf.sim.fpu")

CLUSTER_GAP = 64         # bytes: FP candidates closer than this share one hook


def is_fp_encoding(hw1: int, hw2: int) -> bool:
    """A 32-bit T32 instruction in the coprocessor space for CP10/CP11 (VFP: VLDR/VSTR/VMOV/VADD/VMRS..)."""
    return (hw1 & 0xEC00) == 0xEC00 and (hw2 & 0x0E00) == 0x0A00


def fp_candidates(base: int, data: bytes) -> np.ndarray:
    """Addresses of halfwords in `data` (at `base`) that start an FP encoding (a superset)."""
    if len(data) < 4:
        return np.zeros(0, dtype=np.int64)
    hw = np.frombuffer(data[: len(data) & ~1], dtype="<u2").astype(np.uint32)
    hit = ((hw[:-1] & 0xEC00) == 0xEC00) & ((hw[1:] & 0x0E00) == 0x0A00)
    return base + 2 * np.nonzero(hit)[0].astype(np.int64)


def clusters(addresses: np.ndarray, gap: int = CLUSTER_GAP) -> list[tuple[int, int]]:
    """Group sorted addresses into [first, last] ranges whose members are less than `gap` bytes apart."""
    out: list[tuple[int, int]] = []
    for a in sorted(int(x) for x in addresses):
        if out and a - out[-1][1] < gap:
            out[-1] = (out[-1][0], a)
        else:
            out.append((a, a))
    return out


class FpuGuard:
    """Code hooks on FP instructions while CPACR denies access; calls `on_nocp(address)` when one is about
    to execute and stops the engine if it returns True. Call `arm`/`disarm` only while the engine is
    stopped (they add/delete hooks and flush translated code)."""

    def __init__(self, uc: Uc, code: list[tuple[int, bytes]], on_nocp: Callable[[int], bool]):
        self.uc = uc
        self.on_nocp = on_nocp
        cands = [fp_candidates(a, d) for a, d in code]
        self.ranges = clusters(np.concatenate(cands)) if cands else []
        self.handles: list[int] = []
        self.armed = False

    def arm(self) -> None:
        """FP access denied: hook the FP instructions."""
        if self.armed:
            return
        self.armed = True
        for lo, hi in self.ranges:
            self.handles.append(self.uc.hook_add(UC_HOOK_CODE, self._on_code, begin=lo, end=hi + 3))
        self._flush()

    def disarm(self) -> None:
        """FP access granted: remove the hooks so FP code runs natively."""
        if not self.armed:
            return
        self.armed = False
        for h in self.handles:
            self.uc.hook_del(h)
        self.handles.clear()
        self._flush()

    def _flush(self) -> None:
        if self.ranges:
            self.uc.ctl_flush_tb()

    def _on_code(self, uc: Uc, address: int, size: int, _user) -> None:
        if size != 4:
            return
        hw1, hw2 = struct.unpack("<HH", bytes(uc.mem_read(address, 4)))
        if is_fp_encoding(hw1, hw2) and self.on_nocp(address):
            uc.emu_stop()
