"""Cross toolchains for the Cortex-M4F firmware: `find_toolchain()` returns the GNU Arm toolchain
(`arm-none-eabi-gcc` on PATH) or, failing that, Zig's clang from the `ziglang` PyPI package.

A `Toolchain` compiles C (C11) and assembly sources for the STM32L4R5 (Cortex-M4, FPv4-SP-D16, hard-float
ABI, Thumb-2), links them with a linker script into an ELF without the C library (the firmware brings its
own memcpy/memset and number formatting; only the compiler's runtime, libgcc or compiler_rt, is linked),
and turns the ELF into a raw .bin and an Intel .hex. The .bin/.hex extraction and the section size report
read the ELF with pyelftools, so both toolchains give identical outputs for the same ELF.

    tc = find_toolchain()                      # or find_toolchain("zig")
    tc.link(sources, "fw.elf", linker_script="fw.ld", include_dirs=[...], defines={"BAUD": 115200})
    tc.to_bin("fw.elf", "fw.bin"); tc.to_hex("fw.elf", "fw.hex")
    for s in section_sizes("fw.elf"): print(s.name, s.size, s.region)
"""

from __future__ import annotations

import importlib.util
import logging
import os
import shutil
import subprocess
import sys
from collections.abc import Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from tinyperf.errors import BuildError

log = logging.getLogger("tinyperf.firmware")

INSTALL_HINT = ("install the GNU Arm toolchain (`apt install gcc-arm-none-eabi` / Arm GNU Toolchain on PATH) "
                "or Zig from PyPI: `pip install tinyperf[zig]`")

# Code generation shared by both toolchains. Single-precision constants and -Wdouble-promotion keep
# double-precision (software) arithmetic out of the image; sections per function let the linker drop
# unused code.
COMMON_CFLAGS = ("-std=c11", "-ffreestanding", "-fno-common", "-ffunction-sections", "-fdata-sections",
                 "-fomit-frame-pointer", "-Wall", "-Wextra", "-Wdouble-promotion", "-Wno-unused-parameter",
                 "-g")
GCC_TARGET = ("-mcpu=cortex-m4", "-mthumb", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard",
              "-fsingle-precision-constant")   # clang has no -fsingle-precision-constant
ZIG_TARGET = ("-target", "thumb-freestanding-eabihf", "-mcpu=cortex_m4+vfp4d16sp")
OPT_LEVELS = ("-O0", "-O1", "-O2", "-O3", "-Os", "-Oz")
COMPILE_TIMEOUT_S = 600


