"""The Cortex-M4F core on Unicorn 2.1.4 (UC_ARCH_ARM, Thumb, M-class, UC_CPU_ARM_CORTEX_M4).

`create_engine()` makes the engine; `UcRegs` is the register file the exception model works on
(`tinyperf.sim.exceptions.CoreRegs`). Facts about this Unicorn build, found by experiment (see
tests/test_sim_cpu.py):

- a branch to 0xFFFFFFxx (EXC_RETURN) raises QEMU's internal EXCP_EXCEPTION_EXIT (UC_HOOK_INTR number 8)
  with PC = the value with bit 0 cleared, in thread and handler mode alike: the run loop catches it and
  unstacks in Python; QEMU's own exception return never runs.
- writing IPSR through UC_ARM_REG_XPSR* banks SP correctly (QEMU's write_v7m_exception); CONTROL.SPSEL
  writes are ignored in handler mode, so mode switches go thread->CONTROL first, IPSR second.
- CONTROL.FPCA is set by QEMU when an FP instruction runs, but an MSR/uc_reg_write can only change it
  when NSACR.CP10 is set, and this build leaves NSACR = 0 with no register to write it:
  `_make_fpca_writable` sets it in the saved CPU context (found by its neighbour FPCCR's reset value and
  checked by a write/read-back; if the check fails, FPCA stays as QEMU sets it and a warning says so).
- this build never checks CPACR (QEMU's fp_exception_el is compiled out): FP instructions always run.
  The board detects FP instructions while CPACR disables CP10/CP11 and raises the NOCP UsageFault itself
  (`tinyperf.sim.board`).
- WFI makes emu_start return with PC after the WFI; WFE/YIELD end it with UC_ERR_INSN_INVALID and PC after
  the instruction; UDF gives UC_ERR_INSN_INVALID with PC at it; a BX to an even address gives
  UC_ERR_INSN_INVALID with EPSR.T = 0; SVC and BKPT raise interrupts 2 and 7 (PC after SVC, at BKPT);
  unmapped/protected data accesses stop with PC at the faulting instruction.
"""

from __future__ import annotations

import ctypes
import logging
import struct

from unicorn import UC_ARCH_ARM, UC_MODE_MCLASS, UC_MODE_THUMB, Uc, UcError
from unicorn import arm_const as A
from unicorn.unicorn_py3.unicorn import uclib

log = logging.getLogger("tinyperf.sim.cpu")

# QEMU exception numbers as seen by UC_HOOK_INTR (qemu/target/arm/cpu.h)
EXCP_UDEF, EXCP_SWI, EXCP_PREFETCH_ABORT, EXCP_DATA_ABORT = 1, 2, 3, 4
EXCP_BKPT, EXCP_EXCEPTION_EXIT, EXCP_NOCP, EXCP_INVSTATE = 7, 8, 17, 18
EXCP_UNALIGNED, EXCP_DIVBYZERO = 22, 23

_REG = {f"r{i}": getattr(A, f"UC_ARM_REG_R{i}") for i in range(13)}
_REG.update({f"s{i}": getattr(A, f"UC_ARM_REG_S{i}") for i in range(32)})
_REG.update(sp=A.UC_ARM_REG_SP, lr=A.UC_ARM_REG_LR, pc=A.UC_ARM_REG_PC, msp=A.UC_ARM_REG_MSP,
            psp=A.UC_ARM_REG_PSP, control=A.UC_ARM_REG_CONTROL, primask=A.UC_ARM_REG_PRIMASK,
            basepri=A.UC_ARM_REG_BASEPRI, faultmask=A.UC_ARM_REG_FAULTMASK, fpscr=A.UC_ARM_REG_FPSCR)

_CTX_HEADER = 40          # bytes before the CPUARMState copy in a uc_context (unicorn 2.1.x)
_FPCCR_RESET = (0x80000000, 0xC0000004)   # v7m.fpccr[NS], [S] after reset: ASPEN / ASPEN|LSPEN|S
_NSACR_FROM_FPCCR = 24    # fpccr[2], fpdscr[2], cpacr[2] then nsacr (QEMU's CPUARMState.v7m)


