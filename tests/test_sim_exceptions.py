"""The exception model as pure logic over a dictionary register file (no Unicorn): priorities with
PRIGROUP, masking, stacking layout and alignment, EXC_RETURN, unstacking, escalation and lockup.
Expected values from the ARMv7-M ARM (DDI 0403E) B1.5."""

from __future__ import annotations

import pytest
from tinyperf.sim.exceptions import (
    BUSFAULT,
    CFSR,
    HARDFAULT,
    HFSR,
    IRQ0,
    PENDSV,
    SHCSR_ENA,
    SYSTICK,
    USAGEFAULT,
    CoreState,
    ExceptionEngine,
    Lockup,
)

pytestmark = pytest.mark.unit


class DictRegs:
    """A core as dictionaries: banked MSP/PSP chosen by mode and CONTROL.SPSEL like the hardware."""

    def __init__(self, msp=0x20001000, psp=0x20000800):
        self.r = {f"r{i}": 0x100 + i for i in range(13)}
        self.r.update({f"s{i}": 0x3F800000 + i for i in range(16)})
        self.r.update(lr=0x08000123, pc=0x08000400, xpsr=0x01000000, msp=msp, psp=psp, control=0,
                      primask=0, basepri=0, faultmask=0, fpscr=0x03000000)
        self.mem: dict[int, int] = {}

    def get(self, name):
        if name == "sp":
            return self.r["psp" if self.r["control"] & 2 and not self.r["xpsr"] & 0x1FF else "msp"]
        return self.r[name]

    def set(self, name, value):
        self.r[name] = value & 0xFFFFFFFF

    def set_mode(self, ipsr, control):
        self.r["xpsr"] = (self.r["xpsr"] & ~0x1FF) | ipsr
        self.r["control"] = control

    def read32(self, a):
        if not 0x20000000 <= a < 0x20030000:
            raise MemoryError(hex(a))
        return self.mem.get(a, 0)

    def write32(self, a, v):
        if not 0x20000000 <= a < 0x20030000:
            raise MemoryError(hex(a))
        self.mem[a] = v


def engine(**regs):
    st = CoreState(num_irqs=95, prio_bits=4)
    r = DictRegs(**regs)
    for exc in range(st.count):           # vector n -> 0x08001000 + 4n, Thumb
        r.mem[0x20000000 + 4 * exc] = 0x08001001 + 8 * exc
    st.vtor = 0x20000000
    cycles = []
    return ExceptionEngine(st, r, charge=lambda c, k: cycles.append(c)), st, r, cycles


def test_group_priority_by_prigroup():
    st = CoreState(prio_bits=4)
    assert st.group(0x60) == 0x60                 # PRIGROUP 0: group = bits [7:1]
    st.prigroup = 5                               # group = bits [7:6]
    assert (st.group(0x60), st.group(0x40), st.group(0xC0)) == (0x40, 0x40, 0xC0)
    st.set_priority(IRQ0, 0x5F)                   # 4 implemented bits: low nibble reads 0
    assert st.prio[IRQ0] == 0x50


def test_execution_priority_and_masks():
    st = CoreState()
    assert st.execution_priority(0, 0, 0) == 256
    st.active[IRQ0 + 3], st.prio[IRQ0 + 3] = True, 0x80
    assert st.execution_priority(0, 0, 0) == 0x80
    assert st.execution_priority(0, 0x40, 0) == 0x40
    assert st.execution_priority(0, 0xC0, 0) == 0x80     # BASEPRI lower than the active one: no effect
    assert st.execution_priority(1, 0, 0) == 0
    assert st.execution_priority(0, 0, 1) == -1


def test_highest_pending_tie_breaks():
    st = CoreState()
    for n in (7, 5):
        st.enabled[IRQ0 + n] = st.pending[IRQ0 + n] = True
        st.prio[IRQ0 + n] = 0x40
    assert st.highest_pending() == IRQ0 + 5               # same priority: lower number first
    st.prio[IRQ0 + 7] = 0x30
    assert st.highest_pending() == IRQ0 + 7
    st.pending[SYSTICK], st.prio[SYSTICK] = True, 0x30
    assert st.highest_pending() == SYSTICK                # same priority: SysTick (15) < IRQ7 (23)


@pytest.mark.parametrize("sp,aligned", [(0x20001000, False), (0x20000FFC, True)])
def test_entry_frame_layout_and_alignment(sp, aligned):
    eng, st, r, cycles = engine(msp=sp)
    r.r["xpsr"] = 0x81000000 | 0x0600FC00 & 0x00000C00    # N flag, T, some IT bits
    eng.enter(IRQ0 + 2, 0x08000400)
    frame = (sp - 0x20) & ~7
    assert r.get("msp") == frame
    words = [r.mem[frame + 4 * i] for i in range(8)]
    assert words[:6] == [0x100, 0x101, 0x102, 0x103, 0x10C, 0x08000123]
    assert words[6] == 0x08000400
    assert words[7] == 0x81000C00 | ((1 << 9) if aligned else 0)
    assert r.get("lr") == 0xFFFFFFF9
    assert r.get("pc") == 0x08001000 + 8 * (IRQ0 + 2)
    assert r.get("xpsr") & 0x1FF == IRQ0 + 2 and r.get("xpsr") & 0x0600FC00 == 0   # IT cleared
    assert st.active[IRQ0 + 2] and not st.pending[IRQ0 + 2]
    assert cycles == [12]
    eng.exception_return(0xFFFFFFF9)
    assert r.get("msp") == sp and r.get("pc") == 0x08000400
    assert r.get("xpsr") == 0x81000C00                    # IT bits restored, bit 9 not visible
    assert not st.active[IRQ0 + 2] and cycles == [12, 10]


