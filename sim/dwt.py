"""Data Watchpoint and Trace unit at 0xE0001000 (model "dwt"): the cycle counter CYCCNT.

CYCCNT counts HCLK cycles while DEMCR.TRCENA (SCS, bit 24) and DWT_CTRL.CYCCNTENA (bit 0) are both set
[ARMv7-M ARM C1.8.6, C1.8.7]; it is readable and writable (firmware zeroes it to time code) and wraps at
2^32. The value is derived from the board's cycle count when read: no per-cycle work.
The other counters (CPI, exception, sleep, LSU, fold) and the comparators are not modelled: they read 0.
DWT_CTRL reset value: NUMCOMP=4 in bits [31:28] (Cortex-M4 TRM 8.3, four comparators).
"""

from __future__ import annotations

from tinyperf.errors import PlatformError
from tinyperf.sim.peripherals.base import HANDLER, RO, RW, WO, Peripheral, Reg, register_model

CTRL_RESET = 0x40000000
CYCCNTENA = 1


@register_model("dwt")
class Dwt(Peripheral):
    REGISTERS = (
        Reg("CTRL", 0x000, reset=CTRL_RESET, writable=0x1FFF),   # NUMCOMP etc. read-only
        Reg("CYCCNT", 0x004, access=HANDLER),
        Reg("CPICNT", 0x008), Reg("EXCCNT", 0x00C), Reg("SLEEPCNT", 0x010), Reg("LSUCNT", 0x014),
        Reg("FOLDCNT", 0x018), Reg("PCSR", 0x01C, access=RO),
        Reg("COMP0", 0x020), Reg("MASK0", 0x024), Reg("FUNCTION0", 0x028),
        Reg("COMP1", 0x030), Reg("MASK1", 0x034), Reg("FUNCTION1", 0x038),
        Reg("COMP2", 0x040), Reg("MASK2", 0x044), Reg("FUNCTION2", 0x048),
        Reg("COMP3", 0x050), Reg("MASK3", 0x054), Reg("FUNCTION3", 0x058),
        Reg("LAR", 0xFB0, access=WO), Reg("LSR", 0xFB4, access=RO),
    )

    def __init__(self, spec, ctx):
        self._base_value = 0        # CYCCNT at _base_cycle
        self._base_cycle = 0
        self._counting = False
        super().__init__(spec, ctx)
        self.on_read["CYCCNT"] = self._read_cyccnt
        self.on_write["CYCCNT"] = self._write_cyccnt
        self.on_write["CTRL"] = self._write_ctrl

    def reset(self) -> None:
        super().reset()
        self._base_value, self._base_cycle, self._counting = 0, 0, False

    def read_stable_for(self, offset: int) -> int | None:
        return 0 if offset & ~3 == 0x004 else None      # CYCCNT counts every cycle

    def _should_count(self) -> bool:
        scs = self._scs()
        trcena = bool(getattr(scs, "demcr", 0) >> 24 & 1) if scs is not None else False
        return trcena and bool(self.values["CTRL"] & CYCCNTENA)

    def _scs(self):
        try:
            return self.ctx.peripheral("SCS")
        except PlatformError:
            return None

    @property
    def cyccnt(self) -> int:
        if not self._counting:
            return self._base_value
        return (self._base_value + self.ctx.cycles - self._base_cycle) & 0xFFFFFFFF

    def counting_changed(self) -> None:
        """Re-evaluate TRCENA/CYCCNTENA (called by the SCS on DEMCR writes and on CTRL writes)."""
        value = self.cyccnt
        self._base_value, self._base_cycle = value, self.ctx.cycles
        self._counting = self._should_count()

    def _read_cyccnt(self) -> int:
        return self.cyccnt

    def _write_cyccnt(self, value: int, old: int) -> int:
        self._base_value, self._base_cycle = value & 0xFFFFFFFF, self.ctx.cycles
        return value

    def _write_ctrl(self, value: int, old: int) -> int:
        new = (old & ~0x1FFF) | (value & 0x1FFF)
        self.values["CTRL"] = new
        self.counting_changed()
        return new


__all__ = ["RW", "Dwt"]
