"""A minimal board context for peripheral unit tests: builds every PERIPH model of the board description,
keeps a settable cycle count, records interrupt levels and run-loop stop requests, and runs time forward
the way a run loop does (to each model's next event). The models under test are the real ones."""

from __future__ import annotations

from tinyperf.platforms import load_board
from tinyperf.sim.peripherals import MODELS


class Bench:
    def __init__(self, board: str = "nucleo_l4r5zi"):
        self.board = load_board(board)
        self.cycles = 0
        self.strict = True
        self.irq_levels: dict[int, bool] = {}
        self.irq_log: list[tuple[int, int, bool]] = []     # (cycles, irq, level)
        self.stops = 0
        self.flash_calls: list[tuple] = []
        self.models = {}
        self.by_base = {}
        for spec in self.board.peripherals:
            if spec.model in MODELS:
                model = MODELS[spec.model](spec, self)
                self.models[spec.name] = model
                self.by_base[spec.base] = model

    def enable(self, *names: str) -> None:
        """Set the RCC clock-enable bit of each named peripheral, as firmware must before using it."""
        rcc = self.models["RCC"]
        for name in names:
            enable = self.board.peripheral(name).enable
            if enable:
                reg = rcc.regs_by_name[enable["reg"]]
                rcc.write(reg.offset, 4, rcc.read(reg.offset, 4) | 1 << enable["bit"])

    def enable_all(self) -> None:
        self.enable(*(name for name in self.models if self.board.peripheral(name).enable))

    # -- BoardContext ---------------------------------------------------------------------------------
    def clock_hz(self, name: str) -> int:
        return self.models["RCC"].clock_hz(name)

    def set_irq(self, irq: int, level: bool = True) -> None:
        if self.irq_levels.get(irq) != level:
            self.irq_log.append((self.cycles, irq, level))
        self.irq_levels[irq] = level

    def request_stop(self) -> None:
        self.stops += 1

    def peripheral(self, name: str):
        return self.models[name]

    def flash_config_changed(self, latency, prften, icen, dcen) -> None:
        self.flash_calls.append((latency, prften, icen, dcen))

    # -- bus helpers -----------------------------------------------------------------------------------
    def _at(self, address: int):
        base = address & ~0x3FF
        return self.by_base[base], address - base

    def read(self, address: int, size: int = 4) -> int:
        model, offset = self._at(address)
        return model.read(offset, size)

    def write(self, address: int, value: int, size: int = 4) -> None:
        model, offset = self._at(address)
        model.write(offset, size, value)

    def rmw(self, address: int, clear: int, set_: int) -> None:
        self.write(address, (self.read(address) & ~clear) | set_)

    # -- time ------------------------------------------------------------------------------------------
    def run(self, cycles: int) -> None:
        """Advance `cycles` HCLK cycles, stopping at each model event like the board's run loop."""
        end = self.cycles + cycles
        while self.cycles < end:
            events = [e for e in (m.next_event() for m in self.models.values()) if e is not None]
            step = min([end - self.cycles] + events)
            self.cycles += max(1, step)
            for model in self.models.values():
                model.advance(step)


# Register addresses (RM0432 2.2.2 memory map; offsets from the RCC/PWR/FLASH register sections).
RCC, PWR, FLASH = 0x4002_1000, 0x4000_7000, 0x4002_2000
RCC_CR, RCC_CFGR, RCC_PLLCFGR, RCC_APB1ENR1, RCC_APB1ENR2, RCC_CCIPR = (RCC + o for o in
                                                                      (0x00, 0x08, 0x0C, 0x58, 0x5C, 0x88))


def wait_for(bench: Bench, condition, what: str, limit_cycles: int = 1_000_000, poll_cycles: int = 8) -> None:
    """Poll like a HAL busy-wait: each poll costs `poll_cycles`; fail after `limit_cycles`."""
    start = bench.cycles
    while not condition():
        if bench.cycles - start > limit_cycles:
            raise AssertionError(f"timeout waiting for {what}")
        bench.run(poll_cycles)


def system_clock_120mhz(bench: Bench, source: str = "MSI", apb_div16: bool = True) -> None:
    """The register sequence of the vendor SystemClock_Config (STM32Cube HAL, L4+): range 1 boost,
    PLL from MSI 4 MHz (M=1 N=60 R=2) or from HSI16 (M=2 N=30 R=2), 5 wait states, AHB /2 during the
    switch then /1, APB1/APB2 /16."""
    bench.rmw(RCC_APB1ENR1, 0, 1 << 28)                        # __HAL_RCC_PWR_CLK_ENABLE
    bench.rmw(PWR + 0x80, 1 << 8, 0)                           # CR5.R1MODE = 0 (boost)
    bench.rmw(PWR + 0x00, 3 << 9, 1 << 9)                      # CR1.VOS = range 1
    wait_for(bench, lambda: not bench.read(PWR + 0x14) & (1 << 10), "PWR_SR2.VOSF = 0")
    if source == "MSI":
        bench.rmw(RCC_CR, 0xF0, (6 << 4) | (1 << 3))           # MSIRANGE 6 (4 MHz), MSIRGSEL
        wait_for(bench, lambda: bench.read(RCC_CR) & 2, "MSIRDY")
        pllcfgr = 1 | (0 << 4) | (60 << 8) | (1 << 24) | (0 << 25)
    else:
        bench.rmw(RCC_CR, 0, 1 << 8)                            # HSION
        wait_for(bench, lambda: bench.read(RCC_CR) & (1 << 10), "HSIRDY")
        pllcfgr = 2 | (1 << 4) | (30 << 8) | (1 << 24) | (0 << 25)
    bench.rmw(RCC_CR, 1 << 24, 0)                               # PLLON = 0
    wait_for(bench, lambda: not bench.read(RCC_CR) & (1 << 25), "PLLRDY = 0")
    bench.write(RCC_PLLCFGR, pllcfgr)
    bench.rmw(RCC_CR, 0, 1 << 24)                               # PLLON
    wait_for(bench, lambda: bench.read(RCC_CR) & (1 << 25), "PLLRDY")
    bench.rmw(FLASH, 0xF, 5)                                    # FLASH_ACR.LATENCY = 5
    assert bench.read(FLASH) & 0xF == 5
    bench.rmw(RCC_CFGR, 0xF0, 8 << 4)                           # HPRE /2 for the transition
    bench.rmw(RCC_CFGR, 3, 3)                                   # SW = PLL
    wait_for(bench, lambda: (bench.read(RCC_CFGR) >> 2) & 3 == 3, "SWS = PLL")
    bench.rmw(RCC_CFGR, 0xF0, 0)                                # HPRE /1
    apb = (7 << 8) | (7 << 11) if apb_div16 else 0
    bench.rmw(RCC_CFGR, 0x3F00, apb)