def test_entry_from_psp_and_fp_frame():
    eng, _, r, _ = engine()
    r.r["control"] = 0b110                                # SPSEL (PSP), FPCA
    eng.enter(PENDSV, 0x08000500)
    assert r.get("psp") == 0x20000800 - 0x68             # extended frame on the process stack
    assert r.get("lr") == 0xFFFFFFED
    assert r.get("control") & 0b110 == 0                 # handler: MSP, FPCA cleared
    assert [r.mem[r.get("psp") + 0x20 + 4 * i] for i in range(16)] == [0x3F800000 + i for i in range(16)]
    assert r.mem[r.get("psp") + 0x60] == 0x03000000      # FPSCR
    for i in range(16):
        r.set(f"s{i}", 0)
    eng.exception_return(0xFFFFFFED)
    assert r.get("psp") == 0x20000800 and r.get("control") & 0b110 == 0b110
    assert [r.get(f"s{i}") for i in range(16)] == [0x3F800000 + i for i in range(16)]


def test_nested_entry_and_tail_chain():
    eng, st, r, cycles = engine()
    for n, prio in ((1, 0x80), (2, 0x40), (3, 0x80)):
        st.enabled[IRQ0 + n], st.prio[IRQ0 + n] = True, prio
    st.pending[IRQ0 + 1] = True
    assert eng.take_pending() == IRQ0 + 1
    st.pending[IRQ0 + 2] = st.pending[IRQ0 + 3] = True
    assert eng.take_pending() == IRQ0 + 2                # 0x40 preempts 0x80
    assert r.get("lr") == 0xFFFFFFF1                     # from handler mode
    assert eng.take_pending() is None                    # IRQ3 (0x80) cannot preempt
    eng.exception_return(0xFFFFFFF1)                     # back to IRQ1: IRQ3 still cannot preempt it
    assert r.get("xpsr") & 0x1FF == IRQ0 + 1
    eng.exception_return(0xFFFFFFF9)                     # IRQ1 done: IRQ3 tail-chains, no unstacking
    assert r.get("xpsr") & 0x1FF == IRQ0 + 3 and r.get("lr") == 0xFFFFFFF9
    assert cycles[-1] == 6


def test_bad_exc_return_is_invpc():
    eng, st, r, _ = engine()
    st.shcsr |= SHCSR_ENA[USAGEFAULT]
    st.prio[USAGEFAULT] = 0
    st.enabled[IRQ0], st.pending[IRQ0], st.prio[IRQ0] = True, True, 0x80
    eng.take_pending()
    eng.exception_return(0xFFFFFFF5)                     # reserved EXC_RETURN
    assert st.cfsr & CFSR["INVPC"] and r.get("xpsr") & 0x1FF == USAGEFAULT


def test_disabled_fault_escalates_and_lockup():
    eng, st, r, _ = engine()
    taken = eng.fault(BUSFAULT, CFSR["PRECISERR"], return_address=0x08000404, address=0x30000000)
    assert taken == HARDFAULT
    assert st.cfsr == CFSR["PRECISERR"] | CFSR["BFARVALID"] and st.bfar == 0x30000000
    assert st.hfsr == HFSR["FORCED"]
    with pytest.raises(Lockup):                          # a fault inside HardFault locks the core up
        eng.fault(USAGEFAULT, CFSR["UNDEFINSTR"], return_address=r.get("pc"))


def test_enabled_fault_taken_and_stacking_error_is_lockup():
    eng, st, _, _ = engine()
    st.shcsr |= SHCSR_ENA[BUSFAULT]
    assert eng.fault(BUSFAULT, CFSR["PRECISERR"], return_address=0x08000404, address=0x1) == BUSFAULT
    assert st.hfsr == 0
    eng2, _, _, _ = engine(msp=0x10)                    # stack pointer into nothing
    with pytest.raises(Lockup):
        eng2.enter(SYSTICK, 0x08000400)


def test_fp_frame_cycles_follow_lazy_stacking():
    """With lazy stacking the FP part of the frame costs time only if the handler used the FPU (17 cycles
    to preserve, 17 to restore, FACTS.md): a handler leaving FPCA clear returns in 10 cycles."""
    eng, _, r, cycles = engine()
    r.r["control"] = 0b100                                # FPCA: extended frame
    eng.enter(SYSTICK, 0x08000400)
    eng.exception_return(0xFFFFFFE9)
    assert cycles == [12, 10]
    r.r["control"] = 0b100
    eng.enter(SYSTICK, 0x08000400)
    r.r["control"] |= 0b100                               # the handler executed an FP instruction
    eng.exception_return(0xFFFFFFE9)
    assert cycles[2:] == [12, 10 + 2 * 17]