@dataclass(frozen=True)
class Toolchain:
    """A C cross compiler for the Cortex-M4F: `name` is "gcc" or "zig", `version` the compiler's own
    version line (part of the build cache key), `cc` the command prefix that runs the compiler driver."""

    name: str
    version: str
    cc: tuple[str, ...]
    target_flags: tuple[str, ...]
    link_flags: tuple[str, ...] = field(default=())

    def cflags(self, opt: str = "-O2") -> list[str]:
        """Compiler flags for `opt` (one of OPT_LEVELS)."""
        if opt not in OPT_LEVELS:
            raise BuildError(f"optimisation level {opt!r} is not one of {', '.join(OPT_LEVELS)}")
        flags = [*self.target_flags, opt, *COMMON_CFLAGS]
        if self.name == "zig":
            # zig cc enables UBSan traps unless told otherwise; a trap would fault the firmware.
            flags += ["-fno-sanitize=all", "-fno-stack-protector"]
        return flags

    def _run(self, argv: Sequence[str], what: str) -> str:
        log.debug("%s", " ".join(map(str, argv)))
        try:
            proc = subprocess.run(list(map(str, argv)), capture_output=True, text=True, check=False,
                                  timeout=COMPILE_TIMEOUT_S)
        except FileNotFoundError as e:
            raise BuildError(f"{self.name}: cannot run {argv[0]}: {e}; {INSTALL_HINT}") from None
        except subprocess.TimeoutExpired:
            raise BuildError(f"{self.name}: {what} did not finish within {COMPILE_TIMEOUT_S} s") from None
        if proc.returncode != 0:
            raise BuildError(f"{self.name}: {what} failed (exit {proc.returncode}):\n"
                             f"{(proc.stderr or proc.stdout).strip()}")
        return proc.stderr

    def compile(self, source: Path, obj: Path, *, include_dirs: Iterable[Path] = (),
                defines: Mapping[str, object] | None = None, opt: str = "-O2",
                extra_flags: Sequence[str] = ()) -> str:
        """Compile one C or assembly (.S) file to an object file; returns the compiler's warnings."""
        argv = [*self.cc, *self.cflags(opt), *extra_flags]
        argv += [f"-I{d}" for d in include_dirs]
        argv += [f"-D{k}" if v is None else f"-D{k}={v}" for k, v in (defines or {}).items()]
        argv += ["-c", str(source), "-o", str(obj)]
        Path(obj).parent.mkdir(parents=True, exist_ok=True)
        return self._run(argv, f"compiling {Path(source).name}")

    def link(self, sources: Sequence[Path], elf: Path, *, linker_script: Path,
             include_dirs: Iterable[Path] = (), defines: Mapping[str, object] | None = None,
             opt: str = "-O2", extra_flags: Sequence[str] = (), jobs: int = 2) -> list[str]:
        """Compile every source (in parallel, `jobs` at a time) and link them into `elf` with
        `linker_script`, unused sections dropped (gcc also writes a map file beside the ELF). Returns the
        compiler warnings, one entry per source that produced any."""
        elf = Path(elf)
        objdir = elf.parent / "obj"
        include_dirs = list(include_dirs)
        names: set[str] = set()
        objs = []
        for src in sources:
            stem = Path(src).stem
            while stem in names:
                stem += "_"
            names.add(stem)
            objs.append(objdir / f"{stem}.o")
        with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
            warnings = list(pool.map(lambda so: self.compile(so[0], so[1], include_dirs=include_dirs,
                                                             defines=defines, opt=opt,
                                                             extra_flags=extra_flags),
                                     zip(sources, objs)))
        argv = [*self.cc, *self.cflags(opt), *extra_flags, "-nostartfiles", f"-T{linker_script}",
                "-Wl,--gc-sections", *map(str, objs), *self.link_flags, "-o", str(elf)]
        if self.name == "gcc":  # zig cc rejects -Map
            argv.insert(-2, f"-Wl,-Map={elf.with_suffix('.map')}")
        warnings.append(self._run(argv, f"linking {elf.name}"))
        return [w.strip() for w in warnings if w.strip()]

    def to_bin(self, elf: Path, out: Path) -> Path:
        """Write the raw flash image of `elf` (every loadable byte at its load address, from the lowest
        one, gaps filled with 0xFF as erased flash reads)."""
        return elf_to_bin(elf, out)

    def to_hex(self, elf: Path, out: Path) -> Path:
        """Write `elf`'s loadable bytes as Intel HEX (with the entry point as start address)."""
        return elf_to_hex(elf, out)


# --------------------------------------------------------------------------------------- discovery

