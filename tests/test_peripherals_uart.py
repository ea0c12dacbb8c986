"""USART/LPUART models: vendor BRR values give the vendor baud rates (RM0432 51.4.7), byte timing in
simulated time, receive interrupt, overrun."""

from fractions import Fraction
from math import ceil

import pytest

from periph_bench import PWR, RCC_APB1ENR2, Bench, system_clock_120mhz, wait_for

pytestmark = pytest.mark.unit

LPUART1, GPIOG = 0x4000_8000, 0x4800_1800
CR1, BRR, ISR, ICR, RDR, TDR = (LPUART1 + o for o in (0x00, 0x0C, 0x1C, 0x20, 0x24, 0x28))
TXE, TC, RXNE, ORE, TEACK, REACK = 1 << 7, 1 << 6, 1 << 5, 1 << 3, 1 << 21, 1 << 22
IRQ = 70


def console_pins(b: Bench) -> None:
    """HAL_UART_MspInit for the console: PWR_CR2.IOSV, PG7/PG8 in AF8 (RM0432 5.1.4, 8.4)."""
    b.enable("PWR", "GPIOG")
    b.rmw(PWR + 0x04, 0, 1 << 9)                     # IOSV
    b.rmw(GPIOG + 0x00, 0xF << 14, 0xA << 14)        # MODER7/8 = AF
    b.rmw(GPIOG + 0x20, 0xF << 28, 8 << 28)          # AFRL7 = 8
    b.rmw(GPIOG + 0x24, 0xF, 8)                      # AFRH8 = 8


def lpuart_at(brr: int, rxneie: bool = False, pins: bool = True) -> Bench:
    """120 MHz, APB1 /16 (PCLK1 7.5 MHz), LPUART1 8N1 as HAL_UART_Init leaves it."""
    b = Bench()
    system_clock_120mhz(b)
    if pins:
        console_pins(b)
    b.rmw(RCC_APB1ENR2, 0, 1)                        # LPUART1EN
    b.write(BRR, brr)
    b.write(CR1, (1 << 3) | (1 << 2) | (1 << 5 if rxneie else 0))   # TE RE (RXNEIE)
    b.rmw(CR1, 0, 1)                                 # UE
    wait_for(b, lambda: b.read(ISR) & (TEACK | REACK) == TEACK | REACK, "TEACK/REACK")
    return b


def frame_cycles(brr: int) -> Fraction:
    """10 bit times of baud = 256 * fck / BRR (51.4.7), in 120 MHz HCLK cycles; fck = 7.5 MHz."""
    return 10 * Fraction(256 * 7_500_000, brr) ** -1 * 120_000_000


@pytest.mark.parametrize("brr, baud", [(0x823, 921_600), (0x411B, 115_200)])
def test_vendor_brr_gives_vendor_baud(brr, baud):
    b = lpuart_at(brr)
    assert abs(b.models["LPUART1"].baud() - baud) / baud < 0.001


@pytest.mark.parametrize("brr", [0x823, 0x411B])
def test_tx_bytes_finish_one_frame_apart(brr):
    b = lpuart_at(brr)
    sent = []
    b.models["LPUART1"].tx_listeners.append(lambda data: sent.append((b.cycles, data)))
    t0 = b.cycles
    b.write(TDR, ord("h"))
    assert b.read(ISR) & TXE and not b.read(ISR) & TC       # moved to the shift register at once
    b.write(TDR, ord("i"))
    assert not b.read(ISR) & TXE
    b.run(int(3 * frame_cycles(brr)))
    assert sent == [(t0 + ceil(frame_cycles(brr)), b"h"), (t0 + ceil(2 * frame_cycles(brr)), b"i")]
    assert b.read(ISR) & (TXE | TC) == TXE | TC


