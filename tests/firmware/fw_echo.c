/* Interrupt-driven LPUART1 echo on the ST-LINK VCP pins, as STM32Cube HAL's HAL_UART_Init +
 * HAL_UART_Receive_IT configure it [RM0432 52.4 LPUART]: clocks to 120 MHz (PCLK1 = 7.5 MHz is the LPUART
 * kernel clock, CCIPR.LPUART1SEL = 00), PG7/PG8 in AF8 with VDDIO2 valid (PWR_CR2.IOSV), BRR = 256 * fck /
 * baud rounded: 0x411B for 115200, 0x823 for 921600 (MAILBOX = 1). The receive interrupt (IRQ 70) fills
 * a ring buffer; the main loop transmits it back polling TXE, sleeping in WFI when idle. */
#include "clock120.h"
#define CR1 REG(LPUART1_BASE + 0x00)
#define BRR REG(LPUART1_BASE + 0x0C)
#define ISR REG(LPUART1_BASE + 0x1C)
#define RDR REG(LPUART1_BASE + 0x24)
#define TDR REG(LPUART1_BASE + 0x28)
#define GPIOG_MODER REG(GPIOG_BASE + 0x00)
#define GPIOG_AFRL  REG(GPIOG_BASE + 0x20)
#define GPIOG_AFRH  REG(GPIOG_BASE + 0x24)
static volatile uint8_t ring[256];
static volatile uint32_t head, tail;
volatile uint32_t rx_count;

void LPUART1_IRQHandler(void) {
    if (ISR & (1u << 5)) {                       /* RXNE */
        ring[head & 255] = (uint8_t)RDR;
        head++;
        rx_count++;
    }
}
static void put(uint8_t c) {
    while (!(ISR & (1u << 7))) { }               /* TXE */
    TDR = c;
}
static void puts_(const char *s) { while (*s) put((uint8_t)*s++); }

int main(void) {
    enable_fpu();
    if (clock_to_120mhz()) return 1;
    RCC_AHB2ENR |= 1u << 6;                      /* GPIOGEN */
    PWR_CR2 |= 1u << 9;                          /* IOSV */
    RCC_APB1ENR2 |= 1u << 0;                     /* LPUART1EN */
    (void)RCC_APB1ENR2;
    GPIOG_MODER = (GPIOG_MODER & ~((3u << 14) | (3u << 16))) | (2u << 14) | (2u << 16);
    GPIOG_AFRL = (GPIOG_AFRL & ~(0xFu << 28)) | (8u << 28);
    GPIOG_AFRH = (GPIOG_AFRH & ~0xFu) | 8u;
    BRR = MAILBOX == 1 ? 0x823u : 0x411Bu;
    CR1 = (1u << 5) | (1u << 3) | (1u << 2) | 1u; /* RXNEIE, TE, RE, UE */
    while ((ISR & ((1u << 21) | (1u << 22))) != ((1u << 21) | (1u << 22))) { }   /* TEACK, REACK */
    NVIC_IPR(70) = 0x00;
    NVIC_ISER(70 / 32) = 1u << (70 % 32);
    puts_("ready\r\n");
    for (;;) {
        cpsid();
        if (tail == head) { __asm__ volatile("wfi"); cpsie(); continue; }
        cpsie();
        uint8_t c = ring[tail & 255];
        tail++;
        put(c);
        if (c == '!') break;
    }
    while (!(ISR & (1u << 6))) { }               /* TC */
    return 0;
}