def _version(argv: Sequence[str]) -> str:
    try:
        out = subprocess.run(list(argv), capture_output=True, text=True, check=False, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise BuildError(f"cannot run {' '.join(argv)}: {e}") from None
    if out.returncode != 0:
        raise BuildError(f"`{' '.join(argv)}` failed: {out.stderr.strip()}")
    return out.stdout.strip().splitlines()[0] if out.stdout.strip() else out.stderr.strip()


@cache
def _gcc() -> Toolchain | None:
    cc = shutil.which("arm-none-eabi-gcc")
    if not cc:
        return None
    version = _version([cc, "--version"])
    # libgcc supplies the runtime helpers (64-bit division, ...) the compiler may call; no libc.
    return Toolchain("gcc", version, (cc,), GCC_TARGET, link_flags=("-nostdlib", "-lgcc"))


@cache
def _zig() -> Toolchain | None:
    if importlib.util.find_spec("ziglang") is None:
        return None
    cc = (sys.executable, "-m", "ziglang", "cc")
    version = "zig " + _version([sys.executable, "-m", "ziglang", "version"])
    # Freestanding zig links its own compiler_rt and no libc.
    return Toolchain("zig", version, cc, ZIG_TARGET, link_flags=("-Wl,--entry=Reset_Handler",))


def find_toolchain(prefer: str | None = None) -> Toolchain:
    """The toolchain to build with: `prefer` "gcc" or "zig" demands that one; None takes
    arm-none-eabi-gcc from PATH, else Zig from the `ziglang` package. Raises BuildError when none
    (or not the demanded one) is installed."""
    finders = {"gcc": _gcc, "zig": _zig}
    if prefer is not None:
        if prefer not in finders:
            raise BuildError(f"unknown toolchain {prefer!r}: choose gcc or zig")
        tc = finders[prefer]()
        if tc is None:
            hint = ("install gcc-arm-none-eabi (arm-none-eabi-gcc must be on PATH)" if prefer == "gcc"
                    else "`pip install tinyperf[zig]` (the ziglang package)")
            raise BuildError(f"toolchain {prefer} not found: {hint}")
        return tc
    for find in (_gcc, _zig):
        tc = find()
        if tc is not None:
            return tc
    raise BuildError(f"no Cortex-M toolchain found (PATH={os.environ.get('PATH', '')}): {INSTALL_HINT}")


# ----------------------------------------------------------------------------- ELF post-processing

@dataclass(frozen=True)
class LoadChunk:
    """Bytes the image places in memory: `data` at load (physical) address `address`."""

    address: int
    data: bytes


def load_chunks(elf: Path) -> list[LoadChunk]:
    """The file-backed bytes of every PT_LOAD segment of `elf`, at their load addresses, sorted."""
    from elftools.common.exceptions import ELFError
    from elftools.elf.elffile import ELFFile

    try:
        with open(elf, "rb") as f:
            ef = ELFFile(f)
            chunks = [LoadChunk(seg["p_paddr"], seg.data()[: seg["p_filesz"]])
                      for seg in ef.iter_segments() if seg["p_type"] == "PT_LOAD" and seg["p_filesz"] > 0]
    except (ELFError, OSError) as e:
        raise BuildError(f"{elf}: not a readable ELF file: {e}") from None
    return sorted(chunks, key=lambda c: c.address)


def elf_entry(elf: Path) -> int:
    from elftools.elf.elffile import ELFFile

    with open(elf, "rb") as f:
        return ELFFile(f).header["e_entry"]


def elf_to_bin(elf: Path, out: Path, fill: int = 0xFF) -> Path:
    """Raw image from the lowest load address to the highest, gaps filled with `fill`."""
    chunks = load_chunks(elf)
    if not chunks:
        raise BuildError(f"{elf}: no loadable bytes")
    base = chunks[0].address
    end = max(c.address + len(c.data) for c in chunks)
    if end - base > 16 * 1024 * 1024:
        raise BuildError(f"{elf}: loadable bytes span {end - base} bytes from 0x{base:08x}; a raw image "
                         "would be mostly padding (is a RAM section missing NOLOAD or an AT> FLASH?)")
    image = bytearray([fill]) * (end - base)
    for c in chunks:
        image[c.address - base: c.address - base + len(c.data)] = c.data
    _write_atomic(Path(out), bytes(image))
    return Path(out)


def elf_to_hex(elf: Path, out: Path) -> Path:
    """Intel HEX of the loadable bytes, with the ELF entry point as start linear address."""
    from intelhex import IntelHex

    ih = IntelHex()
    for c in load_chunks(elf):
        ih.puts(c.address, c.data)
    ih.start_addr = {"EIP": elf_entry(elf)}
    tmp = Path(str(out) + ".tmp")
    with open(tmp, "w") as f:
        ih.write_hex_file(f)
    os.replace(tmp, out)
    return Path(out)


@dataclass(frozen=True)
class SectionSize:
    """One allocated section: `size` bytes at run address `address`, loaded from `load_address`;
    `region` names the board memory region it occupies at run time, `flash` says whether it takes
    flash (file-backed bytes loaded from flash), `ram` whether it occupies RAM at run time."""

    name: str
    address: int
    load_address: int
    size: int
    region: str
    flash: bool
    ram: bool


def section_sizes(elf: Path, board=None) -> list[SectionSize]:
    """Allocated sections of `elf` with their sizes in bytes and memory regions (from `board`, default
    the NUCLEO-L4R5ZI description)."""
    from elftools.elf.constants import SH_FLAGS
    from elftools.elf.elffile import ELFFile

    if board is None:
        from tinyperf.platforms import load_board
        board = load_board()

    def region_of(addr: int) -> str:
        r = board.region_at(addr)
        return r.name if r else "?"

    out = []
    with open(elf, "rb") as f:
        ef = ELFFile(f)
        segments = [s for s in ef.iter_segments() if s["p_type"] == "PT_LOAD"]
        for sec in ef.iter_sections():
            if not sec["sh_flags"] & SH_FLAGS.SHF_ALLOC or sec["sh_size"] == 0:
                continue
            addr, size = sec["sh_addr"], sec["sh_size"]
            nobits = sec["sh_type"] == "SHT_NOBITS"
            lma = addr
            for seg in segments:
                if seg["p_vaddr"] <= addr < seg["p_vaddr"] + max(seg["p_memsz"], 1) and not nobits:
                    lma = seg["p_paddr"] + (addr - seg["p_vaddr"])
                    break
            run_region = region_of(addr)
            in_flash = not nobits and region_of(lma) == "FLASH"
            in_ram = run_region.startswith("SRAM")
            out.append(SectionSize(sec.name, addr, lma, size, run_region, in_flash, in_ram))
    return out


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = Path(str(path) + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)
