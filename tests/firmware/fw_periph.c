/* Clock bring-up to 120 MHz, SysTick 1 ms ticks at 120 MHz (HAL_InitTick), TIM2 and TIM6 update
 * interrupts. APB1 runs at 120/16 = 7.5 MHz, so the timers count at 2 x 7.5 = 15 MHz [RM0432 6.2.14].
 * TIM2: PSC 14, ARR 999 -> 1 kHz (120000 HCLK cycles); TIM6: PSC 0, ARR 1499 -> 10 kHz (12000 cycles). */
#include "clock120.h"
#define N 8
volatile uint32_t status, ticks, delay_cycles;
volatile uint32_t tim2_stamp[N], tim6_stamp[N], tim2_n, tim6_n;

void SysTick_Handler(void) { ticks++; }
void TIM2_IRQHandler(void) {
    TIM_SR(TIM2_BASE) = ~1u;                                   /* clear UIF (rc_w0) */
    if (tim2_n < N) tim2_stamp[tim2_n++] = DWT_CYCCNT;
}
void TIM6_IRQHandler(void) {
    TIM_SR(TIM6_BASE) = ~1u;
    if (tim6_n < N) tim6_stamp[tim6_n++] = DWT_CYCCNT;
}
static void delay_ms(uint32_t n) { uint32_t t = ticks; while (ticks - t < n) { } }

int main(void) {
    enable_fpu();
    DEMCR |= 1u << 24; DWT_CYCCNT = 0; DWT_CTRL |= 1;
    status = clock_to_120mhz();
    if (status) return (int)status;
    SCB_SHPR(15) = 0;
    SYST_RVR = 120000u - 1; SYST_CVR = 0; SYST_CSR = 7;           /* 1 ms at 120 MHz */
    uint32_t t0 = DWT_CYCCNT;
    delay_ms(5);
    delay_cycles = DWT_CYCCNT - t0;
    RCC_APB1ENR1 |= (1u << 0) | (1u << 4);                       /* TIM2EN, TIM6EN */
    (void)RCC_APB1ENR1;
    TIM_PSC(TIM2_BASE) = 14; TIM_ARR(TIM2_BASE) = 999;
    TIM_PSC(TIM6_BASE) = 0; TIM_ARR(TIM6_BASE) = 1499;
    TIM_EGR(TIM2_BASE) = 1; TIM_EGR(TIM6_BASE) = 1;              /* UG: load PSC */
    TIM_SR(TIM2_BASE) = 0; TIM_SR(TIM6_BASE) = 0;
    TIM_DIER(TIM2_BASE) = 1; TIM_DIER(TIM6_BASE) = 1;            /* UIE */
    NVIC_IPR(28) = 0x40; NVIC_IPR(54) = 0x40;
    NVIC_ISER(0) = 1u << 28; NVIC_ISER(1) = 1u << (54 - 32);
    TIM_CR1(TIM2_BASE) = 1; TIM_CR1(TIM6_BASE) = 1;              /* CEN */
    while (tim2_n < N) __asm__ volatile("wfi");
    return 0;
}
