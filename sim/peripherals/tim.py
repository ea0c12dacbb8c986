"""Timers of the STM32L4R5, counter part (RM0432 Rev 9: TIM2/TIM3/TIM4/TIM5 general purpose, section 31.4;
TIM6/TIM7 basic, 33.4; TIM1 advanced, 30.4). Model names: `tim32` (TIM2, TIM5: 32-bit CNT/ARR, ARR reset
0xFFFF_FFFF) and `tim16` (all others: 16-bit, ARR reset 0xFFFF).

Modelled: the prescaler (PSC, preloaded: a new value takes effect at the next update event), the counter
counting up (or down with CR1.DIR; centre-aligned modes count up) from the timer kernel clock (RCC: 2 x
PCLK when the APB prescaler is not 1), ARR with or without preload (CR1.ARPE), the repetition counter
(RCR, TIM1), update events on overflow/underflow and on EGR.UG (CR1.UDIS, CR1.URS), one-pulse mode
(CR1.OPM clears CEN at the update event), SR.UIF (rc_w0: writing 0 clears) and the update interrupt
(DIER.UIE), with CR1.UIFREMAP copying UIF into CNT bit 31. The interrupt line is a level: high while
SR & DIER has UIF. Capture/compare channels are storage only (no compare flags, no outputs).

Time: see `timebase`: the counter is computed exactly from HCLK cycles (an update interrupt occurs every
(PSC+1)*(ARR+1) timer-clock ticks); `next_event()` tells the run loop how many HCLK cycles remain until
the next update while the update interrupt is enabled.
"""

from __future__ import annotations

import logging

from .base import HANDLER, Peripheral, Reg, register_model
from .timebase import Timed

log = logging.getLogger("tinyperf.sim.peripherals.tim")

CEN, UDIS, URS, OPM, DIR, ARPE, UIFREMAP = 1 << 0, 1 << 1, 1 << 2, 1 << 3, 1 << 4, 1 << 7, 1 << 11
UIF = 1 << 0


