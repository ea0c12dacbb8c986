"""GPIO ports A..I of the STM32L4R5 (RM0432 Rev 9 section 8.5, "GPIO registers").

Per-port reset values (8.5.1-8.5.4): MODER 0xABFF_FFFF (A, debug pins PA13/14/15 in AF), 0xFFFF_FEBF (B,
PB3/PB4 in AF), 0xFFFF_FFFF (others, analog); OSPEEDR 0x0C00_0000 (A), 0x0000_00C0 (B); PUPDR
0x6400_0000 (A), 0x0000_0100 (B).

Pin levels: an output pin (MODER = 01) drives ODR (open drain with ODR = 1 releases the pin); an input or
alternate-function pin reads the level driven from outside (`set_input`), else its pull-up (1) or
pull-down (0), else 0; an analog pin reads 0 in IDR (8.4.12). IDR reflects these levels.

Host side: `listeners` are called as `listener(pin: str, level: int, cycles: int)` (pin like "PF13",
cycles = HCLK cycles since reset) whenever the level of a pin in output mode changes (ODR, BSRR, BRR or
MODER writes). Every level change of any non-analog pin is also passed to the EXTI model
(`gpio_edge(port, pin, level)`), which decides through SYSCFG_EXTICR whether it is an event.
LCKR (8.5.8) implements the lock key sequence; locked pins keep their configuration until reset.
"""

from __future__ import annotations

import logging
from typing import Callable

from .base import HANDLER, RO, WO, Peripheral, Reg, register_model

log = logging.getLogger("tinyperf.sim.peripherals.gpio")

MODER_RESET = {"A": 0xABFF_FFFF, "B": 0xFFFF_FEBF}
OSPEEDR_RESET = {"A": 0x0C00_0000, "B": 0x0000_00C0}
PUPDR_RESET = {"A": 0x6400_0000, "B": 0x0000_0100}
CONFIG_REGS = ("MODER", "OTYPER", "OSPEEDR", "PUPDR", "AFRL", "AFRH")


