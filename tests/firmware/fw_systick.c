/* SysTick interrupts (HAL_Delay style, SysTick at priority 0) and DWT CYCCNT time stamps.
 * MAILBOX selects the SysTick clock: 0 = core clock (CLKSOURCE=1), 1 = external reference HCLK/8;
 * 2 = core clock with the vector table copied to SRAM and VTOR pointing at it [ARMv7-M B3.2.5]. */
#include "testfw.h"
#define TICKS 16
volatile uint32_t ticks;
volatile uint32_t stamp[TICKS];
volatile uint32_t done_cycles;

void SysTick_Handler(void) {
    if (ticks < TICKS) stamp[ticks] = DWT_CYCCNT;
    ticks++;
}

uint32_t ram_vectors[16 + 95] __attribute__((aligned(512)));
volatile uint32_t ram_ticks;
void SysTick_Handler_ram(void) { ram_ticks++; SysTick_Handler(); }

static void delay_ticks(uint32_t n) {         /* HAL_Delay: wait on the tick counter */
    uint32_t start = ticks;
    while (ticks - start < n) { }
}

volatile uint32_t cyc_written, cyc_later, cyc_frozen1, cyc_frozen2;

static int dwt_checks(void) {                  /* MAILBOX 3: CYCCNT is writable and counts only with TRCENA */
    DEMCR |= 1u << 24;
    DWT_CTRL |= 1;
    DWT_CYCCNT = 1000000;
    cyc_written = DWT_CYCCNT;
    for (volatile int i = 0; i < 10; i++) { }
    cyc_later = DWT_CYCCNT;
    DEMCR &= ~(1u << 24);
    cyc_frozen1 = DWT_CYCCNT;
    for (volatile int i = 0; i < 10; i++) { }
    cyc_frozen2 = DWT_CYCCNT;
    return 0;
}

int main(void) {
    if (MAILBOX == 3) return dwt_checks();
    enable_fpu();
    if (MAILBOX == 2) {
        const uint32_t *flash_vectors = (const uint32_t *)0x0;    /* boot alias of the flash */
        for (int i = 0; i < 16 + 95; i++) ram_vectors[i] = flash_vectors[i];
        ram_vectors[15] = (uint32_t)&SysTick_Handler_ram;
        __asm__ volatile("dsb" ::: "memory");
        SCB_VTOR = (uint32_t)ram_vectors;
        __asm__ volatile("dsb\n isb" ::: "memory");
    }
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
