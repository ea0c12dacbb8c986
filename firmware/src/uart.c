/* Console UART driver (see uart.h). Register usage from RM0432 Rev 9: LPUART 51.4 / 51.7, USART
 * 50.5 / 50.8; baud rate: LPUART BRR = 256 x f(ck) / baud with 0x300 <= BRR <= 0xFFFFF (else the
 * kernel clock is divided by PRESC), USART (16x oversampling) BRR = f(ck) / baud. Pins: alternate
 * function mode with AF number from the board description; port G needs VDDIO2 (PWR_CR2.IOSV,
 * RM0432 5.1.4) before its pins work. Kernel clock: PCLK1 (CCIPR selection 00, the reset value).
 * Interrupt: RXNE (with ORE/FE/NE/PE cleared through ICR) fills the receive ring; TXE with TXEIE moves
 * the next byte of the transmit ring to TDR and disables TXEIE when the ring is empty. */
#include "uart.h"

#include "build_config.h"
#include "stm32l4_regs.h"

#if TP_ENERGY_MODE
#define U(x) BOARD_ENERGY_##x
#else
#define U(x) BOARD_CONSOLE_##x
#endif

#define BASE U(UART_BASE)
#define RX_PRIORITY 1u

static volatile uint8_t rx_ring[TP_UART_RX_RING];
static volatile uint32_t rx_head;     /* written by the IRQ */
static volatile uint32_t rx_tail;     /* written by thread mode */
static volatile uint32_t rx_lost;     /* incremented by the IRQ only */
static uint32_t rx_lost_taken;        /* thread mode's share of rx_lost already reported */
static volatile uint8_t tx_ring[TP_UART_TX_RING];
static volatile uint32_t tx_head;     /* written by thread mode */
static volatile uint32_t tx_tail;     /* written by the IRQ */

_Static_assert((TP_UART_RX_RING & (TP_UART_RX_RING - 1u)) == 0, "ring size must be a power of two");
_Static_assert((TP_UART_TX_RING & (TP_UART_TX_RING - 1u)) == 0, "ring size must be a power of two");

static const uint16_t lpuart_presc_div[] = {1, 2, 4, 6, 8, 10, 12, 16, 32, 64, 128, 256};  /* PRESC 0..11 */

static void pin_af(uint32_t port, unsigned pin, unsigned af, int pull_up) {
    GPIO_MODER(port) = (GPIO_MODER(port) & ~(3u << (2u * pin))) | (GPIO_MODE_AF << (2u * pin));
    GPIO_OSPEEDR(port) |= 2u << (2u * pin);
    GPIO_PUPDR(port) = (GPIO_PUPDR(port) & ~(3u << (2u * pin))) | ((pull_up ? 1u : 0u) << (2u * pin));
    if (pin < 8u) {
        GPIO_AFRL(port) = (GPIO_AFRL(port) & ~(0xFu << (4u * pin))) | (af << (4u * pin));
    } else {
        GPIO_AFRH(port) = (GPIO_AFRH(port) & ~(0xFu << (4u * (pin - 8u)))) | (af << (4u * (pin - 8u)));
    }
}

uint32_t uart_brr(uint32_t clk_hz, uint32_t baud, int lpuart) {
    if (lpuart) {   /* 256 x clk / baud without 64-bit arithmetic; rounded to nearest */
        return (clk_hz / baud) * 256u + ((clk_hz % baud) * 256u + baud / 2u) / baud;
    }
    return (clk_hz + baud / 2u) / baud;
}

void uart_init(uint32_t pclk_hz, uint32_t baud) {
#if U(VDDIO2)
    PWR_EN_REG |= 1u << PWR_EN_BIT;
    (void)PWR_EN_REG;
    PWR_CR2 |= PWR_CR2_IOSV;
#endif
    RCC_AHB2ENR |= (1u << U(TX_GPIO_EN_BIT)) | (1u << U(RX_GPIO_EN_BIT));
    U(EN_REG) |= 1u << U(EN_BIT);
    (void)U(EN_REG);
    pin_af(U(TX_GPIO_BASE), U(TX_PIN), U(AF), 0);
    pin_af(U(RX_GPIO_BASE), U(RX_PIN), U(AF), 1);

    UART_CR1(BASE) = 0;   /* UE = 0: BRR and PRESC are writable */
#if U(IS_LPUART)
    RCC_CCIPR &= ~RCC_CCIPR_LPUART1SEL_Msk;
    unsigned presc = 0;
    while (presc + 1u < sizeof lpuart_presc_div / sizeof lpuart_presc_div[0] &&
           uart_brr(pclk_hz / lpuart_presc_div[presc], baud, 1) > 0xFFFFFu) {
        presc++;
    }
    UART_PRESC(BASE) = presc;
    UART_BRR(BASE) = uart_brr(pclk_hz / lpuart_presc_div[presc], baud, 1);
#else
    RCC_CCIPR &= ~RCC_CCIPR_USART3SEL_Msk;
    UART_BRR(BASE) = uart_brr(pclk_hz, baud, 0);
#endif
    UART_CR2(BASE) = 0;   /* 1 stop bit */
    UART_CR3(BASE) = 0;
    rx_head = rx_tail = rx_lost = rx_lost_taken = 0;
    tx_head = tx_tail = 0;
    UART_CR1(BASE) = UART_CR1_TE | UART_CR1_RE | UART_CR1_RXNEIE | UART_CR1_UE;   /* 8N1 */
    nvic_enable_irq(U(IRQn), RX_PRIORITY);
}

