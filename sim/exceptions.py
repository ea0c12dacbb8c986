"""The ARMv7-M exception model (Arm DDI 0403E "ARMv7-M Architecture Reference Manual", chapter B1.5).

Unicorn executes instructions but does not deliver M-profile exceptions; this module does, in Python, on
the rare occasions they happen (a SysTick tick, a UART byte, a fault):

- `CoreState`: the system-control state the NVIC and SCB registers show (enables, pending and active
  bits, priorities, PRIGROUP, VTOR, CCR, SHCSR, fault status). `tinyperf.sim.scs` is its register view.
- priorities (B1.5.4): group priority by AIRCR.PRIGROUP, execution priority from the active exceptions
  and PRIMASK/BASEPRI/FAULTMASK, choice of the pending exception to take (lowest group priority, then
  subpriority, then lowest exception number);
- `ExceptionEngine` over a register file (`CoreRegs`: Unicorn in `tinyperf.sim.cpu`, a dict in the unit
  tests): entry with 8-word stacking and the 26-word FP extended frame when CONTROL.FPCA is set (FP
  state is stacked eagerly; lazy stacking is not modelled), 8-byte stack alignment (CCR.STKALIGN, xPSR
  bit 9), EXC_RETURN 0xFFFFFFF1/F9/FD/E1/E9/ED, MSP/PSP selection, IT/ICI bits kept in the stacked xPSR,
  return with unstacking and tail-chaining (B1.5.6-B1.5.8), faults escalated to HardFault (B1.5.15),
  lockup.
Exception entry costs 12 cycles, return 10, tail-chain 6 (Arm knowledge article KA16366, /work/shared/FACTS.md);
FP state is stacked eagerly but charged as with lazy stacking: 17 cycles each way only when the handler
used the FPU.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

log = logging.getLogger("tinyperf.sim.exceptions")

# Exception numbers [ARMv7-M B1.5.2]
RESET, NMI, HARDFAULT, MEMMANAGE, BUSFAULT, USAGEFAULT = 1, 2, 3, 4, 5, 6
SVCALL, DEBUGMONITOR, PENDSV, SYSTICK, IRQ0 = 11, 12, 14, 15, 16
NAMES = {RESET: "Reset", NMI: "NMI", HARDFAULT: "HardFault", MEMMANAGE: "MemManage", BUSFAULT: "BusFault",
         USAGEFAULT: "UsageFault", SVCALL: "SVCall", DEBUGMONITOR: "DebugMonitor", PENDSV: "PendSV",
         SYSTICK: "SysTick"}
FAULTS = (HARDFAULT, MEMMANAGE, BUSFAULT, USAGEFAULT)

# CFSR bits [ARMv7-M B3.2.15]: MMFSR [7:0], BFSR [15:8], UFSR [31:16]
CFSR_BITS = {
    0: "IACCVIOL", 1: "DACCVIOL", 3: "MUNSTKERR", 4: "MSTKERR", 5: "MLSPERR", 7: "MMARVALID",
    8: "IBUSERR", 9: "PRECISERR", 10: "IMPRECISERR", 11: "UNSTKERR", 12: "STKERR", 13: "LSPERR",
    15: "BFARVALID",
    16: "UNDEFINSTR", 17: "INVSTATE", 18: "INVPC", 19: "NOCP", 24: "UNALIGNED", 25: "DIVBYZERO",
}
CFSR = {name: 1 << bit for bit, name in CFSR_BITS.items()}
# HFSR bits [ARMv7-M B3.2.16]
HFSR_BITS = {1: "VECTTBL", 30: "FORCED", 31: "DEBUGEVT"}
HFSR = {name: 1 << bit for bit, name in HFSR_BITS.items()}
# SHCSR enable bits [B3.2.13]
SHCSR_ENA = {MEMMANAGE: 1 << 16, BUSFAULT: 1 << 17, USAGEFAULT: 1 << 18}
CCR_STKALIGN = 1 << 9

EXC_RETURN_HANDLER_MSP, EXC_RETURN_THREAD_MSP, EXC_RETURN_THREAD_PSP = 0xFFFFFFF1, 0xFFFFFFF9, 0xFFFFFFFD
EXC_RETURN_FP_BIT = 1 << 4           # 0: the frame holds the FP extended state
CONTROL_SPSEL, CONTROL_FPCA = 1 << 1, 1 << 2
XPSR_IT_MASK = 0x0600FC00            # IT[1:0] at 26:25, IT[7:2] at 15:10 (ICI shares these bits)
XPSR_ALIGN = 1 << 9                  # stacked xPSR bit 9: the frame was realigned by 4 bytes
BASIC_FRAME, FP_FRAME = 0x20, 0x68   # bytes

ENTRY_CYCLES, RETURN_CYCLES, TAILCHAIN_CYCLES = 12, 10, 6
FP_CONTEXT_CYCLES = 17               # lazy FP state preservation, and FP unstacking, each (FACTS.md)


def exception_name(exc: int) -> str:
    return NAMES.get(exc, f"IRQ{exc - IRQ0}" if exc >= IRQ0 else f"exception {exc}")


def decode_bits(value: int, names: dict[int, str]) -> list[str]:
    """Names of the set bits of a status register (unknown set bits as "bitN")."""
    out = [names.get(b, f"bit{b}") for b in range(32) if value >> b & 1]
    return out


class CoreRegs(Protocol):
    """What the engine needs of a core: registers by name ("r0".."r12", "sp", "lr", "pc", "xpsr", "msp",
    "psp", "control", "primask", "basepri", "faultmask", "fpscr", "s0".."s15" as raw 32-bit values) and
    32-bit memory accesses that raise MemoryError when nothing answers."""

    def get(self, name: str) -> int: ...
    def set(self, name: str, value: int) -> None: ...
    def read32(self, address: int) -> int: ...
    def write32(self, address: int, value: int) -> None: ...
    def set_mode(self, ipsr: int, control: int) -> None:
        """Switch to handler mode (ipsr != 0) or thread mode with CONTROL (SPSEL, FPCA), banking SP."""


MASK_REGS = ["primask", "basepri", "faultmask"]


class FlagList(list):
    """A list of bools (one per exception number) that also keeps `on`, the set of indices holding a
    true value, so that finding pending/active exceptions does not scan all 256 entries."""

    def __init__(self, n: int):
        super().__init__([False] * n)
        self.on: set[int] = set()

    def __setitem__(self, index, value) -> None:
        list.__setitem__(self, index, value)
        if isinstance(index, slice):
            self.on = {i for i, v in enumerate(self) if v}
        else:
            i = index + len(self) if index < 0 else index
            if value:
                self.on.add(i)
            else:
                self.on.discard(i)


def _get_many(r: CoreRegs, names: list[str]) -> list[int]:
    fn = getattr(r, "get_many", None)
    return fn(names) if fn else [r.get(n) for n in names]


def _set_many(r: CoreRegs, items: dict[str, int]) -> None:
    fn = getattr(r, "set_many", None)
    if fn:
        fn(items)
    else:
        for n, v in items.items():
            r.set(n, v)


def _write_words(r: CoreRegs, address: int, words: list[int]) -> None:
    fn = getattr(r, "write_words", None)
    if fn:
        fn(address, words)
    else:
        for i, w in enumerate(words):
            r.write32(address + 4 * i, w)


def _read_words(r: CoreRegs, address: int, count: int) -> list[int]:
    fn = getattr(r, "read_words", None)
    return fn(address, count) if fn else [r.read32(address + 4 * i) for i in range(count)]


FRAME_REGS = ["r0", "r1", "r2", "r3", "r12", "lr"]
FP_REGS = [f"s{i}" for i in range(16)] + ["fpscr"]


class Lockup(Exception):
    """The core locked up [ARMv7-M B1.5.15]: a fault at priority -1 or higher, or a fault while stacking
    for HardFault. `reason` says which."""


@dataclass
class CoreState:
    """NVIC/SCB state: per exception number (0..15 system, 16.. external) enable, pending, active and
    8-bit priority (implemented bits only: the low 8-prio_bits read as zero)."""

    num_irqs: int = 95
    prio_bits: int = 4
    vtor: int = 0
    prigroup: int = 0
    ccr: int = CCR_STKALIGN       # Cortex-M4 r0p1 resets CCR.STKALIGN to 1 [ARMv7-M B3.2.8, M4 TRM]
    shcsr: int = 0                # only the *ENA bits are stored; ACT/PENDED come from active/pending
    cfsr: int = 0
    hfsr: int = 0
    mmfar: int = 0
    bfar: int = 0
    cpacr: int = 0
    scr: int = 0
    pending: list[bool] = field(default_factory=list)
    active: list[bool] = field(default_factory=list)
    enabled: list[bool] = field(default_factory=list)
    prio: list[int] = field(default_factory=list)
    line: list[bool] = field(default_factory=list)   # level of each IRQ input

    def __post_init__(self) -> None:
        n = IRQ0 + self.num_irqs
        self.pending = FlagList(n)
        self.active = FlagList(n)
        self.enabled = [False] * n
        self.line = [False] * n
        self.prio = [0] * n
        self.prio[RESET], self.prio[NMI], self.prio[HARDFAULT] = -3, -2, -1

    def reset(self) -> None:
        """Every register at its reset value [ARMv7-M B3.2, B3.4]."""
        self.vtor = self.prigroup = self.shcsr = self.cfsr = self.hfsr = self.mmfar = self.bfar = 0
        self.cpacr = self.scr = 0
        self.ccr = CCR_STKALIGN
        self.__post_init__()

    @property
    def count(self) -> int:
        return IRQ0 + self.num_irqs

    def prio_mask(self) -> int:
        return (0xFF << (8 - self.prio_bits)) & 0xFF

    def set_priority(self, exc: int, value: int) -> None:
        if exc > HARDFAULT:
            self.prio[exc] = value & self.prio_mask()

    # -- priorities [B1.5.4] ---------------------------------------------------------------------------
    def group(self, prio: int) -> int:
        """Group priority of a raw priority under PRIGROUP (negative fixed priorities unchanged)."""
        if prio < 0:
            return prio
        return prio & ((0xFF << (self.prigroup + 1)) & 0xFF)

    def is_enabled(self, exc: int) -> bool:
        if exc >= IRQ0:
            return self.enabled[exc]
        if exc in SHCSR_ENA:
            return bool(self.shcsr & SHCSR_ENA[exc])
        return exc in (NMI, HARDFAULT, SVCALL, PENDSV, SYSTICK, DEBUGMONITOR)

    def active_priority(self) -> int:
        """Highest (numerically lowest) group priority among active exceptions, 256 when none."""
        best = 256
        for exc in self.active.on:
            if exc:
                best = min(best, self.group(self.prio[exc]))
        return best

    def execution_priority(self, primask: int, basepri: int, faultmask: int) -> int:
        """The current execution priority [B1.5.4 ExecutionPriority()]."""
        prio = self.active_priority()
        if basepri & 0xFF:
            prio = min(prio, self.group(basepri & self.prio_mask()))
        if primask & 1:
            prio = min(prio, 0)
        if faultmask & 1:
            prio = min(prio, -1)
        return prio

    def highest_pending(self) -> int | None:
        """The enabled pending exception that would be taken first, or None."""
        best, key = None, None
        for exc in self.pending.on:              # keys are distinct (exc is in them): order is irrelevant
            if exc and self.is_enabled(exc):
                k = (self.group(self.prio[exc]), self.prio[exc], exc)
                if key is None or k < key:
                    best, key = exc, k
        return best

    def num_active(self) -> int:
        return sum(self.active)


class ExceptionEngine:
    """Entry, return and faults on a core. `charge(cycles, kind)` accounts the cycles each costs.

    The run loop calls, in order: `take_pending()` whenever the CPU stopped (it enters the highest
    pending exception if it can preempt); `exception_return(value)` when the core branched to an
    EXC_RETURN value; `fault(exc, cfsr_bits, ...)` for a synchronous fault."""

    def __init__(self, state: CoreState, regs: CoreRegs, charge: Callable[[int, str], None] | None = None,
                 has_fpu: bool = True):
        self.state = state
        self.regs = regs
        self.charge = charge or (lambda cycles, kind: None)
        self.has_fpu = has_fpu
        self.history: list[tuple[str, int]] = []   # recent ("enter"/"return"/"fault", exception) events
        self.last_fault: dict | None = None

    # -- queries ---------------------------------------------------------------------------------------
    def ipsr(self) -> int:
        return self.regs.get("xpsr") & 0x1FF

    def execution_priority(self) -> int:
        return self.state.execution_priority(*_get_many(self.regs, MASK_REGS))

    def pending_to_take(self) -> int | None:
        """The pending exception that would preempt now, or None."""
        exc = self.state.highest_pending()
        if exc is None:
            return None
        return exc if self.state.group(self.state.prio[exc]) < self.execution_priority() else None

    # -- external events -------------------------------------------------------------------------------
    def pend(self, exc: int) -> None:
        self.state.pending[exc] = True

    def set_irq(self, irq: int, level: bool = True) -> None:
        """Drive external interrupt input `irq`: a rising level pends it; the level is kept so that an
        interrupt still asserted when its handler returns is pended again."""
        exc = IRQ0 + irq
        if not 0 <= irq < self.state.num_irqs:
            raise ValueError(f"IRQ {irq} does not exist (0..{self.state.num_irqs - 1})")
        self.state.line[exc] = level
        if level:
            self.state.pending[exc] = True

    def take_pending(self) -> int | None:
        """Enter the pending exception that can preempt, if any; returns its number."""
        exc = self.pending_to_take()
        if exc is not None:
            self.enter(exc, self.regs.get("pc"))
        return exc

    # -- entry [B1.5.6] --------------------------------------------------------------------------------
    def enter(self, exc: int, return_address: int) -> None:
        """Stack the context at `return_address` and branch to the handler of `exc` through VTOR."""
        r, st = self.regs, self.state
        r0, r1, r2, r3, r12, lr, xpsr, control, msp, psp = _get_many(r, FRAME_REGS + ["xpsr", "control", "msp", "psp"])
        handler_mode = (xpsr & 0x1FF) != 0
        use_psp = not handler_mode and bool(control & CONTROL_SPSEL)
        fp_frame = self.has_fpu and bool(control & CONTROL_FPCA)
        size = FP_FRAME if fp_frame else BASIC_FRAME
        sp = psp if use_psp else msp
        align = bool(sp & 4) and bool(st.ccr & CCR_STKALIGN)
        frame = (sp - size) & ~(7 if st.ccr & CCR_STKALIGN else 3)
        xpsr = (xpsr & ~XPSR_ALIGN) | (XPSR_ALIGN if align else 0)
        words = [r0, r1, r2, r3, r12, lr, return_address & ~1, xpsr]
        if fp_frame:
            words += _get_many(r, FP_REGS) + [0]
        try:
            _write_words(r, frame, words)
        except MemoryError as e:
            raise Lockup(f"stacking for {exception_name(exc)} at SP=0x{sp:08x} failed: {e}") from None
        r.set("psp" if use_psp else "msp", frame)
        exc_return = (EXC_RETURN_HANDLER_MSP if handler_mode else
                      EXC_RETURN_THREAD_PSP if use_psp else EXC_RETURN_THREAD_MSP)
        if fp_frame:
            exc_return &= ~EXC_RETURN_FP_BIT
        self._dispatch(exc, exc_return, control)
        self.charge(ENTRY_CYCLES, "exception")

    def _dispatch(self, exc: int, exc_return: int, control: int) -> None:
        r, st = self.regs, self.state
        try:
            vector = r.read32(st.vtor + 4 * exc)
        except MemoryError:
            if exc == HARDFAULT:
                raise Lockup(f"vector table read for HardFault at 0x{st.vtor + 12:08x} failed") from None
            st.hfsr |= HFSR["VECTTBL"]
            st.pending[exc] = False
            self._dispatch(HARDFAULT, exc_return, control)
            return
        st.pending[exc] = False
        st.active[exc] = True
        r.set("lr", exc_return)
        # CONTROL.SPSEL = 0, CONTROL.FPCA = 0; IPSR = exc; IT bits cleared; T from the vector.
        r.set_mode(exc, control & ~(CONTROL_SPSEL | CONTROL_FPCA))
        xpsr = (r.get("xpsr") & ~(XPSR_IT_MASK | 0x1FF | (1 << 24))) | exc | ((vector & 1) << 24)
        r.set("xpsr", xpsr)
        r.set("pc", vector & ~1)
        self.history.append(("enter", exc))
        del self.history[:-32]

    # -- return [B1.5.8] -------------------------------------------------------------------------------
    def exception_return(self, exc_return: int) -> None:
        """The core branched to `exc_return` (0xFFFFFFxx) in handler mode: deactivate the current
        exception, then tail-chain into a pending one or unstack the frame."""
        r, st = self.regs, self.state
        exc_return &= 0xFFFFFFFF
        current = self.ipsr()
        low = exc_return & 0xF
        if current == 0 or not st.active[current] or low not in (0x1, 0x9, 0xD) or \
                (exc_return | 0x10) != (0xFFFFFFE0 | 0x10 | low):
            self.fault(USAGEFAULT, CFSR["INVPC"], return_address=r.get("pc"),
                       note=f"bad EXC_RETURN 0x{exc_return:08x} in {exception_name(current)}")
            return
        st.active[current] = False
        if current != NMI:
            r.set("faultmask", 0)
        if st.line[current]:           # level-sensitive input still asserted
            st.pending[current] = True
        self.history.append(("return", current))
        # Tail-chaining [B1.5.12]: a pending exception that can preempt the context we return to is
        # entered without unstacking and restacking.
        to_thread = low != 0x1
        nxt = st.highest_pending()
        if nxt is not None:
            target_prio = st.execution_priority(*_get_many(r, MASK_REGS))
            if st.group(st.prio[nxt]) < target_prio:
                self._dispatch(nxt, exc_return, r.get("control"))
                self.charge(TAILCHAIN_CYCLES, "exception")
                return
        use_psp = low == 0xD
        fp_frame = not exc_return & EXC_RETURN_FP_BIT
        sp = r.get("psp" if use_psp else "msp")
        try:
            words = _read_words(r, sp, 26 if fp_frame else 8)
        except MemoryError as e:
            raise Lockup(f"unstacking at SP=0x{sp:08x} failed: {e}") from None
        xpsr = words[7]
        size = FP_FRAME if fp_frame else BASIC_FRAME
        new_sp = sp + size + (4 if xpsr & XPSR_ALIGN and st.ccr & CCR_STKALIGN else 0)
        restore = dict(zip(FRAME_REGS, words))
        restore["psp" if use_psp else "msp"] = new_sp
        if fp_frame:
            restore.update(zip(FP_REGS, words[8:25]))
        _set_many(r, restore)
        control = r.get("control")
        # Lazy stacking [B1.5.7]: the hardware writes and reads back S0-S15/FPSCR only if the handler used
        # the FPU (its CONTROL.FPCA is set); the frame is stacked eagerly here but charged as on silicon.
        fp_cycles = 2 * FP_CONTEXT_CYCLES if fp_frame and control & CONTROL_FPCA else 0
        control &= ~(CONTROL_SPSEL | CONTROL_FPCA)
        control |= (CONTROL_SPSEL if use_psp else 0) | (0 if not fp_frame else CONTROL_FPCA)
        ipsr = 0 if to_thread else (xpsr & 0x1FF)
        r.set_mode(ipsr, control)
        r.set("xpsr", (xpsr & ~(XPSR_ALIGN | 0x1FF)) | ipsr)
        r.set("pc", words[6] & ~1)
        self.charge(RETURN_CYCLES + fp_cycles, "exception")

    # -- faults [B1.5.14-15] ---------------------------------------------------------------------------
    def fault(self, exc: int, cfsr_bits: int = 0, *, return_address: int, address: int | None = None,
              hfsr_bits: int = 0, note: str = "") -> int:
        """Raise a synchronous fault of kind `exc` (MemManage/BusFault/UsageFault/HardFault/SVCall) at
        the instruction at `return_address`; `address` is the data address of a precise data fault.
        Escalates to HardFault (HFSR.FORCED) when the fault is disabled or cannot preempt; raises Lockup
        when not even HardFault can. Returns the exception entered."""
        st = self.state
        st.cfsr |= cfsr_bits
        if address is not None:
            if cfsr_bits & CFSR["PRECISERR"]:
                st.bfar, st.cfsr = address & 0xFFFFFFFF, st.cfsr | CFSR["BFARVALID"]
            if cfsr_bits & CFSR["DACCVIOL"]:
                st.mmfar, st.cfsr = address & 0xFFFFFFFF, st.cfsr | CFSR["MMARVALID"]
        prio = self.execution_priority()
        taken = exc
        if exc != HARDFAULT and (not st.is_enabled(exc) or st.group(st.prio[exc]) >= prio):
            taken = HARDFAULT
            hfsr_bits |= HFSR["FORCED"] if exc != HARDFAULT else 0
        st.hfsr |= hfsr_bits if taken == HARDFAULT else 0
        if taken == HARDFAULT and prio <= -1:
            raise Lockup(f"{exception_name(exc)} ({', '.join(decode_bits(cfsr_bits, CFSR_BITS)) or note}) "
                         f"at priority {prio} while in {exception_name(self.ipsr())}")
        self.last_fault = {"exception": exc, "taken": taken, "pc": return_address & ~1, "note": note,
                           "cfsr": st.cfsr, "hfsr": st.hfsr, "address": address}
        self.history.append(("fault", taken))
        st.pending[taken] = True
        self.enter(taken, return_address)
        return taken
