"""System Control Space at 0xE000E000 (model "scs"): NVIC, SCB, SysTick, MPU (storage only), FPU control
and DEMCR, as register views on the board's `CoreState` (tinyperf.sim.exceptions).

Sources: Arm DDI 0403E ARMv7-M ARM B3.2 (SCB), B3.3 (SysTick), B3.4 (NVIC), C1.6.5 (DEMCR);
Cortex-M4 TRM (DDI 0439B) chapter 4 (System Control) for CPUID 0x410FC241 (r0p1), the ID_* and MVFR reset
values (MVFR0/1 also match what Unicorn's Cortex-M4 model reports).

SysTick counts HCLK (CSR.CLKSOURCE=1) or the STM32 external reference HCLK/8 (CLKSOURCE=0)
[RM0432 6.2 "SysTick calibration ... HCLK/8"]. Its counter is computed from the board's cycle count on
demand, never counted per cycle: `next_event()` tells the run loop when it next wraps.
"""

from __future__ import annotations

import logging

from tinyperf.errors import PlatformError
from tinyperf.sim.exceptions import (
    BUSFAULT,
    DEBUGMONITOR,
    HARDFAULT,
    IRQ0,
    MEMMANAGE,
    NMI,
    PENDSV,
    SVCALL,
    SYSTICK,
    USAGEFAULT,
    CoreState,
)
from tinyperf.sim.peripherals.base import Peripheral, register_model

log = logging.getLogger("tinyperf.sim.scs")

CPUID = 0x410FC241          # Cortex-M4 r0p1 [TRM 4.3]
ID_REGS = {0xD40: 0x00000030, 0xD44: 0x00000200, 0xD48: 0x00100000, 0xD4C: 0x00000000,   # ID_PFR0..ID_AFR0
           0xD50: 0x00100030, 0xD54: 0x00000000, 0xD58: 0x01000000, 0xD5C: 0x00000000,   # ID_MMFR0..3
           0xD60: 0x01101110, 0xD64: 0x02111000, 0xD68: 0x21112231, 0xD6C: 0x01111110,   # ID_ISAR0..3
           0xD70: 0x01310132,                                                              # ID_ISAR4
           0xF40: 0x10110021, 0xF44: 0x11000011,                                           # MVFR0, MVFR1
           0xD90: 0x00000800}                                                              # MPU_TYPE: 8 regions
# Plain read/write storage: offset -> (reset value, writable mask)
STORAGE = {0x008: (0, 0x307),                 # ACTLR
           0xD10: (0, 0x16),                  # SCR: SLEEPONEXIT, SLEEPDEEP, SEVONPEND
           0xD30: (0, 0x1F),                  # DFSR
           0xD3C: (0, 0xFFFFFFFF),            # AFSR
           0xD94: (0, 0x7), 0xD98: (0, 0xFF), 0xD9C: (0, 0xFFFFFFFF), 0xDA0: (0, 0xFFFFFFFF),
           0xDA4: (0, 0xFFFFFFFF), 0xDA8: (0, 0xFFFFFFFF), 0xDAC: (0, 0xFFFFFFFF), 0xDB0: (0, 0xFFFFFFFF),
           0xDB4: (0, 0xFFFFFFFF), 0xDB8: (0, 0xFFFFFFFF),   # MPU CTRL/RNR/RBAR/RASR (+aliases)
           0xDF0: (0, 0), 0xDF4: (0, 0), 0xDF8: (0, 0xFFFFFFFF),   # DHCSR (no debugger), DCRSR, DCRDR
           0xDFC: (0, 0x010F07F1),            # DEMCR (TRCENA bit 24)
           0xF34: (0xC0000000, 0xC0000000),   # FPCCR: ASPEN, LSPEN
           0xF38: (0, 0xFFFFFFF8),            # FPCAR
           0xF3C: (0, 0x07C00000)}            # FPDSCR: AHP, DN, FZ, RMode
SHPR = {0xD18: (MEMMANAGE, BUSFAULT, USAGEFAULT, 7), 0xD1C: (8, 9, 10, SVCALL),
        0xD20: (DEBUGMONITOR, 13, PENDSV, SYSTICK)}
SHCSR_ACT = {0: MEMMANAGE, 1: BUSFAULT, 3: USAGEFAULT, 7: SVCALL, 8: DEBUGMONITOR, 10: PENDSV, 11: SYSTICK}
SHCSR_PENDED = {12: USAGEFAULT, 13: MEMMANAGE, 14: BUSFAULT, 15: SVCALL}
DEMCR_TRCENA = 1 << 24
CPACR_FP = 0x00F00000


