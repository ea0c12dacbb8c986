"""FLASH interface registers of the STM32L4R5 (RM0432 Rev 9 section 3.7, "FLASH registers").

Modelled: ACR (3.7.1; reset 0x0000_0600: instruction and data caches on, prefetch off, 0 wait states;
LATENCY is 4 bits, 0..15, and reads back what was written, which the HAL checks). Each ACR write that
changes LATENCY/PRFTEN/ICEN/DCEN calls `ctx.flash_config_changed(latency, prften, icen, dcen)` when the
board context has it (the cycle model). KEYR/OPTKEYR unlock sequences (3.3.6) clear CR.LOCK/CR.OPTLOCK;
a wrong key locks until reset. SR (3.7.5) never shows BSY: program/erase is not modelled (writes to
CR.STRT/OPTSTRT are accepted and complete at once, with EOP when EOPIE). OPTR (3.7.8) holds the factory
option bytes of the 2 MB part, 0xFFEF_F8AA: RDP level 0 (0xAA), BOR level 0, DBANK = 1 (dual bank,
64-bit flash word reads), DB1M = 1, nBOOT0/nSWBOOT0 = 1 (boot from main flash).
"""

from __future__ import annotations

import logging

from .base import Peripheral, Reg, register_model

log = logging.getLogger("tinyperf.sim.peripherals.flash")

KEY1, KEY2 = 0x4567_0123, 0xCDEF_89AB
OPTKEY1, OPTKEY2 = 0x0819_2A3B, 0x4C5D_6E7F
CR_LOCK, CR_OPTLOCK = 1 << 31, 1 << 30
ACR_ICRST, ACR_DCRST = 1 << 11, 1 << 12


@register_model("flash")
class Flash(Peripheral):
    """The flash interface. `config()` -> (latency, prften, icen, dcen) as last written to ACR."""
    TIME_INDEPENDENT = True     # register values change only through accesses

    REGISTERS = (
        Reg("ACR", 0x00, reset=0x0000_0600, writable=0x0000_7F0F),   # 3.7.1
        Reg("PDKEYR", 0x04),                                         # 3.7.2 (write only)
        Reg("KEYR", 0x08),                                           # 3.7.3 (write only)
        Reg("OPTKEYR", 0x0C),                                        # 3.7.4 (write only)
        Reg("SR", 0x10, reset=0x0000_0000),                          # 3.7.5
        Reg("CR", 0x14, reset=0xC000_0000),                          # 3.7.6: LOCK, OPTLOCK
        Reg("ECCR", 0x18, reset=0x0000_0000),                        # 3.7.7
        Reg("OPTR", 0x20, reset=0xFFEF_F8AA),                        # 3.7.8
        Reg("PCROP1SR", 0x24, reset=0xFFFF_0000),                    # 3.7.9
        Reg("PCROP1ER", 0x28, reset=0x0FFF_0000),                    # 3.7.10
        Reg("WRP1AR", 0x2C, reset=0xFF00_FF00),                      # 3.7.11
        Reg("WRP1BR", 0x30, reset=0xFF00_FF00),                      # 3.7.12
        Reg("PCROP2SR", 0x44, reset=0xFFFF_0000),                    # 3.7.13
        Reg("PCROP2ER", 0x48, reset=0xFFFF_0000),                    # 3.7.14
        Reg("WRP2AR", 0x4C, reset=0xFF00_FF00),                      # 3.7.15
        Reg("WRP2BR", 0x50, reset=0xFF00_FF00),                      # 3.7.16
        Reg("CFGR", 0x130, reset=0x0000_0000),                       # 3.7.17: LVEN
    )

    def __init__(self, spec, ctx):
        self._key_step = 0
        self._optkey_step = 0
        self._locked_until_reset = False
        super().__init__(spec, ctx)
        self.on_write.update({"ACR": self._write_acr, "KEYR": self._write_keyr,
                              "OPTKEYR": self._write_optkeyr, "CR": self._write_cr, "SR": self._write_sr})
        for name in ("KEYR", "OPTKEYR", "PDKEYR"):
            self.on_read[name] = lambda: 0

    def reset(self) -> None:
        super().reset()
        self._key_step = self._optkey_step = 0
        self._locked_until_reset = False

    def config(self) -> tuple[int, bool, bool, bool]:
        acr = self["ACR"]
        return acr & 0xF, bool(acr & 0x100), bool(acr & 0x200), bool(acr & 0x400)

    def _write_acr(self, value: int, old: int) -> int:
        before = self.config()
        new = (old & ~0x7F0F) | (value & 0x7F0F)
        # ICRST/DCRST reset a cache only while it is disabled; they are plain storage otherwise.
        self["ACR"] = new
        after = self.config()
        notify = getattr(self.ctx, "flash_config_changed", None)
        if after != before and notify is not None:
            notify(*after)
        return new

    def _write_keyr(self, value: int, old: int) -> int:
        if self._locked_until_reset:
            return 0
        if self._key_step == 0 and value == KEY1:
            self._key_step = 1
        elif self._key_step == 1 and value == KEY2:
            self._key_step = 0
            self["CR"] = self["CR"] & ~CR_LOCK
        else:
            log.warning("FLASH_KEYR: wrong key 0x%08x; flash control locked until reset", value)
            self._locked_until_reset = True
            self["SR"] = self["SR"] | (1 << 7)    # PGSERR
        return 0

    def _write_optkeyr(self, value: int, old: int) -> int:
        if self["CR"] & CR_LOCK:
            return 0
        if self._optkey_step == 0 and value == OPTKEY1:
            self._optkey_step = 1
        elif self._optkey_step == 1 and value == OPTKEY2:
            self._optkey_step = 0
            self["CR"] = self["CR"] & ~CR_OPTLOCK
        else:
            self._optkey_step = 0
        return 0

    def _write_cr(self, value: int, old: int) -> int:
        if old & CR_LOCK:
            return old                            # locked: writes ignored until the key sequence
        new = value
        if old & CR_OPTLOCK:                      # OPTLOCK is set-only
            new |= CR_OPTLOCK
        if new & (1 << 16) or new & (1 << 17):    # STRT / OPTSTRT: complete at once
            new &= ~((1 << 16) | (1 << 17))
            if new & (1 << 24):                   # EOPIE
                self["SR"] = self["SR"] | 1       # EOP
        return new

    def _write_sr(self, value: int, old: int) -> int:
        return old & ~(value & 0x0000_C3FB)       # error/EOP flags are write-1-to-clear