def create_engine() -> Uc:
    """A Cortex-M4 engine with no memory mapped, FPCA writable like on hardware."""
    uc = Uc(UC_ARCH_ARM, UC_MODE_THUMB | UC_MODE_MCLASS)
    uc.ctl_set_cpu_model(A.UC_CPU_ARM_CORTEX_M4)
    _make_fpca_writable(uc)
    return uc


def _make_fpca_writable(uc: Uc) -> bool:
    ctx = uc.context_save()
    base = ctypes.cast(ctx.context, ctypes.c_void_p).value + _CTX_HEADER
    raw = ctypes.string_at(base, ctx.size)
    off = raw.find(struct.pack("<II", *_FPCCR_RESET))
    ok = False
    if off >= 0 and off % 4 == 0:
        nsacr = base + off + _NSACR_FROM_FPCCR
        if ctypes.c_uint32.from_address(nsacr).value == 0:
            ctypes.c_uint32.from_address(nsacr).value = 0xC00   # CP10, CP11 accessible
            uc.context_restore(ctx)
            uc.reg_write(A.UC_ARM_REG_CONTROL, 4)
            ok = uc.reg_read(A.UC_ARM_REG_CONTROL) & 4 == 4
            uc.reg_write(A.UC_ARM_REG_CONTROL, 0)
            ok = ok and uc.reg_read(A.UC_ARM_REG_CONTROL) & 4 == 0
    if not ok:
        log.warning("this Unicorn build does not let CONTROL.FPCA be cleared: exception entries stack the "
                    "FP frame whenever the FPU was used (frames and EXC_RETURN differ from hardware)")
    return ok


_REG["xpsr"] = A.UC_ARM_REG_XPSR
_WRITE_REG = dict(_REG, xpsr=A.UC_ARM_REG_XPSR_NZCVQG)   # xPSR writes include the GE bits


def _bare(fn):
    """A copy of a libunicorn function pointer without argtypes: ctypes then passes ints as C int and
    pointers (handle, byref) as they are, skipping the per-argument from_param conversions. Only for
    functions whose arguments are all int/pointer-sized (uc_reg_read/uc_reg_write)."""
    bare = type(fn)((fn.__name__, uclib))
    bare.restype = ctypes.c_int
    return bare


_uc_reg_read = _bare(uclib.uc_reg_read)
_uc_reg_write = _bare(uclib.uc_reg_write)
_WORDS = {n: struct.Struct(f"<{n}I") for n in (8, 26)}


