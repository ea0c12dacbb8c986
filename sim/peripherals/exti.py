"""EXTI, extended interrupt and event controller of the STM32L4R5 (RM0432 Rev 9 section 15.5, "EXTI
registers"). Lines 0..15 are the GPIO pins selected by SYSCFG_EXTICRx; an edge selected in RTSR1/FTSR1
sets PR1 (15.3); the interrupt lines are levels: EXTI0..4 (IRQ 6..10), EXTI9_5 (23) and EXTI15_10 (40)
are high while any of their lines has PR1 & IMR1. PR1 is write-1-to-clear (15.5.6); writing 1 to a
SWIER1 bit sets the pending bit of an unmasked line (15.5.5). IMR1 resets to 0xFF82_0000 (direct lines
unmasked, 15.5.1); IMR2 to 0x0000_0187 (direct lines 32-34, 39, 40; the L4+ value is unverified)."""

from __future__ import annotations

from .base import Peripheral, Reg, register_model

GROUPS = (("line0", 1 << 0), ("line1", 1 << 1), ("line2", 1 << 2), ("line3", 1 << 3), ("line4", 1 << 4),
          ("lines9_5", 0x3E0), ("lines15_10", 0xFC00))
CONFIGURABLE1 = 0x007D_FFFF     # lines 0..16, 18..22 have edge detectors (15.3, Table 70)


@register_model("exti")
class Exti(Peripheral):
    TIME_INDEPENDENT = True     # register values change only through accesses
    REGISTERS = (
        Reg("IMR1", 0x00, reset=0xFF82_0000),
        Reg("EMR1", 0x04),
        Reg("RTSR1", 0x08, writable=CONFIGURABLE1),
        Reg("FTSR1", 0x0C, writable=CONFIGURABLE1),
        Reg("SWIER1", 0x10, writable=CONFIGURABLE1),
        Reg("PR1", 0x14, writable=CONFIGURABLE1),
        Reg("IMR2", 0x20, reset=0x0000_0187),
        Reg("EMR2", 0x24),
        Reg("RTSR2", 0x28, writable=0x0000_0078),
        Reg("FTSR2", 0x2C, writable=0x0000_0078),
        Reg("SWIER2", 0x30, writable=0x0000_0078),
        Reg("PR2", 0x34, writable=0x0000_0078),
    )

    def __init__(self, spec, ctx):
        self._levels: dict[int, bool] = {}
        self._syscfg = None
        super().__init__(spec, ctx)
        self.on_write.update({"PR1": self._write_pr1, "SWIER1": self._write_swier1, "IMR1": self._write_imr1})

    def reset(self) -> None:
        super().reset()
        self._levels = {}

    def gpio_edge(self, port: int, pin: int, level: int) -> None:
        """GPIO `pin` of port index `port` (0 = A) changed to `level`: pend line `pin` if routed and the
        edge is selected."""
        syscfg = self._syscfg_model()
        if syscfg is not None and syscfg.exti_port(pin) != port:
            return
        if syscfg is None and port != 0:
            return
        trigger = self["RTSR1"] if level else self["FTSR1"]
        if trigger >> pin & 1:
            self.pend(pin)

    def pend(self, line: int) -> None:
        """Set the pending bit of configurable line `line` (0..22) and update the interrupt lines."""
        self["PR1"] = self["PR1"] | (1 << line)
        self._update_irqs()

    def _syscfg_model(self):
        if self._syscfg is None:
            try:
                self._syscfg = self.ctx.peripheral("SYSCFG")
            except Exception:
                self._syscfg = False
        return self._syscfg or None

    def _write_pr1(self, value: int, old: int) -> int:
        cleared = value & CONFIGURABLE1
        self["SWIER1"] = self["SWIER1"] & ~cleared
        new = old & ~cleared
        self["PR1"] = new
        self._update_irqs()
        return new

    def _write_swier1(self, value: int, old: int) -> int:
        rising = value & ~old & CONFIGURABLE1 & self["IMR1"]
        if rising:
            self["PR1"] = self["PR1"] | rising
            self._update_irqs()
        return value & CONFIGURABLE1

    def _write_imr1(self, value: int, old: int) -> int:
        self["IMR1"] = value
        self._update_irqs()
        return value

    def _update_irqs(self) -> None:
        active = self["PR1"] & self["IMR1"]
        for name, mask in GROUPS:
            irq = self.spec.irqs.get(name)
            if irq is None:
                continue
            level = bool(active & mask)
            if self._levels.get(irq) != level:
                self._levels[irq] = level
                self.ctx.set_irq(irq, level)
