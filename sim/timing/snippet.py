"""Run a Thumb-2 assembly snippet on a bare Unicorn Cortex-M4 with the cycle model attached: the tool
behind the microbenchmark tests, and handy to ask "what does the model charge for this code?".

    result = run_snippet('''
        ldr r1, [r0]
        ldr r2, [r0, #4]
    ''', regs={"r0": 0x20001000})
    result.cycles, result.instructions, result.counter

The snippet is wrapped between the labels `start` and `end`, assembled with arm-none-eabi-gcc (cortex-m4,
fpv4-sp-d16) and linked at `base` (flash 0x08000000 by default, or an SRAM address). Flash and SRAM are
mapped as on the STM32L4R5; FLASH_ACR state comes from `flash` = (latency, prften, icen, dcen).
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

import unicorn
from elftools.elf.elffile import ELFFile
from tinyperf.errors import BuildError
from tinyperf.sim.timing.cycles import CycleCounter
from tinyperf.sim.timing.native_build import cache_dir
from unicorn import arm_const

FLASH = (0x0800_0000, 0x20_0000)
SRAM = (0x2000_0000, 0xA_0000)
PROLOGUE = ".syntax unified\n.thumb\n.cpu cortex-m4\n.fpu fpv4-sp-d16\n.text\n.global start\n.thumb_func\nstart:\n"


@dataclass
class SnippetResult:
    cycles: int
    instructions: int
    counter: CycleCounter
    uc: unicorn.Uc
    symbols: dict[str, int]


def assemble(source: str, base: int) -> tuple[bytes, dict[str, int]]:
    """Assemble `source` (between labels start/end) at `base`; returns (code, symbol -> address).
    Cached under $TINYPERF_CACHE/snippets by the hash of source and base."""
    gcc = shutil.which("arm-none-eabi-gcc")
    if gcc is None:
        raise BuildError("arm-none-eabi-gcc not found; install it (apt install gcc-arm-none-eabi)")
    text = PROLOGUE + source + "\n.global end\nend:\n    b end\n"
    key = hashlib.sha256(f"{base:#x}\n{text}".encode()).hexdigest()[:20]
    out = cache_dir() / "snippets" / key
    elf_path = out / "s.elf"
    if not elf_path.is_file():
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryDirectory(dir=out) as tmp:
            src, obj, elf_tmp = Path(tmp) / "s.S", Path(tmp) / "s.o", Path(tmp) / "s.elf"
            src.write_text(text)
            for cmd in ([gcc, "-c", "-mcpu=cortex-m4", "-mthumb", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard",
                         str(src), "-o", str(obj)],
                        [gcc, "-nostdlib", "-mcpu=cortex-m4", "-mthumb", f"-Wl,-Ttext={base:#x}",
                         "-Wl,-e,start", str(obj), "-o", str(elf_tmp)]):
                proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
                if proc.returncode:
                    raise BuildError(f"assembling snippet failed: {proc.stderr.strip()}\nsource:\n{text}")
            elf_tmp.replace(elf_path)
    with open(elf_path, "rb") as fh:
        elf = ELFFile(fh)
        text_sec = elf.get_section_by_name(".text")
        code = text_sec.data()
        syms = {s.name: s["st_value"] & ~1 for s in elf.get_section_by_name(".symtab").iter_symbols()
                if s.name}
    return code, syms


def run_snippet(source: str, base: int = FLASH[0], regs: dict[str, int] | None = None,
                flash: tuple[int, bool, bool, bool] = (0, False, False, False), model=None,
                exact_data: bool = False, data: dict[int, bytes] | None = None,
                pc_ranges: tuple[tuple[int, int], ...] = (), max_slices: int = 1000) -> SnippetResult:
    """Assemble and run `source` from `start` to `end`; returns the modelled cycles and instructions.
    `regs`: initial register values by name ("r0".."r12", "sp", "lr"); `data`: address -> bytes
    written before running; `flash`: (LATENCY, PRFTEN, ICEN, DCEN); `pc_ranges`: ranges given to
    counter.track_pc_in (mapped as RAM here)."""
    code, syms = assemble(source, base)
    uc = unicorn.Uc(unicorn.UC_ARCH_ARM, unicorn.UC_MODE_THUMB | unicorn.UC_MODE_MCLASS)
    uc.ctl_set_cpu_model(arm_const.UC_CPU_ARM_CORTEX_M4)
    for lo, size in (FLASH, SRAM):
        uc.mem_map(lo, size)
    uc.mem_write(base, code)
    for addr, blob in (data or {}).items():
        uc.mem_write(addr, blob)
    uc.reg_write(arm_const.UC_ARM_REG_SP, SRAM[0] + SRAM[1] - 0x100)
    for name, value in (regs or {}).items():
        uc.reg_write(getattr(arm_const, f"UC_ARM_REG_{name.upper()}"), value)
    counter = CycleCounter(uc, model=model, exact_data=exact_data)
    counter.flash_config_changed(*flash)
    counter.rescan()
    for lo, hi in pc_ranges:
        uc.mem_map(lo, hi - lo)
        counter.track_pc_in(lo, hi)
    pc, end = syms["start"], syms["end"]
    for _ in range(max_slices):
        counter.emu_start(pc | 1, end)
        pc = uc.reg_read(arm_const.UC_ARM_REG_PC)
        if pc == end:
            break
    else:
        raise RuntimeError(f"snippet did not reach `end` ({end:#x}); PC {pc:#x}")
    return SnippetResult(counter.cycles, counter.instructions, counter, uc, syms)