class SysTick:
    """The SysTick timer, in HCLK cycles. `now` arguments are the board's cycle count."""

    def __init__(self, pend):
        self.pend = pend
        self.reset()

    def reset(self) -> None:
        self.csr = 0          # ENABLE 0, TICKINT 1, CLKSOURCE 2 (COUNTFLAG kept separately)
        self.rvr = 0
        self.countflag = False
        self.frozen = 0       # counter value while disabled
        self.anchor = 0       # cycle at which the counter (re)started from 0
        self.wraps = 0        # wraps to 0 already accounted since anchor

    @property
    def enabled(self) -> bool:
        return bool(self.csr & 1) and self.rvr > 0

    @property
    def div(self) -> int:
        return 1 if self.csr & 4 else 8

    def _n(self, now: int) -> int:
        return (now - self.anchor) // self.div

    def value(self, now: int) -> int:
        if not self.enabled:
            return self.frozen
        n = self._n(now)
        return 0 if n <= 0 else self.rvr - ((n - 1) % (self.rvr + 1))

    def advance(self, now: int) -> None:
        if not self.enabled:
            return
        wraps = max(0, self._n(now)) // (self.rvr + 1)
        if wraps > self.wraps:
            self.wraps = wraps
            self.countflag = True
            if self.csr & 2:
                self.pend(SYSTICK)

    def cycles_to_event(self, now: int) -> int | None:
        if not self.enabled:
            return None
        at = self.anchor + (self.wraps + 1) * (self.rvr + 1) * self.div
        return max(at - now, 0)

    def _restart(self, now: int, value: int) -> None:
        """Make the counter read `value` at `now`."""
        self.wraps = 0
        if value == 0 or value > self.rvr:
            self.anchor = now
        else:
            self.anchor = now - (self.rvr - value + 1) * self.div

    def write_csr(self, value: int, now: int) -> None:
        current = self.value(now)
        was = self.enabled
        self.csr = value & 0x7
        if self.enabled and not was:
            self._restart(now, current)
        elif was and not self.enabled:
            self.frozen = current
        elif self.enabled:
            self._restart(now, current)

    def read_csr(self, now: int) -> int:
        self.advance(now)
        v = self.csr | (0x10000 if self.countflag else 0)
        self.countflag = False
        return v

    def write_rvr(self, value: int, now: int) -> None:
        current = self.value(now)
        self.advance(now)
        self.rvr = value & 0xFFFFFF
        if self.enabled:
            self._restart(now, current)

    def write_cvr(self, now: int) -> None:
        self.frozen = 0
        self.countflag = False
        if self.enabled:
            self._restart(now, 0)