@register_model("gpio")
class Gpio(Peripheral):
    """One GPIO port. `port` is its letter ("G"); `level(pin)` -> current level of pin 0..15."""
    TIME_INDEPENDENT = True     # register values change only through accesses

    def __init__(self, spec, ctx):
        self.port = spec.name[-1].upper()
        self.port_index = ord(self.port) - ord("A")
        self.REGISTERS = (
            Reg("MODER", 0x00, reset=MODER_RESET.get(self.port, 0xFFFF_FFFF)),
            Reg("OTYPER", 0x04, writable=0x0000_FFFF),
            Reg("OSPEEDR", 0x08, reset=OSPEEDR_RESET.get(self.port, 0)),
            Reg("PUPDR", 0x0C, reset=PUPDR_RESET.get(self.port, 0)),
            Reg("IDR", 0x10, access=RO),
            Reg("ODR", 0x14, writable=0x0000_FFFF),
            Reg("BSRR", 0x18, access=WO),
            Reg("LCKR", 0x1C, access=HANDLER),
            Reg("AFRL", 0x20),
            Reg("AFRH", 0x24),
            Reg("BRR", 0x28, access=WO),
            Reg("ASCR", 0x2C, writable=0x0000_FFFF),
        )
        self.listeners: list[Callable[[str, int, int], None]] = []
        self.external: dict[int, int] = {}
        self._levels = 0
        self._lock_step = 0
        self._locked = 0
        self._exti = None
        super().__init__(spec, ctx)
        self.on_read["IDR"] = self._read_idr
        self.on_read["LCKR"] = self._read_lckr
        self.on_write.update({"ODR": self._write_odr, "BSRR": self._write_bsrr, "BRR": self._write_brr,
                              "LCKR": self._write_lckr})
        for name in CONFIG_REGS:
            self.on_write[name] = self._make_config_handler(name)

    def reset(self) -> None:
        super().reset()
        self.values["LCKR"] = 0
        self._lock_step = 0
        self._locked = 0
        self._levels = self._compute_levels()

    # -- pin levels ------------------------------------------------------------------------------------
    def _compute_levels(self) -> int:
        moder, odr, pupdr, otyper = self["MODER"], self["ODR"], self["PUPDR"], self["OTYPER"]
        levels = 0
        for pin in range(16):
            mode = (moder >> 2 * pin) & 3
            if mode == 3:
                continue
            if mode == 1 and not (otyper >> pin & 1 and odr >> pin & 1):
                level = odr >> pin & 1
            elif pin in self.external:
                level = self.external[pin]
            else:
                level = 1 if (pupdr >> 2 * pin) & 3 == 1 else 0
            levels |= level << pin
        return levels

    def level(self, pin: int) -> int:
        return self._levels >> pin & 1

    def _refresh(self) -> None:
        new = self._compute_levels()
        changed, self._levels = new ^ self._levels, new
        if not changed:
            return
        moder = self["MODER"]
        cycles = self.ctx.cycles
        for pin in range(16):
            if not changed >> pin & 1:
                continue
            level = new >> pin & 1
            if (moder >> 2 * pin) & 3 == 1:
                for listener in list(self.listeners):
                    listener(f"P{self.port}{pin}", level, cycles)
            exti = self._exti_model()
            if exti is not None:
                exti.gpio_edge(self.port_index, pin, level)

    def _exti_model(self):
        if self._exti is None:
            try:
                self._exti = self.ctx.peripheral("EXTI")
            except Exception:
                self._exti = False
        return self._exti or None

    def set_input(self, pin: int, level: int | None) -> None:
        """Drive pin 0..15 from outside at `level` (0/1), or release it (None)."""
        if level is None:
            self.external.pop(pin, None)
        else:
            self.external[pin] = 1 if level else 0
        self._refresh()

    # -- register handlers -----------------------------------------------------------------------------
    def _read_idr(self) -> int:
        return self._levels

    def _write_odr(self, value: int, old: int) -> int:
        self["ODR"] = value & 0xFFFF
        self._refresh()
        return value & 0xFFFF

    def _write_bsrr(self, value: int, old: int) -> int:
        set_bits, reset_bits = value & 0xFFFF, (value >> 16) & 0xFFFF
        self["ODR"] = (self["ODR"] & ~reset_bits) | set_bits     # set wins over reset (8.5.7)
        self._refresh()
        return 0

    def _write_brr(self, value: int, old: int) -> int:
        self["ODR"] = self["ODR"] & ~(value & 0xFFFF)
        self._refresh()
        return 0

    def _make_config_handler(self, name: str):
        reg = self.regs_by_name[name]
        width = 1 if name == "OTYPER" else 4 if name.startswith("AFR") else 2
        first_pin = 8 if name == "AFRH" else 0

        def handler(value: int, old: int) -> int:
            value &= reg.writable
            if self._locked:
                keep = 0
                for pin in range(32 // width):
                    if self._locked >> (first_pin + pin) & 1:
                        keep |= ((1 << width) - 1) << (pin * width)
                value = (value & ~keep) | (old & keep)
            self.values[name] = value
            self._refresh()
            return value
        return handler

    # LCKR key sequence (8.5.8): write LCKK=1+LCK, LCKK=0+LCK, LCKK=1+LCK, read, (read LCKK=1)
    def _write_lckr(self, value: int, old: int) -> int:
        if self["LCKR"] & (1 << 16):
            return self["LCKR"]                    # locked until reset
        lck, lckk = value & 0xFFFF, value >> 16 & 1
        expected = (1, 0, 1)
        if self._lock_step < 3 and lckk == expected[self._lock_step] and \
                (self._lock_step == 0 or lck == old & 0xFFFF):
            self._lock_step += 1
        else:
            self._lock_step = 1 if lckk else 0
        return lck

    def _read_lckr(self) -> int:
        if self._lock_step == 3:
            self._lock_step = 0
            self._locked = self["LCKR"] & 0xFFFF
            self.values["LCKR"] = self._locked | (1 << 16)
        return self["LCKR"]
