/* Timestamps (see timestamp.h). TIM2 [RM0432 38.4]: PSC = f(TIM) / 1 MHz - 1, ARR = 0xFFFFFFFF, UG to
 * load the prescaler, CEN. The TIM2 kernel clock equals PCLK1 while the APB1 prescaler is 1 [RM0432
 * 6.2, figure 15]. Timestamp pin [RM0432 8.4]: general-purpose push-pull output, set/reset through BSRR. */
#include "timestamp.h"

#include "build_config.h"
#include "fmt.h"
#include "stm32l4_regs.h"

#define TS_TIMER TIM2_BASE
#define PULSE_US 2u

void timestamp_init(uint32_t tim_clk_hz) {
    TIM2_EN_REG |= 1u << TIM2_EN_BIT;
    (void)TIM2_EN_REG;
    TIM_CR1(TS_TIMER) = 0;
    TIM_PSC(TS_TIMER) = tim_clk_hz / 1000000u - 1u;
    TIM_ARR(TS_TIMER) = 0xFFFFFFFFu;
    TIM_CNT(TS_TIMER) = 0;
    TIM_EGR(TS_TIMER) = TIM_EGR_UG;
    TIM_SR(TS_TIMER) = 0;
    TIM_CR1(TS_TIMER) = TIM_CR1_CEN;
#if TP_ENERGY_MODE
    const uint32_t port = BOARD_TIMESTAMP_GPIO_BASE;
    const unsigned pin = BOARD_TIMESTAMP_PIN;
    RCC_AHB2ENR |= 1u << BOARD_TIMESTAMP_GPIO_EN_BIT;
    (void)RCC_AHB2ENR;
    GPIO_BSRR(port) = 1u << pin;                        /* idle high before the pin becomes an output */
    GPIO_OTYPER(port) &= ~(1u << pin);
    GPIO_MODER(port) = (GPIO_MODER(port) & ~(3u << (2u * pin))) | (GPIO_MODE_OUTPUT << (2u * pin));
#endif
}

uint32_t timestamp_us(void) {
    return TIM_CNT(TS_TIMER);
}

void timestamp_emit(void (*write)(const char *s, uint32_t n)) {
#if TP_ENERGY_MODE
    (void)write;
    const uint32_t port = BOARD_TIMESTAMP_GPIO_BASE;
    GPIO_BRR(port) = 1u << BOARD_TIMESTAMP_PIN;         /* falling edge: the timestamp */
    uint32_t start = timestamp_us();
    while (timestamp_us() - start < PULSE_US) {
    }
    GPIO_BSRR(port) = 1u << BOARD_TIMESTAMP_PIN;
#else
    char buf[32];
    tp_fmt_t f;
    tp_fmt_init(&f, buf, sizeof buf);
    tp_fmt_str(&f, "m-lap-us-");
    tp_fmt_u32(&f, timestamp_us());
    tp_fmt_str(&f, "\r\n");
    write(buf, (uint32_t)tp_fmt_len(&f));
#endif
}
