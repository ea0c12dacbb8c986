"""The board's memories as host buffers mapped into Unicorn.

Every region of the board description (`platforms/*.yaml`, `memory:`) gets one numpy byte buffer mapped
with `uc.mem_map_ptr`. An alias (flash at 0x0, SRAM2 at 0x10000000) is mapped onto the SAME buffer as its
target, so a write through either address is seen through the other, as on the chip. Flash and ROM are
mapped read+execute: a store to them is a precise BusFault, as for locked flash [RM0432 3.3.6].

The device electronic signature (unique ID, flash size, package) [RM0432 60.1] is written into a small
read-only page when the board description has a `signature:` section.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import numpy as np
from tinyperf.errors import PlatformError
from tinyperf.platforms import Board, MemoryRegion
from unicorn import UC_PROT_ALL, UC_PROT_EXEC, UC_PROT_READ, Uc

PAGE = 0x400  # Unicorn's ARM target page: 1 KB


@dataclass
class MappedRegion:
    """One mapped region: `buffer` is the host memory (shared with the target region for an alias)."""

    region: MemoryRegion
    buffer: np.ndarray
    writable: bool

    @property
    def base(self) -> int:
        return self.region.base

    @property
    def size(self) -> int:
        return self.region.size


class Memory:
    """All memory regions of a board mapped into `uc`.

    `find(address)` returns the region holding an address; `buffer_of(name)` a region's host buffer
    (bytes, little-endian); `load(address, data)` writes an image segment through the host buffer (works
    for read-only flash as well)."""

    def __init__(self, uc: Uc, board: Board):
        self.uc = uc
        self.board = board
        self.regions: list[MappedRegion] = []
        buffers: dict[str, np.ndarray] = {}
        for r in board.memory:
            if r.kind == "alias":
                continue
            if r.base % PAGE or r.size % PAGE:
                raise PlatformError(f"{board.name}: memory region {r.name} at 0x{r.base:08x} size 0x{r.size:x} "
                                    f"is not aligned to Unicorn's {PAGE}-byte pages")
            buf = np.full(r.size, r.fill & 0xFF, dtype=np.uint8)
            buffers[r.name] = buf
            self._map(r, buf)
        for r in board.memory:
            if r.kind == "alias":
                target = board.region(r.target or "")
                self._map(r, buffers[target.name][: r.size], kind=target.kind)
        self._map_signature(board)
        self.regions.sort(key=lambda m: m.base)

    def _map(self, r: MemoryRegion, buf: np.ndarray, kind: str | None = None) -> None:
        kind = kind or r.kind
        writable = kind == "sram"
        perms = UC_PROT_ALL if writable else (UC_PROT_READ | UC_PROT_EXEC)
        self.uc.mem_map_ptr(r.base, r.size, perms, buf.ctypes.data)
        self.regions.append(MappedRegion(r, buf, writable))

    def _map_signature(self, board: Board) -> None:
        sig = board.raw.get("signature")
        if not sig:
            return
        words: dict[int, bytes] = {}
        for i, w in enumerate(sig.get("uid", [])):
            words[sig["uid_base"] + 4 * i] = struct.pack("<I", w)
        if "flash_size_base" in sig:
            words[sig["flash_size_base"]] = struct.pack("<H", sig["flash_size_kb"])
        if "package_base" in sig:
            words[sig["package_base"]] = struct.pack("<H", sig["package"])
        pages = sorted({a & ~(PAGE - 1) for a in words})
        for page in pages:
            if self.find(page) is not None:
                for a, b in words.items():
                    if a & ~(PAGE - 1) == page:
                        self.load(a, b)
                continue
            region = MemoryRegion(name=f"SIGNATURE@{page:08x}", kind="rom", base=page, size=PAGE, fill=0xFF)
            buf = np.full(PAGE, 0xFF, dtype=np.uint8)
            for a, b in words.items():
                if a & ~(PAGE - 1) == page:
                    buf[a - page: a - page + len(b)] = np.frombuffer(b, dtype=np.uint8)
            self._map(region, buf)

    # -- queries ---------------------------------------------------------------------------------------
    def find(self, address: int) -> MappedRegion | None:
        for m in self.regions:
            if m.base <= address < m.base + m.size:
                return m
        return None

    def buffer_of(self, name: str) -> np.ndarray:
        for m in self.regions:
            if m.region.name == name:
                return m.buffer
        raise PlatformError(f"{self.board.name}: no memory region named {name!r}")

    def load(self, address: int, data: bytes) -> None:
        """Write `data` at `address` through the host buffer (also into read-only flash/ROM)."""
        m = self.find(address)
        if m is None or address + len(data) > m.base + m.size:
            raise PlatformError(f"0x{address:08x}+{len(data)} bytes is not inside one memory region")
        off = address - m.base
        m.buffer[off: off + len(data)] = np.frombuffer(bytes(data), dtype=np.uint8)

    def read_u32(self, address: int) -> int:
        return struct.unpack("<I", bytes(self.uc.mem_read(address, 4)))[0]
