"""RCC, reset and clock control of the STM32L4R5 (RM0432 Rev 9 section 6.4, "RCC registers"; clock tree
6.2, Figure 15). The model knows the whole clock tree and answers `clock_hz(name)` in Hz.

Oscillators become ready immediately when enabled (the ready bit follows its enable in the same cycle), so
the HAL's polling loops (`HAL_RCC_OscConfig`) terminate at once; a source refuses to stop while it drives
SYSCLK, as on silicon. CFGR.SWS follows CFGR.SW only while the selected source is ready (6.4.3).

Clock tree (6.2): SYSCLK from SWS (0 MSI, 1 HSI16, 2 HSE, 3 PLL). MSI frequency from CR.MSIRANGE when
CR.MSIRGSEL = 1, else from CSR.MSISRANGE. PLLCLK = f(PLLSRC) / (PLLM+1) * PLLN / (2*(PLLR+1)).
HCLK = SYSCLK / HPRE; PCLK1/2 = HCLK / PPRE1/2; the timer clock of an APB is 2 x PCLK when its prescaler
is not 1 (6.2.14). UART kernel clocks from CCIPR (6.4.28): 0 PCLK, 1 SYSCLK, 2 HSI16, 3 LSE.

Board integration: every clock-tree change first calls each callable in `clock_listeners` (peripherals
that count time sync at the old frequencies), then, if HCLK changed, `ctx.request_stop()` so the run loop
re-reads `clock_hz("HCLK")` before running on. Writing 1 to a bit of an xxxRSTR register resets the
peripheral whose `enable` in the platform description uses the same bit of the matching xxxENR.
"""

from __future__ import annotations

import logging
from typing import Callable

from tinyperf.errors import SimError

from .base import RO, Peripheral, Reg, board_of, register_model

log = logging.getLogger("tinyperf.sim.peripherals.rcc")

# CR bits (6.4.1)
MSION, MSIRDY, MSIRGSEL = 1 << 0, 1 << 1, 1 << 3
HSION, HSIKERON, HSIRDY = 1 << 8, 1 << 9, 1 << 10
HSEON, HSERDY, HSEBYP = 1 << 16, 1 << 17, 1 << 18
PLLON, PLLRDY = 1 << 24, 1 << 25
PLLSAI1ON, PLLSAI1RDY, PLLSAI2ON, PLLSAI2RDY = 1 << 26, 1 << 27, 1 << 28, 1 << 29
# writable: MSION MSIPLLEN MSIRGSEL MSIRANGE HSION HSIKERON HSIASFS HSEON HSEBYP CSSON PLLON PLLSAI1/2ON
CR_WRITABLE = 0x150D_0BFD

SW_MSI, SW_HSI16, SW_HSE, SW_PLL = 0, 1, 2, 3

# Which UART kernel-clock mux sits at which CCIPR bit position, and which APB clocks it by default.
UART_MUX = {"USART1": (0, "PCLK2"), "USART2": (2, "PCLK1"), "USART3": (4, "PCLK1"),
            "UART4": (6, "PCLK1"), "UART5": (8, "PCLK1"), "LPUART1": (10, "PCLK1")}
APB2_TIMERS = ("TIM1", "TIM8", "TIM15", "TIM16", "TIM17")
BUS_CLOCK = {"AHB1": "HCLK", "AHB2": "HCLK", "AHB3": "HCLK", "PPB": "HCLK", "APB1": "PCLK1", "APB2": "PCLK2"}
RSTR_OF_ENR = {"AHB1ENR": "AHB1RSTR", "AHB2ENR": "AHB2RSTR", "AHB3ENR": "AHB3RSTR",
               "APB1ENR1": "APB1RSTR1", "APB1ENR2": "APB1RSTR2", "APB2ENR": "APB2RSTR"}


