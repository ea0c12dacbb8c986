"""RCC/PWR/FLASH models: reset values (RM0432 6.4, 5.4, 3.7) and the vendor 120 MHz bring-ups."""

import pytest

from periph_bench import (FLASH, PWR, RCC, RCC_CCIPR, RCC_CFGR, RCC_CR, RCC_PLLCFGR, Bench,
                          system_clock_120mhz)
from tinyperf.errors import SimError

pytestmark = pytest.mark.unit


@pytest.mark.parametrize("address, reset", [
    (RCC + 0x00, 0x0000_0063),   # RCC_CR: MSION, MSIRDY, MSIRANGE = 6 (6.4.1)
    (RCC + 0x08, 0x0000_0000),   # RCC_CFGR (6.4.3)
    (RCC + 0x0C, 0x0000_1000),   # RCC_PLLCFGR: PLLN = 16 (6.4.4)
    (RCC + 0x48, 0x0000_0100),   # RCC_AHB1ENR: FLASHEN (6.4.16)
    (RCC + 0x58, 0x0000_0000),   # RCC_APB1ENR1
    (RCC + 0x94, 0x0C00_0600),   # RCC_CSR: PINRSTF, BORRSTF, MSISRANGE = 6 (6.4.30)
    (PWR + 0x00, 0x0000_0200),   # PWR_CR1: VOS = range 1 (5.4.1)
    (PWR + 0x08, 0x0000_8000),   # PWR_CR3: EIWUL (5.4.3)
    (PWR + 0x80, 0x0000_0100),   # PWR_CR5: R1MODE (5.4.26)
    (FLASH + 0x00, 0x0000_0600), # FLASH_ACR: ICEN, DCEN (3.7.1)
    (FLASH + 0x14, 0xC000_0000), # FLASH_CR: LOCK, OPTLOCK (3.7.6)
    (FLASH + 0x20, 0xFFEF_F8AA), # FLASH_OPTR: factory option bytes, DBANK = 1 (3.7.8)
    (0xE004_2000, 0x1007_6470),  # DBGMCU_IDCODE (57.2.3)
])
def test_reset_values(address, reset):
    b = Bench()
    if PWR <= address < PWR + 0x400:
        b.enable("PWR")
    assert b.read(address) == reset


def test_reset_clock_is_msi_4mhz():
    b = Bench()
    assert b.clock_hz("SYSCLK") == b.clock_hz("HCLK") == b.clock_hz("PCLK1") == 4_000_000


@pytest.mark.parametrize("source", ["MSI", "HSI16"])
def test_vendor_bringup_reaches_120mhz(source):
    b = Bench()
    stops = b.stops
    system_clock_120mhz(b, source)
    assert b.clock_hz("SYSCLK") == 120_000_000
    assert b.clock_hz("HCLK") == 120_000_000
    assert b.clock_hz("PCLK1") == b.clock_hz("PCLK2") == 7_500_000
    assert b.clock_hz("TIM2") == b.clock_hz("TIM1") == 15_000_000      # 2 x PCLK (6.2.14)
    assert b.clock_hz("LPUART1") == 7_500_000                          # CCIPR = 0: PCLK1
    assert b.stops > stops                                             # HCLK changes reach the run loop
    assert b.flash_calls[-1] == (5, False, True, True)
    assert b.models["PWR"].boost()


def test_timer_clock_not_doubled_with_apb_div1():
    b = Bench()
    system_clock_120mhz(b, apb_div16=False)
    assert b.clock_hz("PCLK1") == b.clock_hz("TIM5") == 120_000_000


def test_sws_follows_sw_only_when_source_ready():
    b = Bench()
    b.write(RCC_PLLCFGR, 1 | (40 << 8) | (1 << 24))      # PLL from MSI, not enabled
    b.rmw(RCC_CFGR, 3, 3)                               # SW = PLL
    assert (b.read(RCC_CFGR) >> 2) & 3 == 0             # still MSI
    assert b.clock_hz("SYSCLK") == 4_000_000
    b.rmw(RCC_CR, 0, 1 << 24)                           # PLLON: ready at once, the switch completes
    assert (b.read(RCC_CFGR) >> 2) & 3 == 3
    assert b.clock_hz("SYSCLK") == 4_000_000 * 40 // 2
    b.rmw(RCC_CR, 1 << 24, 0)                           # PLL drives SYSCLK: PLLON cannot be cleared
    assert b.read(RCC_CR) & (1 << 25)


def test_hse_ready_follows_enable_and_msi_range_from_csr():
    b = Bench()
    b.rmw(RCC_CR, 0, 1 << 16)
    assert b.read(RCC_CR) & (1 << 17)
    assert b.clock_hz("HSE") == 8_000_000
    b.write(RCC + 0x94, 7 << 8)                         # MSISRANGE = 7 (8 MHz), used while MSIRGSEL = 0
    assert b.clock_hz("SYSCLK") == 8_000_000


def test_uart_kernel_clock_mux():
    b = Bench()
    b.rmw(RCC_CR, 0, 1 << 8)                            # HSI16 on
    b.write(RCC_CCIPR, 2 << 10)                         # LPUART1SEL = HSI16
    assert b.clock_hz("LPUART1") == 16_000_000
    b.write(RCC_CCIPR, 1 << 4)                          # USART3SEL = SYSCLK
    assert b.clock_hz("USART3") == 4_000_000
    with pytest.raises(SimError):
        b.clock_hz("NOSUCHCLOCK")


def test_lse_needs_backup_domain_access():
    b = Bench()
    b.enable("PWR")
    b.write(RCC + 0x90, 1)                              # LSEON with PWR_CR1.DBP = 0: ignored
    assert b.read(RCC + 0x90) == 0
    b.rmw(PWR, 0, 1 << 8)                               # DBP
    b.write(RCC + 0x90, 1)
    assert b.read(RCC + 0x90) & 3 == 3                  # LSEON, LSERDY
    assert b.clock_hz("LSE") == 32_768


def test_vosf_set_for_a_short_time_after_vos_change():
    b = Bench()
    b.enable("PWR")
    b.rmw(PWR, 3 << 9, 2 << 9)                          # range 2
    assert b.read(PWR + 0x14) & (1 << 10)
    b.run(1000)                                         # 250 us at 4 MHz
    assert not b.read(PWR + 0x14) & (1 << 10)


def test_flash_unlock_sequence_and_latency_readback():
    b = Bench()
    b.write(FLASH + 0x08, 0x4567_0123)
    b.write(FLASH + 0x08, 0xCDEF_89AB)
    assert not b.read(FLASH + 0x14) & (1 << 31)
    for latency in range(16):
        b.rmw(FLASH, 0xF, latency)
        assert b.read(FLASH) & 0xF == latency


def test_rstr_bit_resets_the_peripheral_and_rmvf_clears_reset_flags():
    b = Bench()
    b.enable("LPUART1")
    b.write(0x4000_800C, 0x411B)                        # LPUART1_BRR
    b.write(RCC + 0x3C, 1)                              # APB1RSTR2.LPUART1RST
    b.write(RCC + 0x3C, 0)
    assert b.read(0x4000_800C) == 0
    b.write(RCC + 0x94, 1 << 23)                        # CSR.RMVF
    assert b.read(RCC + 0x94) == 0x0000_0600