static void uart_irq(void) {
    uint32_t isr = UART_ISR(BASE);
    if (isr & (UART_ISR_ORE | UART_ISR_FE | UART_ISR_NE | UART_ISR_PE)) {
        UART_ICR(BASE) = UART_ICR_ORECF | UART_ICR_FECF | UART_ICR_NECF | UART_ICR_PECF;
        if (isr & UART_ISR_ORE) {
            rx_lost++;
        }
    }
    if (isr & UART_ISR_RXNE) {
        uint8_t byte = (uint8_t)UART_RDR(BASE);
        uint32_t head = rx_head;
        uint32_t next = (head + 1u) & (TP_UART_RX_RING - 1u);
        if (next == rx_tail) {
            rx_lost++;
        } else {
            rx_ring[head] = byte;
            rx_head = next;
        }
    }
    if ((UART_CR1(BASE) & UART_CR1_TXEIE) && (isr & UART_ISR_TXE)) {
        uint32_t tail = tx_tail;
        if (tail == tx_head) {
            UART_CR1(BASE) &= ~UART_CR1_TXEIE;   /* ring empty: nothing more to send */
        } else {
            UART_TDR(BASE) = tx_ring[tail];
            tx_tail = (tail + 1u) & (TP_UART_TX_RING - 1u);
        }
    }
}

/* Both candidates are defined; only the console's interrupt is enabled. */
void LPUART1_IRQHandler(void) { uart_irq(); }
void USART3_IRQHandler(void) { uart_irq(); }

/* Sleep until an interrupt, without missing one that arrives between the caller's check and the WFI
 * (a pending interrupt ends WFI even with PRIMASK set; it runs after cpsie). */
static void wait_for_interrupt(volatile uint32_t *watch, uint32_t unchanged) {
    __asm volatile("cpsid i" ::: "memory");
    if (*watch == unchanged) {
        __asm volatile("wfi" ::: "memory");
    }
    __asm volatile("cpsie i" ::: "memory");
}

void uart_write(const char *s, size_t n) {
    for (size_t i = 0; i < n; i++) {
        uint32_t head = tx_head;
        uint32_t next = (head + 1u) & (TP_UART_TX_RING - 1u);
        uint32_t tail;
        while ((tail = tx_tail) == next) {
            wait_for_interrupt(&tx_tail, tail);   /* ring full: the IRQ frees a slot per byte */
        }
        tx_ring[head] = (uint8_t)s[i];
        tx_head = next;
        /* Enabling TXEIE races only with the IRQ clearing it on an empty ring; the byte just queued
         * makes the ring non-empty, so a lost clear merely costs one spurious interrupt. */
        UART_CR1(BASE) |= UART_CR1_TXEIE;
    }
}

void uart_flush(void) {
    uint32_t tail;
    while ((tail = tx_tail) != tx_head) {
        wait_for_interrupt(&tx_tail, tail);
    }
    while (!(UART_ISR(BASE) & UART_ISR_TC)) {
    }
}

void uart_write_polled(const char *s, size_t n) {
    __asm volatile("cpsid i" ::: "memory");
    UART_CR1(BASE) &= ~UART_CR1_TXEIE;
    while (tx_tail != tx_head) {                /* queued bytes first, in order */
        while (!(UART_ISR(BASE) & UART_ISR_TXE)) {
        }
        UART_TDR(BASE) = tx_ring[tx_tail];
        tx_tail = (tx_tail + 1u) & (TP_UART_TX_RING - 1u);
    }
    for (size_t i = 0; i < n; i++) {
        while (!(UART_ISR(BASE) & UART_ISR_TXE)) {
        }
        UART_TDR(BASE) = (uint8_t)s[i];
    }
}

int uart_getc(char *c) {
    uint32_t tail = rx_tail;
    if (tail == rx_head) {
        return 0;
    }
    *c = (char)rx_ring[tail];
    rx_tail = (tail + 1u) & (TP_UART_RX_RING - 1u);
    return 1;
}

uint32_t uart_take_lost(void) {
    uint32_t total = rx_lost;          /* one word read: no need to mask the IRQ */
    uint32_t n = total - rx_lost_taken;
    rx_lost_taken = total;
    return n;
}