@register_model("scs")
class SystemControlSpace(Peripheral):
    """NVIC/SCB/SysTick register view. The board context provides `core_state` (CoreState),
    `current_exception()`, `request_stop()`, `system_reset_request()` and `fp_access_changed(bool)`."""

    REGISTERS = ()

    def __init__(self, spec, ctx):
        # A board provides the CoreState its exception engine uses; a bare BoardContext gets its own.
        self.core: CoreState = getattr(ctx, "core_state", None) or CoreState()
        self.systick = SysTick(self._pend)
        self.store: dict[int, int] = {}
        super().__init__(spec, ctx)

    def reset(self) -> None:
        super().reset()
        self.store = {off: reset for off, (reset, _) in STORAGE.items()}
        self.systick.reset()

    def _pend(self, exc: int) -> None:
        self.core.pending[exc] = True
        self.ctx.request_stop()

    # -- time ------------------------------------------------------------------------------------------
    def advance(self, cycles: int) -> None:
        self.systick.advance(self.ctx.cycles)

    def next_event(self) -> int | None:
        return self.systick.cycles_to_event(self.ctx.cycles)

    def read_stable_for(self, offset: int) -> int | None:
        """SysTick CVR counts with time; everything else changes only by accesses or SysTick wraps."""
        return 0 if offset & ~3 == 0x018 else None

    @property
    def demcr(self) -> int:
        return self.store[0xDFC]

    # -- bus -------------------------------------------------------------------------------------------
    def read(self, offset: int, size: int) -> int:
        word = self.read_word(offset & ~3)
        if word is None:
            return self.unmodelled(offset, size, None)
        shift = (offset & 3) * 8
        value = (word >> shift) & ((1 << (8 * size)) - 1)
        if self.trace:
            log.info("[SCS] R +0x%03x = 0x%x", offset, value)
        return value

    def write(self, offset: int, size: int, value: int) -> None:
        shift = (offset & 3) * 8
        lane = (((1 << (8 * size)) - 1) << shift) & 0xFFFFFFFF
        if self.trace:
            log.info("[SCS] W +0x%03x = 0x%x (size %d)", offset, value, size)
        if not self.write_word(offset & ~3, (value << shift) & lane, lane):
            self.unmodelled(offset, size, value)

    def read_word(self, off: int) -> int | None:
        core, now = self.core, self.ctx.cycles
        if off in STORAGE:
            return self.store[off]
        if off in ID_REGS:
            return ID_REGS[off]
        if off == 0x004:
            return (core.num_irqs + 31) // 32 - 1              # ICTR.INTLINESNUM
        if off == 0x010:
            return self.systick.read_csr(now)
        if off == 0x014:
            return self.systick.rvr
        if off == 0x018:
            return self.systick.value(now)
        if off == 0x01C:
            return 0x40000000                                  # CALIB: SKEW=1, TENMS not given
        if 0x100 <= off < 0x400:
            group, base = (off & 0x7F) // 4, off & ~0x7F
            bits = {0x100: core.enabled, 0x180: core.enabled, 0x200: core.pending, 0x280: core.pending,
                    0x300: core.active}.get(base)
            if bits is None or group * 32 >= core.num_irqs:
                return 0 if bits is not None else None
            return sum(1 << i for i in range(32) if IRQ0 + 32 * group + i < core.count
                       and bits[IRQ0 + 32 * group + i])
        if 0x400 <= off < 0x400 + core.num_irqs + 3:
            n = IRQ0 + (off - 0x400)
            return sum((core.prio[n + i] & 0xFF) << (8 * i) for i in range(4) if n + i < core.count)
        if off in SHPR:
            return sum((core.prio[e] & 0xFF) << (8 * i) for i, e in enumerate(SHPR[off]))
        if off == 0xD00:
            return CPUID
        if off == 0xD04:
            return self._icsr()
        if off == 0xD08:
            return core.vtor
        if off == 0xD0C:
            return 0xFA050000 | (core.prigroup << 8)
        if off == 0xD14:
            return core.ccr
        if off == 0xD24:
            v = core.shcsr & 0x70000
            v |= sum(1 << b for b, e in SHCSR_ACT.items() if core.active[e])
            v |= sum(1 << b for b, e in SHCSR_PENDED.items() if core.pending[e])
            return v
        if off == 0xD28:
            return core.cfsr
        if off == 0xD2C:
            return core.hfsr
        if off == 0xD34:
            return core.mmfar
        if off == 0xD38:
            return core.bfar
        if off == 0xD88:
            return core.cpacr
        if off == 0xF00:
            return 0                                             # STIR is write-only
        return None

    def _icsr(self) -> int:
        core = self.core
        current = getattr(self.ctx, "current_exception", None)
        active = current() if current else 0
        pending = core.highest_pending() or 0
        v = active | (pending << 12)
        if core.num_active() <= 1:
            v |= 1 << 11                                          # RETTOBASE
        if any(core.pending[IRQ0:]):
            v |= 1 << 22                                          # ISRPENDING
        if core.pending[SYSTICK]:
            v |= 1 << 26
        if core.pending[PENDSV]:
            v |= 1 << 28
        if core.pending[NMI]:
            v |= 1 << 31
        return v

    def write_word(self, off: int, value: int, lane: int) -> bool:
        core, now = self.core, self.ctx.cycles
        if off in STORAGE:
            _, mask = STORAGE[off]
            mask &= lane
            old = self.store[off]
            self.store[off] = (old & ~mask) | (value & mask)
            if off == 0xDFC and (old ^ self.store[off]) & DEMCR_TRCENA:
                self._notify_dwt()
            return True
        if off in ID_REGS or off in (0x004, 0x01C) or 0xD28 < off < 0xD2C:
            return True                                            # read-only: ignored
        if off == 0x010:
            self.systick.write_csr((self.systick.csr & ~lane) | (value & lane), now)
            self.ctx.request_stop()
        elif off == 0x014:
            self.systick.write_rvr((self.systick.rvr & ~lane) | (value & lane), now)
            self.ctx.request_stop()
        elif off == 0x018:
            self.systick.write_cvr(now)
            self.ctx.request_stop()
        elif 0x100 <= off < 0x300:
            group, base = (off & 0x7F) // 4, off & ~0x7F
            for i in range(32):
                n = IRQ0 + 32 * group + i
                if value >> i & 1 and n < core.count:
                    if base == 0x100:
                        core.enabled[n] = True
                    elif base == 0x180:
                        core.enabled[n] = False
                    elif base == 0x200:
                        core.pending[n] = True
                    else:
                        core.pending[n] = False
            self.ctx.request_stop()
        elif 0x400 <= off < 0x400 + core.num_irqs + 3:
            n = IRQ0 + (off - 0x400)
            for i in range(4):
                if lane >> (8 * i) & 0xFF and n + i < core.count:
                    core.set_priority(n + i, value >> (8 * i))
            self.ctx.request_stop()
        elif off in SHPR:
            for i, e in enumerate(SHPR[off]):
                if lane >> (8 * i) & 0xFF and e in (MEMMANAGE, BUSFAULT, USAGEFAULT, SVCALL, DEBUGMONITOR,
                                                    PENDSV, SYSTICK):
                    core.set_priority(e, value >> (8 * i))
            self.ctx.request_stop()
        elif off == 0xD04:
            self._write_icsr(value)
        elif off == 0xD08:
            core.vtor = (core.vtor & ~lane) | (value & lane & 0x3FFFFF80)
        elif off == 0xD0C:
            if lane == 0xFFFFFFFF and value >> 16 == 0x05FA:
                core.prigroup = (value >> 8) & 7
                if value & 4 and hasattr(self.ctx, "system_reset_request"):
                    self.ctx.system_reset_request()
                self.ctx.request_stop()
        elif off == 0xD14:
            core.ccr = (core.ccr & ~(lane & 0x31B)) | (value & lane & 0x31B)
        elif off == 0xD24:
            core.shcsr = (core.shcsr & ~(lane & 0x70000)) | (value & lane & 0x70000)
            for b, e in SHCSR_ACT.items():
                if lane >> b & 1:
                    core.active[e] = bool(value >> b & 1)
            for b, e in SHCSR_PENDED.items():
                if lane >> b & 1:
                    core.pending[e] = bool(value >> b & 1)
            self.ctx.request_stop()
        elif off == 0xD28:
            core.cfsr &= ~value                                   # write 1 to clear
        elif off == 0xD2C:
            core.hfsr &= ~value
        elif off == 0xD34:
            core.mmfar = (core.mmfar & ~lane) | (value & lane)
        elif off == 0xD38:
            core.bfar = (core.bfar & ~lane) | (value & lane)
        elif off == 0xD88:
            old = core.cpacr
            core.cpacr = (core.cpacr & ~(lane & CPACR_FP)) | (value & lane & CPACR_FP)
            if old != core.cpacr and hasattr(self.ctx, "fp_access_changed"):
                self.ctx.fp_access_changed(self.fp_enabled)
        elif off == 0xF00:
            irq = value & 0x1FF
            if irq < core.num_irqs:
                core.pending[IRQ0 + irq] = True
                self.ctx.request_stop()
        else:
            return False
        return True

    def _write_icsr(self, value: int) -> None:
        core = self.core
        if value & (1 << 31):
            core.pending[NMI] = True
        if value & (1 << 28):
            core.pending[PENDSV] = True
        if value & (1 << 27):
            core.pending[PENDSV] = False
        if value & (1 << 26):
            core.pending[SYSTICK] = True
        if value & (1 << 25):
            core.pending[SYSTICK] = False
        self.ctx.request_stop()

    @property
    def fp_enabled(self) -> bool:
        """CPACR grants full access to CP10 and CP11 (privileged-only access counts: the simulated core
        always runs privileged code)."""
        cp10, cp11 = (self.core.cpacr >> 20) & 3, (self.core.cpacr >> 22) & 3
        return cp10 in (1, 3) and cp11 in (1, 3)

    def _notify_dwt(self) -> None:
        try:
            dwt = self.ctx.peripheral("DWT")
        except PlatformError:
            return
        sync = getattr(dwt, "counting_changed", None)
        if sync:
            sync()


__all__ = ["HARDFAULT", "USAGEFAULT", "SysTick", "SystemControlSpace"]