@register_model("rcc")
class Rcc(Peripheral):
    """The RCC. `clock_hz(name)` accepts "SYSCLK", "HCLK", "PCLK1", "PCLK2", "TIMPCLK1", "TIMPCLK2",
    "MSI", "HSI16", "HSE", "PLLCLK", "LSE", "LSI", "HSI48", and a peripheral's platform name (its kernel
    clock: "LPUART1", "USART3", "TIM2", "GPIOA", ...)."""
    TIME_INDEPENDENT = True     # register values change only through accesses

    REGISTERS = (
        Reg("CR", 0x00, reset=0x0000_0063, writable=CR_WRITABLE),         # 6.4.1: MSION, MSIRDY, MSIRANGE=6
        Reg("ICSCR", 0x04, reset=0x4000_0000, writable=0x7F00_FF00),      # 6.4.2: HSITRIM=0x40; CAL factory
        Reg("CFGR", 0x08, reset=0x0000_0000, writable=0x7F00_BFF3),       # 6.4.3: SWS read-only
        Reg("PLLCFGR", 0x0C, reset=0x0000_1000, writable=0xFF77_7FF3),    # 6.4.4: PLLN=16
        Reg("PLLSAI1CFGR", 0x10, reset=0x0000_1000),                      # 6.4.5
        Reg("PLLSAI2CFGR", 0x14, reset=0x0000_1000),                      # 6.4.6
        Reg("CIER", 0x18, reset=0, writable=0x0000_06FF),                 # 6.4.7
        Reg("CIFR", 0x1C, reset=0, access=RO),                            # 6.4.8
        Reg("CICR", 0x20, reset=0),                                       # 6.4.9 (write 1 to clear CIFR)
        Reg("AHB1RSTR", 0x28), Reg("AHB2RSTR", 0x2C), Reg("AHB3RSTR", 0x30),   # 6.4.10-12
        Reg("APB1RSTR1", 0x38), Reg("APB1RSTR2", 0x3C), Reg("APB2RSTR", 0x40),  # 6.4.13-15
        Reg("AHB1ENR", 0x48, reset=0x0000_0100),                          # 6.4.16: FLASHEN
        Reg("AHB2ENR", 0x4C), Reg("AHB3ENR", 0x50),                       # 6.4.17-18
        Reg("APB1ENR1", 0x58), Reg("APB1ENR2", 0x5C), Reg("APB2ENR", 0x60),   # 6.4.19-21
        # Sleep-mode enables (6.4.22-27): firmware rarely reads them; reset values follow the RM0351
        # family pattern and are unverified for the L4+.
        Reg("AHB1SMENR", 0x68, reset=0x0001_1307), Reg("AHB2SMENR", 0x6C, reset=0x0005_32FF),
        Reg("AHB3SMENR", 0x70, reset=0x0000_0101), Reg("APB1SMENR1", 0x78, reset=0xF2FE_CA3F),
        Reg("APB1SMENR2", 0x7C, reset=0x0000_0025), Reg("APB2SMENR", 0x80, reset=0x0167_7C01),
        Reg("CCIPR", 0x88),                                               # 6.4.28
        Reg("BDCR", 0x90, writable=0x0301_83BD),                          # 6.4.29 (backup domain)
        Reg("CSR", 0x94, reset=0x0C00_0600, writable=0x0000_0F01),        # 6.4.30: MSISRANGE=6 +flags
        Reg("CRRCR", 0x98, writable=0x0000_0001),                         # 6.4.31
        Reg("CCIPR2", 0x9C),                                              # 6.4.32
    )

    def __init__(self, spec, ctx):
        self.clock_listeners: list[Callable[[], None]] = []
        super().__init__(spec, ctx)
        clocks = board_of(ctx).clocks
        self.msi_ranges = [int(x) for x in clocks["msi_ranges_hz"]]
        self.ahb_div = {int(k): int(v) for k, v in clocks["ahb_prescalers"].items()}
        self.apb_div = {int(k): int(v) for k, v in clocks["apb_prescalers"].items()}
        self.osc_hz = {"HSI16": int(clocks["hsi16"]["hz"]), "HSE": int(clocks["hse"]["hz"]),
                       "LSE": int(clocks["lse"]["hz"]), "LSI": int(clocks["lsi"]["hz"]),
                       "HSI48": int(clocks["hsi48"]["hz"])}
        self.on_write.update({
            "CR": self._write_cr, "CFGR": self._write_cfgr, "CICR": self._write_cicr,
            "CSR": self._write_csr, "BDCR": self._write_bdcr, "CRRCR": self._write_crrcr,
        })
        for enr, rstr in RSTR_OF_ENR.items():
            self.on_write[rstr] = self._make_rstr_handler(enr)
        self._hclk = self.clock_hz("HCLK")

    # -- register handlers ------------------------------------------------------------------------------
    def _write_cr(self, value: int, old: int) -> int:
        new = (old & ~CR_WRITABLE) | (value & CR_WRITABLE)
        sws = (self["CFGR"] >> 2) & 3
        pllsrc = self["PLLCFGR"] & 3
        pll_on = bool(old & PLLON)
        if sws == SW_MSI or (pll_on and pllsrc == 1):
            new |= MSION                        # MSION cannot be cleared while MSI feeds SYSCLK/PLL
        if sws == SW_HSI16 or (pll_on and pllsrc == 2):
            new |= HSION
        if sws == SW_HSE or (pll_on and pllsrc == 3):
            new |= HSEON
        if sws == SW_PLL:
            new |= PLLON
        if old & HSEON:                          # HSEBYP is writable only while HSE is off
            new = (new & ~HSEBYP) | (old & HSEBYP)
        if old & MSIRGSEL:                       # MSIRGSEL: writing 0 has no effect
            new |= MSIRGSEL
        if old & (1 << 19):                      # CSSON: set only
            new |= 1 << 19
        return self._with_ready_bits(new)

    def _with_ready_bits(self, cr: int) -> int:
        ready = 0
        for on, rdy in ((MSION, MSIRDY), (HSION, HSIRDY), (HSEON, HSERDY), (PLLON, PLLRDY),
                        (PLLSAI1ON, PLLSAI1RDY), (PLLSAI2ON, PLLSAI2RDY)):
            if cr & on:
                ready |= rdy
        if cr & PLLON and self._pll_input_hz(cr) == 0:
            ready &= ~PLLRDY                     # no input clock: the PLL never locks
        cr = (cr & ~(MSIRDY | HSIRDY | HSERDY | PLLRDY | PLLSAI1RDY | PLLSAI2RDY)) | ready
        self._flag_ready(cr)
        return cr

    def _write_cfgr(self, value: int, old: int) -> int:
        writable = self.regs_by_name["CFGR"].writable
        return (old & ~writable) | (value & writable)

    def _write_cicr(self, value: int, old: int) -> int:
        self["CIFR"] = self["CIFR"] & ~value
        self._update_irq()
        return 0

    def _write_csr(self, value: int, old: int) -> int:
        new = (old & ~0x0000_0F01) | (value & 0x0000_0F01)
        msisrange = (value >> 8) & 0xF
        if not 4 <= msisrange <= 7:              # only 1, 2, 4, 8 MHz are allowed (6.4.30)
            new = (new & ~0xF00) | (old & 0xF00)
        if value & (1 << 23):                    # RMVF clears the reset flags
            new &= 0x00FF_FFFF
        return (new & ~2) | (2 if new & 1 else 0)   # LSIRDY follows LSION

    def _write_bdcr(self, value: int, old: int) -> int:
        if not self._backup_writable():
            log.debug("RCC_BDCR write 0x%08x ignored: PWR_CR1.DBP = 0", value)
            return old
        if value & (1 << 16):                    # BDRST resets the backup domain
            return 1 << 16
        new = (old & ~0x0301_83BD) | (value & 0x0301_83BD)
        return (new & ~2) | (2 if new & 1 else 0)   # LSERDY follows LSEON

    def _write_crrcr(self, value: int, old: int) -> int:
        new = (old & ~1) | (value & 1)
        return (new & ~2) | (2 if new & 1 else 0)   # HSI48RDY follows HSI48ON

    def _backup_writable(self) -> bool:
        try:
            pwr = self.ctx.peripheral("PWR")
        except Exception:
            return True
        return bool(getattr(pwr, "backup_writable", lambda: True)())

    def _make_rstr_handler(self, enr: str):
        def handler(value: int, old: int) -> int:
            asserted = value & ~old
            if asserted:
                for spec in board_of(self.ctx).peripherals:
                    if spec.enable and spec.enable.get("reg") == enr and asserted >> spec.enable["bit"] & 1:
                        try:
                            self.ctx.peripheral(spec.name).reset()
                        except Exception as e:  # noqa: BLE001 - a board may not instantiate every model
                            log.debug("reset of %s through RCC skipped: %s", spec.name, e)
            return value
        return handler

    # -- interrupts (6.4.7-9) ----------------------------------------------------------------------------
    def _flag_ready(self, cr: int) -> None:
        old_cr = self.values.get("CR", 0)
        rising = cr & ~old_cr
        flags = 0
        for rdy, flag in ((MSIRDY, 1 << 2), (HSIRDY, 1 << 3), (HSERDY, 1 << 4), (PLLRDY, 1 << 5)):
            if rising & rdy:
                flags |= flag
        flags &= self.values.get("CIER", 0)
        if flags:
            self["CIFR"] = self["CIFR"] | flags
            self._update_irq()

    def _update_irq(self) -> None:
        irq = self.spec.irqs.get("global")
        if irq is not None:
            self.ctx.set_irq(irq, bool(self["CIFR"] & 0x7FF))

    # -- clock-tree changes --------------------------------------------------------------------------------
    def write(self, offset: int, size: int, value: int) -> None:
        before = dict(self.values)
        signature = self._signature()
        super().write(offset, size, value)
        cr = self.values["CR"]
        self.values["CR"] = self._with_ready_bits(cr)
        self._settle_sws()
        if self._signature() != signature:
            after, self.values = self.values, before
            for listener in list(self.clock_listeners):
                listener()                      # listeners see the old clocks
            self.values = after
            hclk = self.clock_hz("HCLK")
            if hclk != self._hclk:
                log.info("HCLK %d Hz -> %d Hz at cycle %d", self._hclk, hclk, self.ctx.cycles)
                self._hclk = hclk
                self.ctx.request_stop()

    def _settle_sws(self) -> None:
        cfgr = self.values["CFGR"]
        sw = cfgr & 3
        if self._source_ready(sw):
            self.values["CFGR"] = (cfgr & ~0xC) | (sw << 2)

    def _source_ready(self, sw: int) -> bool:
        cr = self.values["CR"]
        return bool(cr & (MSIRDY, HSIRDY, HSERDY, PLLRDY)[sw])

    def _signature(self) -> tuple:
        return (self.clock_hz("SYSCLK"), self.clock_hz("HCLK"), self.clock_hz("PCLK1"),
                self.clock_hz("PCLK2"), self.values.get("CCIPR", 0), self.values["CR"] & (HSIRDY | HSERDY),
                self.values.get("BDCR", 0) & 2)

    def reset(self) -> None:
        super().reset()
        self._hclk = self.clock_hz("HCLK") if hasattr(self, "msi_ranges") else 0

    # -- the clock tree -----------------------------------------------------------------------------------
    def msi_hz(self) -> int:
        cr = self.values["CR"]
        index = (cr >> 4) & 0xF if cr & MSIRGSEL else (self.values["CSR"] >> 8) & 0xF
        return self.msi_ranges[index] if index < len(self.msi_ranges) else 0

    def _pll_input_hz(self, cr: int | None = None) -> int:
        cr = self.values["CR"] if cr is None else cr
        src = self.values["PLLCFGR"] & 3
        if src == 1:
            return self.msi_hz() if cr & MSION else 0
        if src == 2:
            return self.osc_hz["HSI16"] if cr & HSION else 0
        if src == 3:
            return self.osc_hz["HSE"] if cr & HSEON else 0
        return 0

    def pll_hz(self) -> int:
        """PLLCLK (the R output) in Hz; 0 while the PLL is not locked."""
        if not self.values["CR"] & PLLRDY:
            return 0
        cfg = self.values["PLLCFGR"]
        m = ((cfg >> 4) & 0xF) + 1
        n = (cfg >> 8) & 0x7F
        r = 2 * (((cfg >> 25) & 3) + 1)
        return self._pll_input_hz() * n // m // r

    def clock_hz(self, name: str) -> int:
        """Frequency in Hz of a clock of the tree (see the class docstring for names)."""
        cfgr = self.values["CFGR"]
        if name == "SYSCLK":
            sws = (cfgr >> 2) & 3
            return (self.msi_hz, lambda: self.osc_hz["HSI16"], lambda: self.osc_hz["HSE"], self.pll_hz)[sws]()
        if name == "HCLK":
            return self.clock_hz("SYSCLK") // self.ahb_div.get((cfgr >> 4) & 0xF, 1)
        if name in ("PCLK1", "PCLK2", "TIMPCLK1", "TIMPCLK2"):
            shift = 8 if name.endswith("1") else 11
            div = self.apb_div.get((cfgr >> shift) & 7, 1)
            pclk = self.clock_hz("HCLK") // div
            return pclk * 2 if name.startswith("TIM") and div != 1 else pclk
        if name == "MSI":
            return self.msi_hz() if self.values["CR"] & MSIRDY else 0
        if name == "PLLCLK":
            return self.pll_hz()
        if name in ("HSI16", "HSE"):
            return self.osc_hz[name] if self.values["CR"] & (HSIRDY if name == "HSI16" else HSERDY) else 0
        if name == "LSE":
            return self.osc_hz["LSE"] if self.values["BDCR"] & 2 else 0
        if name == "LSI":
            return self.osc_hz["LSI"] if self.values["CSR"] & 2 else 0
        if name == "HSI48":
            return self.osc_hz["HSI48"] if self.values["CRRCR"] & 2 else 0
        if name in UART_MUX:
            shift, pclk = UART_MUX[name]
            sel = (self.values["CCIPR"] >> shift) & 3
            return self.clock_hz((pclk, "SYSCLK", "HSI16", "LSE")[sel])
        if name.startswith("TIM"):
            return self.clock_hz("TIMPCLK2" if name in APB2_TIMERS else "TIMPCLK1")
        try:
            bus = board_of(self.ctx).peripheral(name).bus
        except Exception:
            bus = None
        if bus in BUS_CLOCK:
            return self.clock_hz(BUS_CLOCK[bus])
        raise SimError(f"RCC: no clock named {name!r}; use SYSCLK, HCLK, PCLK1, PCLK2 or a peripheral name")