class Timer(Timed, Peripheral):
    """Counter part of an STM32 timer. Subclasses set BITS."""

    BITS = 16

    def __init__(self, spec, ctx):
        top = (1 << self.BITS) - 1
        self.REGISTERS = (
            Reg("CR1", 0x00, writable=0x0000_0BFF), Reg("CR2", 0x04), Reg("SMCR", 0x08),
            Reg("DIER", 0x0C), Reg("SR", 0x10, access=HANDLER), Reg("EGR", 0x14, access=HANDLER),
            Reg("CCMR1", 0x18), Reg("CCMR2", 0x1C), Reg("CCER", 0x20),
            Reg("CNT", 0x24, access=HANDLER), Reg("PSC", 0x28, writable=0xFFFF),
            Reg("ARR", 0x2C, reset=top, writable=top), Reg("RCR", 0x30, writable=0xFFFF),
            Reg("CCR1", 0x34, writable=top), Reg("CCR2", 0x38, writable=top),
            Reg("CCR3", 0x3C, writable=top), Reg("CCR4", 0x40, writable=top),
            Reg("BDTR", 0x44), Reg("DCR", 0x48), Reg("DMAR", 0x4C), Reg("OR1", 0x50),
            Reg("CCMR3", 0x54), Reg("CCR5", 0x58), Reg("CCR6", 0x5C), Reg("OR2", 0x60), Reg("OR3", 0x64),
        )
        self.top = top
        self.irq = spec.irqs.get("update", spec.irqs.get("global"))
        self._irq_level = False
        super().__init__(spec, ctx)
        self.on_read.update({"CNT": self._read_cnt, "SR": self._read_sr})
        self.on_write.update({"CR1": self._write_cr1, "DIER": self._write_dier, "SR": self._write_sr,
                              "EGR": self._write_egr, "CNT": self._write_cnt, "ARR": self._write_arr})

    def reset(self) -> None:
        super().reset()
        self.timed_reset()
        self.cnt = 0
        self.psc_cnt = 0               # timer-clock ticks into the current prescaler period
        self.psc_active = 0            # prescaler shadow register
        self.arr_active = self.top     # auto-reload shadow register
        self.rep = 0                   # repetition down-counter
        self._irq_level = False

    # -- counting ----------------------------------------------------------------------------------------
    def _counting(self) -> bool:
        return bool(self.values["CR1"] & CEN) and self.arr_active != 0

    def _steps_to_overflow(self) -> int:
        if self.values["CR1"] & DIR and not self.values["CR1"] & 0x60:
            return self.cnt + 1                                     # down: to underflow
        if self.cnt <= self.arr_active:
            return self.arr_active - self.cnt + 1
        return self.top - self.cnt + 1                              # above ARR: wraps at the top

    def elapse(self, cycles: int) -> None:
        ticks = self.ticks_in(cycles)
        if not self._counting():
            return
        while ticks > 0 and self._counting():
            psc1 = self.psc_active + 1
            to_overflow = self._steps_to_overflow() * psc1 - self.psc_cnt
            if ticks < to_overflow:
                total = self.psc_cnt + ticks
                steps, self.psc_cnt = divmod(total, psc1)
                self.cnt += -steps if self.values["CR1"] & DIR and not self.values["CR1"] & 0x60 else steps
                return
            ticks -= to_overflow
            self.psc_cnt = 0
            self._overflow()
            # Whole periods at once while nothing changes between updates.
            if self._counting() and not self.values["CR1"] & OPM and self._steady():
                period = (self.arr_active + 1) * (self.psc_active + 1)
                n = ticks // period
                if n:
                    ticks -= n * period
                    self._overflows(n)

    def _steady(self) -> bool:
        return self.psc_active == self.values["PSC"] and self.arr_active == self.values["ARR"] \
            and self.rep == self.values["RCR"] == 0

    def _overflow(self) -> None:
        """The counter wrapped: restart it and, when the repetition counter allows, make an update."""
        down = self.values["CR1"] & DIR and not self.values["CR1"] & 0x60
        if self.rep > 0:
            self.rep -= 1
            self.cnt = self.arr_active if down else 0
            return
        self._update_event(from_counter=True)

    def _overflows(self, n: int) -> None:
        """`n` further whole periods in steady state: the counter ends where it is, UIF is set."""
        if not self.values["CR1"] & UDIS:
            self.values["SR"] |= UIF
            self._update_irq()

    def _update_event(self, from_counter: bool) -> None:
        cr1 = self.values["CR1"]
        down = cr1 & DIR and not cr1 & 0x60
        if cr1 & UDIS:                             # update disabled: no shadow load, no flag
            self.cnt = self.arr_active if down else 0
            return
        self.psc_active = self.values["PSC"]
        self.arr_active = self.values["ARR"]
        self.rep = self.values["RCR"]
        self.cnt = self.arr_active if down else 0
        if from_counter or not cr1 & URS:
            self.values["SR"] |= UIF
        if from_counter and cr1 & OPM:
            self.values["CR1"] &= ~CEN
        self._update_irq()

    def _update_irq(self) -> None:
        level = bool(self.values["SR"] & self.values["DIER"] & UIF)
        if level != self._irq_level and self.irq is not None:
            self._irq_level = level
            self.ctx.set_irq(self.irq, level)

    def next_event(self) -> int | None:
        self.sync()
        if not (self._counting() and self.values["DIER"] & UIF):
            return None
        psc1 = self.psc_active + 1
        ticks = (self._steps_to_overflow() + self.rep * (self.arr_active + 1)) * psc1 - self.psc_cnt
        return self.cycles_for(ticks)

    # -- register handlers -------------------------------------------------------------------------------
    def read_stable_for(self, offset: int) -> int | None:
        """CNT counts with time (no fast-forward over a CNT poll); SR changes at update events."""
        return 0 if offset & ~3 == 0x24 else None

    def _read_cnt(self) -> int:
        cnt = self.cnt & self.top
        if self.values["CR1"] & UIFREMAP:
            cnt = (cnt & 0x7FFF_FFFF) | ((self.values["SR"] & UIF) << 31)
        return cnt

    def _read_sr(self) -> int:
        return self.values["SR"]

    def _write_cnt(self, value: int, old: int) -> int:
        self.cnt = value & self.top
        return 0

    def _write_cr1(self, value: int, old: int) -> int:
        if value & 0x60 and not old & 0x60:
            log.info("%s: centre-aligned mode is modelled as up-counting", self.name)
        return value & 0x0BFF

    def _write_dier(self, value: int, old: int) -> int:
        self.values["DIER"] = value
        self._update_irq()
        return value

    def _write_sr(self, value: int, old: int) -> int:
        new = old & value                          # rc_w0: writing 0 clears, 1 leaves unchanged
        self.values["SR"] = new
        self._update_irq()
        return new

    def _write_egr(self, value: int, old: int) -> int:
        if value & 1:                              # UG: reinitialise the counter, generate an update
            self.psc_cnt = 0
            self._update_event(from_counter=False)
        return 0

    def _write_arr(self, value: int, old: int) -> int:
        value &= self.top
        if not self.values["CR1"] & ARPE:
            self.arr_active = value                # no preload: takes effect at once
        return value


@register_model("tim16")
class Timer16(Timer):
    BITS = 16


@register_model("tim32")
class Timer32(Timer):
    BITS = 32