class UcRegs:
    """The exception model's register file on a Unicorn engine; memory errors become MemoryError.
    Calls libunicorn through ctypes directly: exception entry/return touch ~40 registers and words, and
    the Python binding's per-call overhead would dominate interrupt-heavy runs."""

    def __init__(self, uc: Uc):
        self.uc = uc
        self._h = uc._uch
        self._v = ctypes.c_uint32()
        self._ref = ctypes.byref(self._v)
        self._buf = ctypes.create_string_buffer(4)
        self._batches: dict = {}

    def get(self, name: str) -> int:
        err = _uc_reg_read(self._h, _REG[name], self._ref)
        if err:
            raise UcError(err)
        return self._v.value

    def set(self, name: str, value: int) -> None:
        value &= 0xFFFFFFFF
        if name == "pc":
            value |= 1
        self._v.value = value
        err = _uc_reg_write(self._h, _WRITE_REG[name], self._ref)
        if err:
            raise UcError(err)

    def _batch(self, names: tuple[str, ...], table: dict[str, int]):
        key = (names, id(table))
        b = self._batches.get(key)
        if b is None:
            n = len(names)
            vals = (ctypes.c_uint32 * n)()
            b = ((ctypes.c_int * n)(*(table[x] for x in names)), vals,
                 (ctypes.c_void_p * n)(*(ctypes.addressof(vals) + 4 * i for i in range(n))), n)
            self._batches[key] = b
        return b

    def get_many(self, names: list[str]) -> list[int]:
        """Several registers in one engine call."""
        ids, vals, ptrs, n = self._batch(tuple(names), _REG)
        err = uclib.uc_reg_read_batch(self._h, ids, ptrs, n)
        if err:
            raise UcError(err)
        return vals[:]

    def set_many(self, items: dict[str, int]) -> None:
        """Several registers in one engine call (not "pc": use set)."""
        ids, vals, ptrs, n = self._batch(tuple(items), _WRITE_REG)
        for i, v in enumerate(items.values()):
            vals[i] = v & 0xFFFFFFFF
        err = uclib.uc_reg_write_batch(self._h, ids, ptrs, n)
        if err:
            raise UcError(err)

    def _words_buffer(self, count: int):
        """(Struct, preallocated buffer) for `count` words (exception frames: 8 or 26)."""
        key = ("words", count)
        b = self._batches.get(key)
        if b is None:
            b = self._batches[key] = (_WORDS.get(count) or struct.Struct(f"<{count}I"),
                                      ctypes.create_string_buffer(4 * count))
        return b

    def read_words(self, address: int, count: int) -> list[int]:
        fmt, buf = self._words_buffer(count)
        if uclib.uc_mem_read(self._h, address, buf, 4 * count):
            raise MemoryError(f"read of {count} words at 0x{address:08x}: nothing answers")
        return list(fmt.unpack_from(buf))

    def write_words(self, address: int, words: list[int]) -> None:
        fmt, buf = self._words_buffer(len(words))
        fmt.pack_into(buf, 0, *(w & 0xFFFFFFFF for w in words))
        if uclib.uc_mem_write(self._h, address, buf, 4 * len(words)):
            raise MemoryError(f"write of {len(words)} words at 0x{address:08x}: nothing answers")

    def set_mode(self, ipsr: int, control: int) -> None:
        if ipsr == 0:
            self.set("xpsr", self.get("xpsr") & ~0x1FF)   # thread mode first
            self.set("control", control)                  # then SPSEL takes effect
        else:
            self.set("control", control)                  # SPSEL=0 while still in thread mode
            self.set("xpsr", (self.get("xpsr") & ~0x1FF) | ipsr)

    def read32(self, address: int) -> int:
        if uclib.uc_mem_read(self._h, address, self._buf, 4):
            raise MemoryError(f"read of 0x{address:08x}: nothing answers")
        return int.from_bytes(self._buf.raw, "little")

    def write32(self, address: int, value: int) -> None:
        self._buf.raw = (value & 0xFFFFFFFF).to_bytes(4, "little")
        if uclib.uc_mem_write(self._h, address, self._buf, 4):
            raise MemoryError(f"write of 0x{address:08x}: nothing answers")

    def snapshot(self) -> dict[str, int]:
        """r0-r12, sp, lr, pc, xpsr, msp, psp, control, primask, basepri, faultmask."""
        names = [f"r{i}" for i in range(13)] + ["sp", "lr", "pc", "xpsr", "msp", "psp", "control",
                                                  "primask", "basepri", "faultmask"]
        return {n: self.get(n) for n in names}


def instruction_at(uc: Uc, address: int) -> tuple[int, int]:
    """(halfword at address, 32-bit Thumb-2 encoding or 0 if 16-bit) for recognising WFI/WFE/UDF."""
    try:
        hw = struct.unpack("<H", bytes(uc.mem_read(address, 2)))[0]
    except UcError:
        return 0, 0
    if hw >> 11 in (0b11101, 0b11110, 0b11111):
        try:
            hw2 = struct.unpack("<H", bytes(uc.mem_read(address + 2, 2)))[0]
        except UcError:
            return hw, 0
        return hw, (hw << 16) | hw2
    return hw, 0


WFE_ENCODINGS = {0xBF20, 0xBF10}            # WFE, YIELD (16-bit)
WFE_ENCODINGS_W = {0xF3AF8002, 0xF3AF8001}  # WFE.W, YIELD.W
WFI_ENCODING, WFI_ENCODING_W = 0xBF30, 0xF3AF8003


def preceding_hint(uc: Uc, pc: int) -> str | None:
    """"wfi"/"wfe" when the instruction that ends just before `pc` is WFI or WFE/YIELD."""
    hw, _ = instruction_at(uc, pc - 2)
    if hw == WFI_ENCODING:
        return "wfi"
    if hw in WFE_ENCODINGS:
        return "wfe"
    _, w = instruction_at(uc, pc - 4)
    if w == WFI_ENCODING_W:
        return "wfi"
    if w in WFE_ENCODINGS_W:
        return "wfe"
    return None
