/* Busy-wait loops on peripheral registers, for the exact fast-forward (sim/poll.py): polled LPUART1
 * transmission at 120 MHz / 115200 baud (TXE, HAL-style timeout on a SysTick-updated tick), a poll that
 * counts in RAM and one that accumulates in an FP register (neither is a fixed point), DWT stamps. */
#include "clock120.h"
#define CR1 REG(LPUART1_BASE + 0x00)
#define BRR REG(LPUART1_BASE + 0x0C)
#define ISR REG(LPUART1_BASE + 0x1C)
#define TDR REG(LPUART1_BASE + 0x28)
volatile uint32_t ticks, timeouts, spin, stamps[6];
volatile float fsum;

void SysTick_Handler(void) { ticks++; }

static int put_hal(uint8_t c) {                       /* UART_WaitOnFlagUntilTimeout, then TDR */
    uint32_t start = ticks;
    while (!(ISR & (1u << 7))) {
        if (ticks - start > 50) { timeouts++; return -1; }
    }
    TDR = c;
    return 0;
}

int main(void) {
    enable_fpu();
    DEMCR |= 1u << 24; DWT_CYCCNT = 0; DWT_CTRL |= 1;
    if (clock_to_120mhz()) return 1;
    SYST_RVR = 120000u - 1; SYST_CVR = 0; SYST_CSR = 7;
    RCC_AHB2ENR |= 1u << 6; PWR_CR2 |= 1u << 9; RCC_APB1ENR2 |= 1u;
    REG(GPIOG_BASE) = (REG(GPIOG_BASE) & ~((3u << 14) | (3u << 16))) | (2u << 14) | (2u << 16);
    REG(GPIOG_BASE + 0x20) = (REG(GPIOG_BASE + 0x20) & ~(0xFu << 28)) | (8u << 28);
    REG(GPIOG_BASE + 0x24) = (REG(GPIOG_BASE + 0x24) & ~0xFu) | 8u;
    BRR = 0x411B; CR1 = (1u << 3) | 1u;
    while (!(ISR & (1u << 21))) { }                   /* TEACK */
    stamps[0] = DWT_CYCCNT;
    for (const char *s = "polled hello 0123456789\r\n"; *s; s++) put_hal((uint8_t)*s);
    stamps[1] = DWT_CYCCNT;
    for (const char *s = "spin\r\n"; *s; s++) {       /* counts in RAM while waiting */
        while (!(ISR & (1u << 7))) spin++;
        TDR = (uint8_t)*s;
    }
    stamps[2] = DWT_CYCCNT;
    float f = 0.0f;
    for (const char *s = "float\r\n"; *s; s++) {      /* accumulates in an FP register while waiting */
        while (!(ISR & (1u << 7))) f += 0.5f;
        TDR = (uint8_t)*s;
    }
    fsum = f;
    while (!(ISR & (1u << 6))) { }                    /* TC */
    stamps[3] = DWT_CYCCNT;
    RCC_APB1ENR1 |= 1u;                               /* TIM2 at 15 MHz: PSC 14 -> 1 MHz */
    (void)RCC_APB1ENR1;
    TIM_PSC(TIM2_BASE) = 14; TIM_ARR(TIM2_BASE) = 0xFFFFFFFFu; TIM_EGR(TIM2_BASE) = 1; TIM_CR1(TIM2_BASE) = 1;
    stamps[4] = DWT_CYCCNT;
    uint32_t t0 = TIM_CNT(TIM2_BASE);
    while (TIM_CNT(TIM2_BASE) - t0 < 3) { }           /* a CNT poll (changes with time: never skipped) */
    stamps[5] = DWT_CYCCNT;
    return 0;
}
