"""Static checks of a firmware ELF against the board: the image must run unchanged on the real
NUCLEO-L4R5ZI, so it may contain nothing simulator-specific.

`check_image(elf)` disassembles the code of every function (capstone, Thumb-2; literal pools skipped
with the ELF mapping symbols $t/$d) and reports
- semihosting or breakpoint instructions (BKPT, in particular BKPT 0xAB; SVC 0xAB),
- memory accesses (LDR*/STR*/LDM/STM, VLDR/VSTR) whose address the code builds from constants (MOVW/MOVT,
  MOV, PC-relative literal loads, ADD/SUB immediate) and that fall into peripheral space
  (0x4000_0000..0x5FFF_FFFF, 0xE000_0000..0xE00F_FFFF) outside every peripheral block of the board
  description, or into the flash/SRAM address ranges outside the board's memories.
The tracking is linear within a function and forgets register values at every branch, so it finds the
accesses to fixed register addresses that drivers make; it returns the peripheral blocks accessed, so a
test can also check that the expected ones (RCC, PWR, FLASH, the console UART, TIM2, SCS) are seen.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from tinyperf.platforms import load_board

PERIPHERAL_RANGES = ((0x4000_0000, 0x6000_0000), (0xE000_0000, 0xE010_0000))   # [RM0432 2.2.2], PPB
MEMORY_RANGES = ((0x0800_0000, 0x0A00_0000), (0x1000_0000, 0x1001_0000), (0x2000_0000, 0x2010_0000))


@dataclass
class ImageReport:
    """Findings for one ELF: `problems` empty means the image passed."""

    functions: int = 0
    instructions: int = 0
    constants: int = 0
    peripherals: set[str] = field(default_factory=set)
    problems: list[str] = field(default_factory=list)


def _symbols(ef):
    """(functions [(name, start, size)], mapping symbols [(address, kind 't'|'d'|'a')] sorted)."""
    from elftools.elf.sections import SymbolTableSection

    funcs, maps = [], []
    for sec in ef.iter_sections():
        if isinstance(sec, SymbolTableSection):
            for sym in sec.iter_symbols():
                if sym["st_info"]["type"] == "STT_FUNC" and sym["st_size"] > 0:
                    funcs.append((sym.name, sym["st_value"] & ~1, sym["st_size"]))
                elif sym.name[:2] in ("$t", "$d", "$a") and (len(sym.name) == 2 or sym.name[2] == "."):
                    maps.append((sym["st_value"] & ~1, sym.name[1]))
    return funcs, sorted(maps)


def _code_ranges(start: int, size: int, maps) -> list[tuple[int, int]]:
    """Sub-ranges of [start, start+size) that the mapping symbols mark as Thumb code."""
    kind = "t"
    for addr, k in maps:
        if addr <= start:
            kind = k
    cuts = [(addr, k) for addr, k in maps if start < addr < start + size]
    ranges, cur = [], start
    for addr, k in cuts + [(start + size, "end")]:
        if kind == "t" and addr > cur:
            ranges.append((cur, addr))
        cur, kind = addr, k
    return ranges


def _read(ef, address: int, size: int) -> bytes | None:
    for seg in ef.iter_segments():
        if seg["p_type"] == "PT_LOAD" and seg["p_vaddr"] <= address and \
                address + size <= seg["p_vaddr"] + seg["p_filesz"]:
            off = address - seg["p_vaddr"]
            return seg.data()[off: off + size]
    return None


BRANCHES = ("b", "bl", "blx", "bx", "cbz", "cbnz", "tbb", "tbh", "pop", "ldm", "it")


def check_image(elf: Path, board: str = "nucleo_l4r5zi") -> ImageReport:
    import capstone
    from capstone import arm as carm
    from elftools.elf.elffile import ELFFile

    brd = load_board(board)
    report = ImageReport()
    md = capstone.Cs(capstone.CS_ARCH_ARM, capstone.CS_MODE_THUMB | capstone.CS_MODE_MCLASS)
    md.detail = True

    def classify(value: int, where: str) -> None:
        report.constants += 1
        if any(lo <= value < hi for lo, hi in PERIPHERAL_RANGES):
            spec = next((p for p in brd.peripherals if p.base <= value < p.base + p.size), None)
            if spec is None:
                report.problems.append(f"{where}: access to 0x{value:08x}, in peripheral space but in no "
                                       f"peripheral of {brd.name}")
            else:
                report.peripherals.add(spec.name)
        elif any(lo <= value < hi for lo, hi in MEMORY_RANGES) and brd.region_at(value) is None:
            report.problems.append(f"{where}: access to 0x{value:08x}, in no memory of {brd.name}")

    with open(elf, "rb") as f:
        ef = ELFFile(f)
        funcs, maps = _symbols(ef)
        for name, fstart, fsize in funcs:
            report.functions += 1
            for start, end in _code_ranges(fstart, fsize, maps):
                code = _read(ef, start, end - start)
                if code is None:
                    continue
                known: dict[int, int] = {}   # register -> constant value
                for insn in md.disasm(code, start):
                    report.instructions += 1
                    _step(insn, known, ef, classify, report, f"{name}+0x{insn.address - fstart:x}", carm)
    return report


def _step(insn, known, ef, classify, report, where, carm) -> None:
    """Interpret one instruction for the constant tracker; report bad instructions and accesses."""
    mnem = insn.mnemonic.split(".")[0]
    ops = insn.operands
    text = f"{where} ({insn.mnemonic} {insn.op_str})"
    if mnem == "bkpt":
        report.problems.append(f"{text}: breakpoint/semihosting instruction")
    elif mnem == "svc" and ops and ops[0].imm == 0xAB:
        report.problems.append(f"{text}: semihosting SVC 0xAB")
    value = None
    if mnem in ("movw", "mov", "movs") and len(ops) == 2 and ops[1].type == carm.ARM_OP_IMM:
        value = ops[1].imm & 0xFFFFFFFF
    elif mnem == "movt" and len(ops) == 2 and ops[0].reg in known:
        value = ((ops[1].imm & 0xFFFF) << 16) | (known[ops[0].reg] & 0xFFFF)
    elif mnem in ("add", "adds", "addw", "sub", "subs", "subw") and len(ops) == 3 and \
            ops[1].type == carm.ARM_OP_REG and ops[1].reg in known and ops[2].type == carm.ARM_OP_IMM:
        sign = -1 if mnem.startswith("sub") else 1
        value = (known[ops[1].reg] + sign * ops[2].imm) & 0xFFFFFFFF
    is_mem = mnem.startswith(("ldr", "str", "vldr", "vstr"))
    if is_mem and len(ops) >= 2 and ops[-1].type == carm.ARM_OP_MEM:
        mem = ops[-1].mem
        if mem.base == carm.ARM_REG_PC:
            if mnem == "ldr" and len(ops) == 2:
                word = _read(ef, ((insn.address + 4) & ~3) + mem.disp, 4)
                if word is not None:
                    value = int.from_bytes(word, "little")
        elif mem.base in known and mem.index == 0:
            post_indexed = len(ops) == 3 or insn.writeback and "]!" not in insn.op_str
            classify((known[mem.base] + (0 if post_indexed else mem.disp)) & 0xFFFFFFFF, text)
    # forget everything this instruction writes, then record the new constant
    try:
        written = insn.regs_access()[1]
    except capstone_error():
        written = [op.reg for op in ops[:1] if op.type == carm.ARM_OP_REG]
    for reg in written:
        known.pop(reg, None)
    if value is not None and ops and ops[0].type == carm.ARM_OP_REG:
        known[ops[0].reg] = value
    if mnem in BRANCHES or mnem.startswith(("b", "cb")) and mnem not in ("bic", "bics", "bfi", "bfc"):
        known.clear()


def capstone_error():
    import capstone

    return capstone.CsError
