"""PWR, power control of the STM32L4R5 (RM0432 Rev 9 section 5.4, "PWR registers").

Modelled behaviour: voltage scaling (CR1.VOS, 5.4.1) raises SR2.VOSF for VOSF_SETTLE_S of simulated time
after VOS or CR5.R1MODE changes (the HAL waits for it to clear with a timeout of 50 us worth of loop
iterations);
CR1.LPR drives SR2.REGLPF (low-power regulator on); SR2.REGLPS (low-power regulator ready) reads 1 as
after any power-on; CR1.DBP gates writes to the RCC backup-domain register (RCC_BDCR); CR5.R1MODE
(5.4.21) resets to 1 (range 1 normal mode; firmware clears it for 120 MHz boost). SCR clears SR1 flags.
The pull-up/pull-down control registers for standby (PUCRx/PDCRx) are plain storage.
"""

from __future__ import annotations

from .base import RO, Peripheral, Reg, register_model

VOSF = 1 << 10
REGLPF = 1 << 9
REGLPS = 1 << 8
VOSF_SETTLE_S = 10e-6      # time SR2.VOSF stays set after a VOS change (deterministic; silicon: a few us)

_PULL_REGS = tuple(Reg(f"{kind}CR{port}", 0x20 + 8 * i + (4 if kind == "PD" else 0))
                   for i, port in enumerate("ABCDEFGHI") for kind in ("PU", "PD"))


@register_model("pwr")
class Pwr(Peripheral):
    """The PWR block. `voltage_range()` -> 1 or 2; `boost()` -> True when range 1 boost (R1MODE = 0)."""

    REGISTERS = (
        Reg("CR1", 0x00, reset=0x0000_0200, writable=0x0000_4717),   # 5.4.1: VOS = 01 (range 1)
        Reg("CR2", 0x04, reset=0x0000_0000, writable=0x0000_06FF),   # 5.4.2: PVDE PLS PVME IOSV USV
        Reg("CR3", 0x08, reset=0x0000_8000, writable=0x0000_FFFF),   # 5.4.3: EIWUL = 1
        Reg("CR4", 0x0C, reset=0x0000_0000, writable=0x0000_FFFF),   # 5.4.4
        Reg("SR1", 0x10, reset=0x0000_0000, access=RO),              # 5.4.5
        Reg("SR2", 0x14, reset=REGLPS, access=RO),                   # 5.4.6
        Reg("SCR", 0x18, reset=0x0000_0000),                         # 5.4.7
        *_PULL_REGS,                                                 # 5.4.8-5.4.25
        Reg("CR5", 0x80, reset=0x0000_0100, writable=0x0000_0100),   # 5.4.26: R1MODE = 1
    )

    def __init__(self, spec, ctx):
        self._vosf_until: int | None = None
        super().__init__(spec, ctx)
        self.on_write.update({"CR1": self._write_cr1, "SCR": self._write_scr, "CR5": self._write_cr5})
        self.on_read["SR2"] = self._read_sr2

    def reset(self) -> None:
        super().reset()
        self._vosf_until = None

    def _write_cr1(self, value: int, old: int) -> int:
        new = (old & ~0x4717) | (value & 0x4717)
        if (new >> 9) & 3 not in (1, 2):          # VOS 00 and 11 are forbidden: keep the old range
            new = (new & ~0x600) | (old & 0x600)
        if (new ^ old) & 0x600:
            self._start_vosf()
        return new

    def _write_cr5(self, value: int, old: int) -> int:
        if (value ^ old) & 0x100:                 # range 1 normal <-> boost also settles (5.1.8)
            self._start_vosf()
        return value & 0x100

    def _start_vosf(self) -> None:
        hclk = int(self.ctx.clock_hz("HCLK")) or 1
        self._vosf_until = self.ctx.cycles + max(1, int(VOSF_SETTLE_S * hclk))

    def next_event(self) -> int | None:
        """Cycles until SR2.VOSF clears: a register value that changes with time is an event (the run
        loop's busy-wait fast-forward, sim/poll.py, relies on it)."""
        if self._vosf_until is None:
            return None
        left = self._vosf_until - self.ctx.cycles
        return left if left > 0 else None

    def read_stable_for(self, offset: int) -> int | None:
        return None        # SR2.VOSF, the only time-dependent bit, is announced by next_event()

    def _write_scr(self, value: int, old: int) -> int:
        self["SR1"] = self["SR1"] & ~(value & 0x11F)
        return 0

    def _read_sr2(self) -> int:
        sr2 = self["SR2"] & ~(VOSF | REGLPF)
        if self._vosf_until is not None:
            if self.ctx.cycles < self._vosf_until:
                sr2 |= VOSF
            else:
                self._vosf_until = None
        if self["CR1"] & (1 << 14):
            sr2 |= REGLPF
        return sr2

    # -- queries for other models ------------------------------------------------------------------------
    def backup_writable(self) -> bool:
        """CR1.DBP: writes to the backup domain (RCC_BDCR, RTC) are allowed."""
        return bool(self["CR1"] & (1 << 8))

    def voltage_range(self) -> int:
        return (self["CR1"] >> 9) & 3

    def boost(self) -> bool:
        return self.voltage_range() == 1 and not self["CR5"] & 0x100

    def vddio2_valid(self) -> bool:
        """CR2.IOSV: port G pins PG2..PG15 are supplied (5.1.4)."""
        return bool(self["CR2"] & (1 << 9))
