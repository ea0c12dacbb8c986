"""Timer models: update period (PSC+1)*(ARR+1) timer-clock ticks (RM0432 31.3.1-31.3.2), timer clock 2 x
PCLK with an APB prescaler, UIF rc_w0, preload, one-pulse mode."""

import pytest

from periph_bench import Bench, system_clock_120mhz

pytestmark = pytest.mark.unit

TIM2, TIM5, TIM6 = 0x4000_0000, 0x4000_0C00, 0x4000_1000
CR1, DIER, SR, EGR, CNT, PSC, ARR = 0x00, 0x0C, 0x10, 0x14, 0x24, 0x28, 0x2C


def start(b, base, psc, arr, cr1=1, uie=True):
    b.enable({TIM2: "TIM2", TIM5: "TIM5", TIM6: "TIM6"}[base])
    b.write(base + PSC, psc)
    b.write(base + ARR, arr)
    b.write(base + EGR, 1)                  # UG: load PSC
    b.write(base + SR, 0)                   # HAL clears the UIF set by UG
    b.write(base + DIER, 1 if uie else 0)
    b.write(base + CR1, cr1)


def test_update_interrupt_every_psc_times_arr_timer_ticks():
    b = Bench()
    system_clock_120mhz(b)                  # TIM2 clock 15 MHz (APB1 /16, doubled)
    t0 = b.cycles
    start(b, TIM2, psc=14, arr=999)         # 15 MHz / 15 = 1 MHz, 1000 counts = 1 ms
    irqs = []
    for _ in range(3):
        b.run(130_000)
        irqs += [c for c, irq, level in b.irq_log if irq == 28 and level and c not in irqs]
        b.write(TIM2 + SR, ~1 & 0xFFFF)     # clear UIF (rc_w0)
    period = 15 * 1000 * 120_000_000 // 15_000_000   # timer ticks -> HCLK cycles = 120000
    assert irqs[:3] == [t0 + period, t0 + 2 * period, t0 + 3 * period]


def test_tim5_counts_microseconds():
    b = Bench()
    system_clock_120mhz(b)
    start(b, TIM5, psc=14, arr=0xFFFF_FFFF, uie=False)
    t0 = b.cycles
    b.run(120 * 12_345)                     # 12.345 ms at 120 MHz
    assert b.cycles - t0 == 120 * 12_345
    assert b.read(TIM5 + CNT) == 12_345


def test_16bit_basic_timer_wraps_and_sets_uif_without_interrupt():
    b = Bench()                             # 4 MHz, APB /1: TIM6 clock 4 MHz
    start(b, TIM6, psc=0, arr=99, uie=False)
    b.run(250)
    assert b.read(TIM6 + SR) & 1
    assert b.read(TIM6 + CNT) == 50
    assert not b.irq_levels.get(54)
    b.write(TIM6 + SR, 0)
    assert not b.read(TIM6 + SR) & 1


def test_prescaler_is_preloaded_until_update():
    b = Bench()
    start(b, TIM6, psc=0, arr=9, uie=False)
    b.run(5)
    b.write(TIM6 + PSC, 9)                  # takes effect at the next update (after 5 more ticks)
    b.run(5 + 20)
    assert b.read(TIM6 + CNT) == 2


def test_one_pulse_mode_stops_counter():
    b = Bench()
    start(b, TIM6, psc=0, arr=9, cr1=1 | (1 << 3))
    b.run(10)
    assert not b.read(TIM6 + CR1) & 1
    assert b.irq_levels[54]
    b.run(100)
    assert b.read(TIM6 + CNT) == 0


def test_long_run_is_fast_and_exact():
    b = Bench()                             # ARR=1: an update every 2 ticks for 10 s of simulated time
    start(b, TIM6, psc=0, arr=1, uie=False)
    b.run(40_000_001)
    assert b.read(TIM6 + CNT) == 1


def test_count_stays_exact_across_a_clock_switch():
    """Counting at 4 MHz, then at 120 MHz (timer clock 15 MHz after APB1 /16): the count is the sum of
    both phases, converted with the frequencies in force in each (RCC notifies before a change)."""
    b = Bench()
    start(b, TIM5, psc=0, arr=0xFFFF_FFFF, uie=False)
    b.run(4_000)                            # 1 ms at 4 MHz: 4000 counts
    before = b.read(TIM5 + CNT)
    t0 = b.cycles
    system_clock_120mhz(b)                  # polls cost time at the clocks of each step
    spent = b.cycles - t0
    assert before == 4_000
    b.run(120_000)                          # 1 ms at 120 MHz: 15000 counts at 15 MHz
    counted = b.read(TIM5 + CNT) - before
    # During the bring-up every step runs the timer at HCLK (APB /1), one tick per cycle, until the
    # final APB1 /16 write, after which it ticks at 15 MHz against 120 MHz.
    assert counted == spent + 15_000
    b2 = Bench()
    system_clock_120mhz(b2)
    start(b2, TIM5, psc=0, arr=0xFFFF_FFFF, uie=False)
    b2.run(120_000)
    assert b2.read(TIM5 + CNT) == 15_000


def test_tim1_repetition_counter_divides_update_rate():
    b = Bench()
    b.enable("TIM1")
    base = 0x4001_2C00
    b.write(base + PSC, 0)
    b.write(base + ARR, 9)
    b.write(base + 0x30, 2)                 # RCR = 2: an update every 3 overflows (30.3.3)
    b.write(base + EGR, 1)
    b.write(base + SR, 0)
    b.write(base + DIER, 1)
    b.write(base + CR1, 1)
    b.run(100)
    rises = [c for c, irq, level in b.irq_log if irq == 25 and level]
    assert rises == [30]
