"""Firmware images: ELF (pyelftools), Intel HEX (intelhex) and raw .bin, read into load segments.

    image = load_image("fw.elf", board)     # -> Image(segments=[Segment(address, data)], symbols, ...)

- ELF: the PT_LOAD segments with file contents, at their physical (load) address, as a flash programmer
  writes them (initialised data is copied to SRAM by the firmware's startup code). Function and object
  symbols are kept for fault reports and profiles.
- Intel HEX: every contiguous run of data; an end-of-file record is required (a truncated file has none).
- .bin: the whole file at the start of flash (0x08000000 on the STM32L4R5).
Every segment must lie inside one flash or SRAM region (or an alias of one) of the board; anything else
(corrupt file, segment outside memory, empty image) is a LoaderError that names the file and the fault.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field
from pathlib import Path

from tinyperf.errors import LoaderError
from tinyperf.platforms import Board

LOADABLE_KINDS = ("flash", "sram")


@dataclass(frozen=True)
class Segment:
    """`data` bytes to be placed at `address`."""

    address: int
    data: bytes

    @property
    def end(self) -> int:
        return self.address + len(self.data)


@dataclass(frozen=True)
class Symbol:
    name: str
    address: int      # Thumb bit cleared
    size: int         # bytes (0 when the ELF does not say)


@dataclass
class SymbolTable:
    """Symbols sorted by address; `lookup(pc)` gives "name+0xoff" or None."""

    symbols: list[Symbol] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.symbols.sort(key=lambda s: s.address)
        self._addrs = [s.address for s in self.symbols]

    def lookup(self, address: int) -> str | None:
        i = bisect.bisect_right(self._addrs, address) - 1
        while i >= 0:
            s = self.symbols[i]
            if s.address <= address < s.address + max(s.size, 1):
                off = address - s.address
                return s.name if off == 0 else f"{s.name}+0x{off:x}"
            if s.size:      # sized symbol that does not cover the address: no answer
                return None
            i -= 1
        return None

    def address_of(self, name: str) -> int | None:
        return next((s.address for s in self.symbols if s.name == name), None)


@dataclass
class Image:
    """A loaded firmware image."""

    path: Path
    format: str                 # "elf", "hex", "bin"
    segments: list[Segment]
    symbols: SymbolTable

    @property
    def size(self) -> int:
        return sum(len(s.data) for s in self.segments)


def load_image(path: str | Path, board: Board) -> Image:
    """Read an image by its suffix (.elf/.axf/.out, .hex/.ihex, .bin) and check it fits `board`."""
    path = Path(path)
    if not path.is_file():
        raise LoaderError(f"firmware image {path} not found")
    suffix = path.suffix.lower()
    if suffix in (".hex", ".ihex", ".ihx"):
        image = _load_hex(path)
    elif suffix == ".bin":
        image = _load_bin(path, board)
    else:
        head = path.read_bytes()[:4]
        if head != b"\x7fELF":
            raise LoaderError(f"{path}: not an ELF file (starts with {head!r}); give a .elf, .hex or .bin")
        image = _load_elf(path)
    if not image.segments or image.size == 0:
        raise LoaderError(f"{path}: the image holds no loadable bytes; was it linked with a linker script "
                          f"for {board.name}?")
    for seg in image.segments:
        _check_fits(path, seg, board)
    return image


def _check_fits(path: Path, seg: Segment, board: Board) -> None:
    region = board.region_at(seg.address)
    if region is not None and region.kind == "alias":
        target = board.region(region.target or "")
        kind = target.kind
    else:
        kind = region.kind if region else None
    if region is None or kind not in LOADABLE_KINDS:
        where = f"in {region.name}" if region else "outside every memory region"
        raise LoaderError(f"{path}: segment at 0x{seg.address:08x} ({len(seg.data)} bytes) is {where}; "
                          f"images load into flash (0x{board.flash.base:08x}, {board.flash.size // 1024} KB) "
                          f"or SRAM: check the linker script")
    if seg.end > region.end:
        raise LoaderError(f"{path}: segment at 0x{seg.address:08x} is {len(seg.data)} bytes and runs past the "
                          f"end of {region.name} (0x{region.end:08x}) by {seg.end - region.end} bytes")


def _load_elf(path: Path) -> Image:
    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile

    try:
        with open(path, "rb") as f:
            elf = ELFFile(f)
            if elf.header["e_machine"] != "EM_ARM":
                raise LoaderError(f"{path}: ELF for {elf.header['e_machine']}, not ARM; build for Cortex-M4")
            segments = []
            for seg in elf.iter_segments():
                if seg["p_type"] != "PT_LOAD" or seg["p_filesz"] == 0:
                    continue
                data = seg.data()
                if len(data) != seg["p_filesz"]:
                    raise LoaderError(f"{path}: truncated ELF: segment at 0x{seg['p_paddr']:08x} should hold "
                                      f"{seg['p_filesz']} bytes, the file has {len(data)}")
                segments.append(Segment(seg["p_paddr"], bytes(data)))
            symbols = []
            symtab = elf.get_section_by_name(".symtab")
            if symtab is not None:
                for sym in symtab.iter_symbols():
                    kind = sym["st_info"]["type"]
                    if kind in ("STT_FUNC", "STT_OBJECT") and sym.name and sym["st_shndx"] != "SHN_UNDEF":
                        addr = sym["st_value"] & ~1 if kind == "STT_FUNC" else sym["st_value"]
                        symbols.append(Symbol(sym.name, addr, sym["st_size"]))
    except LoaderError:
        raise
    except (ELFError, ValueError, KeyError, OSError, AssertionError) as e:
        raise LoaderError(f"{path}: corrupt ELF file ({type(e).__name__}: {e}); rebuild the firmware") from None
    except Exception as e:  # noqa: BLE001 - pyelftools raises struct errors and others on garbage
        raise LoaderError(f"{path}: corrupt ELF file ({type(e).__name__}: {e}); rebuild the firmware") from None
    return Image(path, "elf", sorted(segments, key=lambda s: s.address), SymbolTable(symbols))


def _load_hex(path: Path) -> Image:
    from intelhex import IntelHex, IntelHexError

    text = path.read_bytes()
    records = [ln.strip() for ln in text.splitlines() if ln.strip()]
    if not records or not any(r[7:9] == b"01" for r in records if r.startswith(b":") and len(r) >= 11):
        raise LoaderError(f"{path}: Intel HEX file has no end-of-file record (type 01): truncated or not a "
                          f"HEX file")
    ih = IntelHex()
    try:
        ih.loadhex(str(path))
    except (IntelHexError, ValueError, UnicodeDecodeError) as e:
        raise LoaderError(f"{path}: corrupt Intel HEX file: {e}") from None
    segments = [Segment(lo, bytes(ih.tobinarray(start=lo, size=hi - lo))) for lo, hi in ih.segments()]
    return Image(path, "hex", segments, SymbolTable([]))


def _load_bin(path: Path, board: Board) -> Image:
    data = path.read_bytes()
    flash = board.flash
    if len(data) > flash.size:
        raise LoaderError(f"{path}: raw image is {len(data)} bytes, larger than the {flash.size // 1024} KB "
                          f"flash of {board.name}")
    return Image(path, "bin", [Segment(flash.base, data)] if data else [], SymbolTable([]))
