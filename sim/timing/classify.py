"""Decode a Unicorn translation block with capstone into the static costs the native counter charges.

Each instruction gets a class (TRM row, platforms/cortex_m4_timing.yaml) and a cycle count at zero wait
states; the block gets flags (taken-branch exit, interrupt-mask changes, WFI/WFE, where it is fetched
from), the taken-branch penalty P, the number of data accesses, and the cycles spent in each flash read
line (for the ART prefetch model). Called once per block, from the native hook's miss path.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass, field

import capstone
import numpy as np
from tinyperf.sim.timing.addresses import AddressTracker
from tinyperf.sim.timing.isa import (
    BRANCHES,
    DSP,
    FP_DIV,
    FP_MAC,
    IRQ_SYSREGS,
    LOAD_MULTI,
    LOADS,
    MUL_PREFIXES,
    MULS,
    STORE_MULTI,
    STORES,
    UC_REG,
    UC_REG_BY_NUM,
)
from tinyperf.sim.timing.model import TimingModel

log = logging.getLogger("tinyperf.sim.timing")


class Flags(enum.IntFlag):
    """Block flags shared with native/tp_counter.c (keep the values in sync)."""

    NONE = 0
    BRANCH = 1          # leaves by a branch or PC write: taken exit costs P
    IRQ_WINDOW = 2      # CPSIE/CPSID, MSR PRIMASK/BASEPRI/BASEPRI_MAX/FAULTMASK/CONTROL
    WFI = 4             # WFI or WFE
    FLASH = 8           # fetched from flash through the ART
    SRAM_BUS = 16       # fetched over the System bus
    UNALIGNED_WIDE = 32 # first instruction is 32-bit at a halfword (not word) aligned address
    ALWAYS_TAKEN = 64   # exit branch/PC write is unconditional: P even when it targets the next address


@dataclass
class DecodedBlock:
    """Static description of one translation block (costs in cycles at zero wait states)."""

    address: int
    size: int
    offsets: list[int] = field(default_factory=list)
    costs: list[int] = field(default_factory=list)
    classes: list[str] = field(default_factory=list)
    flags: Flags = Flags.NONE
    taken_penalty: int = 0
    mem_accesses: int = 0
    line_cycles: list[int] = field(default_factory=list)
    divides: list[tuple[int, int, int, bool]] = field(default_factory=list)   # addr, rn, rm, signed
    class_cycles: dict[str, int] = field(default_factory=dict)
    # loads that may read flash, as addresses.AddressTracker.result() packs them for the native side
    data_roots: list = field(default_factory=list)
    data_exprs: list = field(default_factory=list)
    data_loads: list = field(default_factory=list)
    unknown_loads: int = 0      # loads left unmodelled (assumed not to read flash)
    hooked_loads: list = field(default_factory=list)   # loads resolved by a code hook at run time


def _base(insn: capstone.CsInsn) -> str:
    return insn.insn_name()


def _mnemonic(insn: capstone.CsInsn) -> str:
    return insn.mnemonic.split(".")[0]


def _is_dsp_simd(name: str) -> bool:
    """Parallel add/subtract families: [SQU|SH|UH|UQ|Q|S|U](ADD|SUB)(8|16), (ASX|SAX)."""
    core = name.lstrip("qsuh")
    return name != core and (core in {"add8", "add16", "sub8", "sub16", "asx", "sax"})


class BlockDecoder:
    """Turns (address, size) into a DecodedBlock using capstone and the TimingModel."""

    def __init__(self, uc, model: TimingModel, track_data: bool = True):
        self.uc = uc
        self.model = model
        self.track_data = track_data and bool(model.flash_ranges) and not model.unit
        self.cs = capstone.Cs(capstone.CS_ARCH_ARM, capstone.CS_MODE_THUMB | capstone.CS_MODE_MCLASS)
        self.cs.detail = True
        self._cache: dict[tuple[int, int], DecodedBlock] = {}
        self._memops: dict[tuple[int, int], list] = {}
        c = model.class_cycles
        self._cyc = {k: c.get(k, 1) for k in (
            "alu", "nop", "it", "mul", "dsp", "div", "load", "load_excl", "store", "store_excl",
            "load_dual", "store_dual", "load_multi", "store_multi", "branch", "table_branch", "system",
            "barrier", "sleep", "exception", "fp_alu", "fp_mac", "fp_div", "fp_move", "fp_load",
            "fp_multi")}
        self._line_shift = model.art.line_bytes.bit_length() - 1

    # -------------------------------------------------------------- classification
    def classify(self, insn: capstone.CsInsn) -> tuple[str, int, int]:
        """(class, cycles at 0 WS without pipelining/folding, data accesses) for one instruction."""
        name, mn, cyc = _base(insn), _mnemonic(insn), self._cyc
        nops = len(insn.operands)
        if name in LOADS:
            return "load", cyc["load"], 1
        if name in STORES:
            return "store", cyc["store"], 1
        if name.startswith("ldrex"):
            return "load_excl", cyc["load_excl"], 1
        if name.startswith("strex"):
            return "store_excl", cyc["store_excl"], 1
        if name == "ldrd":
            return "load_dual", cyc["load_dual"], 2
        if name == "strd":
            return "store_dual", cyc["store_dual"], 2
        if name in LOAD_MULTI or name in STORE_MULTI:
            n = nops if name in ("pop", "push") else nops - 1
            cls = "load_multi" if name in LOAD_MULTI else "store_multi"
            return cls, cyc[cls] + n, n
        if name in BRANCHES:
            return "branch", cyc["branch"], 0
        if name in ("tbb", "tbh"):
            return "table_branch", cyc["table_branch"], 1
        if name == "it":
            return "it", cyc["it"], 0
        if name == "hint" or name in ("nop", "wfi", "wfe", "sev", "yield"):
            if mn.startswith(("wfi", "wfe")):
                return "sleep", cyc["sleep"], 0
            return "nop", cyc["nop"], 0
        if name in ("sdiv", "udiv"):
            return "div", cyc["div"], 0
        if name in MULS or (name.startswith(MUL_PREFIXES) and name not in DSP):
            return "mul", cyc["mul"], 0
        if name in DSP or _is_dsp_simd(name):
            return "dsp", cyc["dsp"], 0
        if name in ("mrs", "msr", "cps"):
            return "system", cyc["system"], 0
        if name in ("dmb", "dsb", "isb"):
            return "barrier", cyc["barrier"], 0
        if name in ("svc", "bkpt", "udf"):
            return "exception", cyc["exception"], 0
        if name.startswith("v") or name in ("fmstat",):
            return self._classify_fp(insn, name)
        return "alu", cyc["alu"], 0

    def _classify_fp(self, insn: capstone.CsInsn, name: str) -> tuple[str, int, int]:
        cyc = self._cyc
        regs = [insn.reg_name(op.reg) for op in insn.operands if op.type == capstone.arm.ARM_OP_REG]
        if name in FP_MAC:
            return "fp_mac", cyc["fp_mac"], 0
        if name in FP_DIV:
            return "fp_div", cyc["fp_div"], 0
        if name in ("vldr", "vstr"):
            wide = bool(regs) and regs[0].startswith("d")
            return "fp_load", cyc["fp_load"] + (1 if wide else 0), 2 if wide else 1
        if name.startswith(("vldm", "vstm")) or name in ("vpush", "vpop"):
            words = sum(2 if r.startswith("d") else 1 for r in regs if r[0] in "sd")
            return "fp_multi", cyc["fp_multi"] + words, words
        if name == "vmov":
            core = sum(1 for r in regs if not r.startswith(("s", "d")) or r in ("sp", "sb", "sl"))
            if core:
                return "fp_move", cyc["fp_move"] + (1 if core >= 2 else 0), 0
        return "fp_alu", cyc["fp_alu"], 0

    # -------------------------------------------------------------- blocks
    def decode(self, address: int, size: int) -> DecodedBlock:
        key = (address, size)
        blk = self._cache.get(key)
        if blk is None:
            blk = self._decode(address, size)
            self._cache[key] = blk
        return blk

    def _decode(self, address: int, size: int) -> DecodedBlock:
        blk = DecodedBlock(address, size)
        code = bytes(self.uc.mem_read(address, size)) if size else b""
        insns = list(self.cs.disasm(code, address))
        decoded = sum(i.size for i in insns)
        if decoded < size:
            log.warning("capstone decoded %d of %d bytes of the block at %#x; the rest is counted as "
                        "16-bit 1-cycle instructions", decoded, size, address)
        unit = self.model.unit
        prev = None                # previous instruction (capstone), its class
        prev_cls = ""
        tracker = AddressTracker(self.model) if self.track_data else None
        tracking = tracker is not None
        for insn in insns:
            if tracking:
                try:
                    tracker.step(insn)
                except Exception:
                    log.warning("flash data-read tracking gave up on %s %s at %#x; loads of this block "
                                "after it are not modelled", insn.mnemonic, insn.op_str, insn.address,
                                exc_info=True)
                    tracker.unknown += 1
                    tracking = False
            cls, cost, mem = self.classify(insn)
            if unit:
                cost = 1
            else:
                if cls == "it" and prev is not None and prev.size == 2:
                    cost = 0                                     # IT folding (TRM 3.3.1)
                if cls == "load" and prev_cls == "load" and prev is not None:
                    # the previous load's DATA (its destination), not its base writeback, must not feed
                    # this load's address (TRM 3.3.1: "... pipelined ... if the address does not
                    # depend on the result of the first")
                    loaded = {prev.operands[0].reg} if prev.operands else set()
                    if not (set(insn.regs_access()[0]) & loaded):
                        cost -= 1                                # LDR pipelining (TRM 3.3.1)
                if cls in ("div",) and len(insn.operands) >= 2:
                    ops = [insn.reg_name(o.reg) for o in insn.operands]
                    rn, rm = (ops[1], ops[2]) if len(ops) == 3 else (ops[0], ops[1])
                    blk.divides.append((insn.address, UC_REG[rn], UC_REG[rm], _base(insn) == "sdiv"))
            writes_pc = "pc" in [insn.reg_name(r) for r in insn.regs_access()[1]]
            if cls in ("branch", "table_branch") or writes_pc:
                blk.flags |= Flags.BRANCH
                if insn.cc in (capstone.arm.ARM_CC_AL, capstone.arm.ARM_CC_INVALID) and \
                        _base(insn) not in ("cbz", "cbnz"):
                    blk.flags |= Flags.ALWAYS_TAKEN
                else:
                    blk.flags &= ~Flags.ALWAYS_TAKEN
            mn = _mnemonic(insn)
            if name_is_irq_window(insn, mn):
                blk.flags |= Flags.IRQ_WINDOW
            if cls == "sleep":
                blk.flags |= Flags.WFI
            blk.offsets.append(insn.address - address)
            blk.costs.append(cost)
            blk.classes.append(cls)
            blk.mem_accesses += mem
            blk.class_cycles[cls] = blk.class_cycles.get(cls, 0) + cost
            prev, prev_cls = insn, cls
        for off in range(decoded, size, 2):                      # undecodable tail, if any
            blk.offsets.append(off)
            blk.costs.append(1)
            blk.classes.append("alu")
            blk.class_cycles["alu"] = blk.class_cycles.get("alu", 0) + 1
        if not unit:
            if blk.flags & Flags.BRANCH:
                blk.taken_penalty = self.model.refill
            if insns and insns[0].size == 4 and address % 4 == 2:
                blk.flags |= Flags.UNALIGNED_WIDE
            if self.model.in_flash(address):
                blk.flags |= Flags.FLASH
            elif self.model.in_sram_bus(address) and self.model.sram_bus_penalty:
                blk.flags |= Flags.SRAM_BUS
        blk.line_cycles = self._line_cycles(blk)
        if tracker is not None:
            (blk.data_roots, blk.data_exprs, blk.data_loads, blk.unknown_loads,
             blk.hooked_loads) = tracker.result()
        return blk

    def _line_cycles(self, blk: DecodedBlock) -> list[int]:
        sh = self._line_shift
        if not blk.size:
            return [sum(blk.costs)]
        first = blk.address >> sh
        n = ((blk.address + blk.size - 1) >> sh) - first + 1
        lines = [0] * n
        for off, cost in zip(blk.offsets, blk.costs):
            lines[((blk.address + off) >> sh) - first] += cost
        return lines

    # -------------------------------------------------------------- memory instructions (MMIO timing)
    def memory_ops(self, address: int, size: int) -> list:
        """The block's loads/stores in order as (offset, lo(reg) -> first byte address, bytes), where
        `reg(uc_id)` returns a register's current value (registers are exact inside MMIO callbacks, PC is
        not). Cached per block."""
        key = (address, size)
        ops = self._memops.get(key)
        if ops is None:
            ops = self._memops[key] = self._memory_ops(address, size)
        return ops

    def _memory_ops(self, address: int, size: int) -> list:
        out = []
        code = bytes(self.uc.mem_read(address, size))
        for insn in self.cs.disasm(code, address):
            name = _base(insn)
            regs = [insn.reg_name(o.reg) for o in insn.operands if o.type == capstone.arm.ARM_OP_REG]
            mem = next((o for o in insn.operands if o.type == capstone.arm.ARM_OP_MEM), None)
            multi = name in LOAD_MULTI or name in STORE_MULTI or name.startswith(("vldm", "vstm")) \
                or name in ("vpush", "vpop")
            if multi:
                on_sp = name in ("push", "pop", "vpush", "vpop")
                base = UC_REG["sp"] if on_sp else UC_REG.get(regs[0]) if regs else None
                if base is None:
                    continue
                listed = regs if on_sp else regs[1:]
                n = 4 * sum(2 if r.startswith("d") else 1 for r in listed)
                down = name in ("push", "vpush") or "db" in name
                out.append((insn.address - address,
                            (lambda reg, b=base, n=n: reg(b) - n) if down else (lambda reg, b=base: reg(b)), n))
            elif mem is not None:
                base = insn.reg_name(mem.mem.base)
                if base == "pc" or base not in UC_REG:
                    continue
                b = UC_REG[base]
                x = UC_REG.get(insn.reg_name(mem.mem.index)) if mem.mem.index else None
                sh = mem.shift.value if x is not None else 0
                disp = 0 if getattr(insn, "post_index", False) else mem.mem.disp
                nbytes = 8 if name in ("ldrd", "strd") else (
                    1 if name.endswith(("b", "bt")) else 2 if name.endswith(("h", "ht")) else 4)
                if x is None:
                    out.append((insn.address - address, lambda reg, b=b, d=disp: reg(b) + d, nbytes))
                else:
                    out.append((insn.address - address,
                                lambda reg, b=b, x=x, sh=sh: reg(b) + (reg(x) << sh), nbytes))
        return out

    # -------------------------------------------------------------- divides
    @staticmethod
    def scan_divides(base: int, data: bytes) -> list[tuple[int, int, int, bool]]:
        """Every halfword-aligned SDIV/UDIV (T1) encoding in `data` loaded at `base`: (address, Rn, Rm,
        signed) with unicorn register ids. Data that merely looks like a divide gets a hook that never
        fires (no instruction starts there)."""
        n = len(data) // 2
        if n < 2:
            return []
        hw = np.frombuffer(data[: n * 2], dtype="<u2")
        first, second = hw[:-1], hw[1:]
        top = first & 0xFFF0
        hits = np.nonzero(((top == 0xFB90) | (top == 0xFBB0)) & ((second & 0xF0F0) == 0xF0F0))[0]
        out = []
        for i in hits.tolist():
            f, s = int(first[i]), int(second[i])
            out.append((base + 2 * i, UC_REG_BY_NUM[f & 0xF], UC_REG_BY_NUM[s & 0xF], (f & 0xFFF0) == 0xFB90))
        return out


def name_is_irq_window(insn: capstone.CsInsn, mnemonic: str) -> bool:
    """CPSIE/CPSID or an MSR to a register that masks or unmasks interrupts."""
    if mnemonic.startswith("cps"):
        return True
    if _base(insn) == "msr":
        target = insn.op_str.split(",")[0].strip().lower()
        return target in IRQ_SYSREGS
    return False