def test_rx_interrupt_per_byte_and_rdr_read_clears():
    brr = 0x823
    b = lpuart_at(brr, rxneie=True)
    t0 = b.cycles
    b.models["LPUART1"].host_send(b"ok")
    b.run(int(frame_cycles(brr)) + 2)
    rises = [c for c, irq, level in b.irq_log if irq == IRQ and level]
    assert rises == [t0 + ceil(frame_cycles(brr))]
    assert b.read(RDR) == ord("o")
    assert not b.irq_levels[IRQ]
    b.run(int(frame_cycles(brr)) + 2)
    assert b.read(RDR) == ord("k")
    assert not b.read(ISR) & ORE


def test_rx_overrun_when_rdr_not_read():
    brr = 0x823
    b = lpuart_at(brr)
    b.models["LPUART1"].host_send(b"abc")
    b.run(int(3 * frame_cycles(brr)) + 3)
    isr = b.read(ISR)
    assert isr & RXNE and isr & ORE
    assert b.read(RDR) == ord("a")                          # later bytes were lost
    b.write(ICR, 1 << 3)                                    # ORECF
    assert not b.read(ISR) & ORE


def test_rx_waits_while_receiver_disabled():
    b = Bench()
    b.rmw(RCC_APB1ENR2, 0, 1)
    b.models["LPUART1"].host_send(b"x")
    b.run(100_000)
    assert not b.read(ISR) & RXNE
    b.write(BRR, 0x300)
    b.write(CR1, (1 << 2) | 1)                              # RE, UE
    b.run(100)                                              # 10 bits * 0x300/256 = 30 cycles at 4 MHz
    assert b.read(ISR) & RXNE and b.read(RDR) == ord("x")


def test_usart_oversampling_by_16_and_8():
    b = Bench()                                              # 4 MHz PCLK1
    b.enable("USART3")
    usart3 = b.models["USART3"]
    b.write(0x4000_480C, 417)                                # BRR = 4 MHz / 9600
    b.write(0x4000_4800, (1 << 3) | 1)
    assert abs(usart3.baud() - 9592.3) < 0.1
    b.write(0x4000_4800, 0)
    b.write(0x4000_480C, (0x34 << 4) | 1)                    # OVER8: USARTDIV = BRR[15:4]<<4 | BRR[2:0]<<1
    b.write(0x4000_4800, (1 << 15) | (1 << 3) | 1)
    assert usart3.baud() == pytest.approx(2 * 4_000_000 / ((0x34 << 4) | (1 << 1)))


@pytest.mark.parametrize("strict", [True, False])
def test_tx_without_iosv_is_reported_and_dropped_when_strict(strict, caplog):
    b = lpuart_at(0x823, pins=False)
    b.strict = strict
    sent = []
    b.models["LPUART1"].tx_listeners.append(sent.append)
    b.write(TDR, ord("x"))
    b.run(2000)
    assert "GPIOG clock is off" in caplog.text
    assert sent == ([] if strict else [b"x"])


def test_tx_pin_in_vddio2_domain_needs_iosv(caplog):
    b = lpuart_at(0x823)
    b.rmw(PWR + 0x04, 1 << 9, 0)                     # IOSV cleared again
    b.models["LPUART1"].tx_listeners.append(lambda data: None)
    b.write(TDR, ord("x"))
    b.run(2000)
    assert "PWR_CR2.IOSV = 0" in caplog.text


def test_idle_after_burst_and_ue_off_resets_flags():
    brr = 0x823
    b = lpuart_at(brr)
    b.models["LPUART1"].host_send(b"z")
    b.run(int(frame_cycles(brr)) + 2)
    assert b.read(ISR) & RXNE and not b.read(ISR) & (1 << 4)
    b.run(int(frame_cycles(brr)) + 2)
    assert b.read(ISR) & (1 << 4)                            # IDLE one frame after the last byte
    b.write(ICR, 1 << 4)
    assert not b.read(ISR) & (1 << 4)
    b.rmw(CR1, 1, 0)                                         # UE = 0
    assert b.read(ISR) == TXE | TC
