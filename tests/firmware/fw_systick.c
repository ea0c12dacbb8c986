/* SysTick interrupts (HAL_Delay style, SysTick at priority 0) and DWT CYCCNT time stamps.
 * MAILBOX selects the SysTick clock: 0 = core clock (CLKSOURCE=1), 1 = external reference HCLK/8. */
#include "testfw.h"
#define TICKS 16
volatile uint32_t ticks;
volatile uint32_t stamp[TICKS];
volatile uint32_t done_cycles;

void SysTick_Handler(void) {
    if (ticks < TICKS) stamp[ticks] = DWT_CYCCNT;
    ticks++;
}

static void delay_ticks(uint32_t n) {         /* HAL_Delay: wait on the tick counter */
    uint32_t start = ticks;
    while (ticks - start < n) { }
}

int main(void) {
    enable_fpu();
    DEMCR |= 1u << 24;                          /* TRCENA */
    DWT_CYCCNT = 0;
    DWT_CTRL |= 1;                              /* CYCCNTENA */
    SCB_SHPR(15) = 0x00;                        /* SysTick priority 0 */
    SYST_RVR = 999;                             /* 1000 clocks per tick */
    SYST_CVR = 0;
    SYST_CSR = MAILBOX == 1 ? 0x3 : 0x7;        /* ENABLE | TICKINT | (CLKSOURCE) */
    delay_ticks(TICKS);
    SYST_CSR = 0;
    done_cycles = DWT_CYCCNT;
    return 0;
}
