"""GPIO, EXTI and SYSCFG models (RM0432 8.5, 15.5, 10.2): per-port reset values, inputs reflecting pulls,
BSRR/BRR, output listeners, the user button PC13 through EXTI15_10 (IRQ 40)."""

import pytest

from periph_bench import Bench

pytestmark = pytest.mark.unit

GPIOA, GPIOB, GPIOC, GPIOF, GPIOG = 0x4800_0000, 0x4800_0400, 0x4800_0800, 0x4800_1400, 0x4800_1800
MODER, PUPDR, IDR, ODR, BSRR, BRR, OSPEEDR = 0x00, 0x0C, 0x10, 0x14, 0x18, 0x28, 0x08
EXTI, SYSCFG = 0x4001_0400, 0x4001_0000


@pytest.mark.parametrize("address, reset", [
    (GPIOA + MODER, 0xABFF_FFFF), (GPIOB + MODER, 0xFFFF_FEBF), (GPIOG + MODER, 0xFFFF_FFFF),
    (GPIOA + PUPDR, 0x6400_0000), (GPIOB + PUPDR, 0x0000_0100), (GPIOC + PUPDR, 0),
    (GPIOA + OSPEEDR, 0x0C00_0000), (GPIOB + OSPEEDR, 0x0000_00C0),
    (EXTI + 0x00, 0xFF82_0000), (SYSCFG + 0x04, 0x7C00_0001),
])
def test_reset_values(address, reset):
    b = Bench()
    b.enable_all()
    assert b.read(address) == reset


def test_port_with_clock_off_reads_zero_and_ignores_writes():
    b = Bench()
    assert b.read(GPIOA + MODER) == 0
    b.write(GPIOA + MODER, 0)
    b.enable("GPIOA")
    assert b.read(GPIOA + MODER) == 0xABFF_FFFF


def test_pg12_power_good_reads_one_through_pull_up():
    b = Bench()
    b.enable_all()
    b.rmw(GPIOG + MODER, 3 << 24, 0)             # PG12 input
    b.rmw(GPIOG + PUPDR, 3 << 24, 1 << 24)       # pull-up
    assert b.read(GPIOG + IDR) >> 12 & 1 == 1
    b.rmw(GPIOG + PUPDR, 3 << 24, 2 << 24)       # pull-down
    assert b.read(GPIOG + IDR) >> 12 & 1 == 0
    b.models["GPIOG"].set_input(12, 1)           # driven from outside wins over the pull
    assert b.read(GPIOG + IDR) >> 12 & 1 == 1


def test_analog_pins_read_zero():
    b = Bench()
    b.enable_all()
    b.models["GPIOC"].set_input(3, 1)
    assert b.read(GPIOC + IDR) == 0              # all analog at reset


def test_bsrr_brr_and_output_listener():
    b = Bench()
    b.enable_all()
    seen = []
    b.models["GPIOF"].listeners.append(lambda pin, level, cycles: seen.append((pin, level, cycles)))
    b.rmw(GPIOF + MODER, 3 << 26, 1 << 26)       # PF13 output, ODR = 0: level stays 0 -> no event
    b.cycles = 100
    b.write(GPIOF + BSRR, 1 << 13)
    assert b.read(GPIOF + ODR) == 1 << 13 and b.read(GPIOF + IDR) >> 13 & 1
    b.cycles = 220
    b.write(GPIOF + BRR, 1 << 13)
    b.cycles = 300
    b.write(GPIOF + BSRR, (1 << 13) | (1 << (13 + 16)))   # set and reset together: set wins
    assert seen == [("PF13", 1, 100), ("PF13", 0, 220), ("PF13", 1, 300)]
    assert b.read(GPIOF + BSRR) == 0             # write-only


def button_setup(b):
    b.rmw(GPIOC + MODER, 3 << 26, 0)                         # PC13 input
    b.rmw(SYSCFG + 0x14, 0xF << 4, 2 << 4)                  # EXTICR4: line 13 <- port C
    b.rmw(EXTI + 0x08, 0, 1 << 13)                          # rising edge
    b.rmw(EXTI + 0x00, 0, 1 << 13)                          # unmask


def test_button_rising_edge_pends_exti15_10():
    b = Bench()
    b.enable_all()
    button_setup(b)
    b.models["GPIOC"].set_input(13, 1)
    assert b.read(EXTI + 0x14) == 1 << 13
    assert b.irq_levels[40]
    b.write(EXTI + 0x14, 1 << 13)                           # PR1 rc_w1
    assert b.read(EXTI + 0x14) == 0 and not b.irq_levels[40]
    b.models["GPIOC"].set_input(13, 0)                      # falling edge not selected
    assert b.read(EXTI + 0x14) == 0


def test_exti_line_ignores_other_ports():
    b = Bench()
    b.enable_all()
    button_setup(b)
    b.rmw(GPIOA + MODER, 3 << 26, 0)
    b.models["GPIOA"].set_input(13, 1)                       # PA13 is not routed to line 13
    assert b.read(EXTI + 0x14) == 0


def test_software_interrupt_event():
    b = Bench()
    b.enable_all()
    b.rmw(EXTI + 0x00, 0, 1 << 0)
    b.write(EXTI + 0x10, 1)                                  # SWIER1 line 0
    assert b.read(EXTI + 0x14) & 1 and b.irq_levels[6]
