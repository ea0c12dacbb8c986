/* STM32L4R5 to 120 MHz from MSI 4 MHz, written from RM0432 the way STM32Cube HAL's SystemClock_Config,
 * HAL_PWREx_ControlVoltageScaling(SCALE1_BOOST) and HAL_RCC_ClockConfig do it:
 *   PWR: VOS range 1, R1MODE=0 (boost), wait VOSF=0 [RM0432 5.1.8, 5.4.1, 5.4.20]
 *   FLASH: LATENCY=5 (+ prefetch, I/D caches) before raising the clock, read back [3.3.3, 3.7.1]
 *   PLL: source MSI, M=1, N=60, R=2 -> 4 MHz * 60 / 2 = 120 MHz; wait PLLRDY [6.4.4]
 *   through AHB /2 while switching above 80 MHz, SW=PLL, wait SWS, then AHB /1; APB1 and APB2 /16. */
#include "testfw.h"
static int clock_to_120mhz(void) {
    uint32_t timeout;
    RCC_APB1ENR1 |= 1u << 28;                                  /* PWREN */
    (void)RCC_APB1ENR1;
    PWR_CR5 &= ~(1u << 8);                                     /* R1MODE = 0: range 1 boost */
    PWR_CR1 = (PWR_CR1 & ~(3u << 9)) | (1u << 9);              /* VOS = range 1 */
    for (timeout = 100000; PWR_SR2 & (1u << 10); )             /* VOSF */
        if (--timeout == 0) return 1;
    FLASH_ACR = (FLASH_ACR & ~0xFu) | 5u | (1u << 8) | (1u << 9) | (1u << 10);
    if ((FLASH_ACR & 0xFu) != 5u) return 2;
    RCC_PLLCFGR = (1u << 0) | (0u << 4) | (60u << 8) | (0u << 25) | (1u << 24);   /* MSI, M=1, N=60, R=2, REN */
    RCC_CR |= 1u << 24;                                        /* PLLON */
    for (timeout = 100000; !(RCC_CR & (1u << 25)); )           /* PLLRDY */
        if (--timeout == 0) return 3;
    RCC_CFGR = (RCC_CFGR & ~(0xFu << 4)) | (8u << 4);          /* HPRE = /2 */
    RCC_CFGR = (RCC_CFGR & ~3u) | 3u;                          /* SW = PLL */
    for (timeout = 100000; ((RCC_CFGR >> 2) & 3u) != 3u; )     /* SWS */
        if (--timeout == 0) return 4;
    for (volatile int i = 0; i < 100; i++) { }                 /* >= 1 us at 60 MHz */
    RCC_CFGR = (RCC_CFGR & ~((0xFu << 4) | (7u << 8) | (7u << 11))) | (7u << 8) | (7u << 11);  /* AHB /1, APB /16 */
    return 0;
}
