/* The console UART: LPUART1 (ST-LINK virtual COM port) in performance builds, USART3 (Arduino header)
 * in energy builds. Receive is interrupt driven into a ring buffer; transmit is polled. */
#ifndef TP_UART_H
#define TP_UART_H

#include <stddef.h>
#include <stdint.h>

#define TP_UART_RX_RING 4096u     /* bytes; a power of two */

/* Pins, clock and baud rate (bits/s) from the PCLK1 frequency `pclk_hz` (Hz); enables the RX IRQ. */
void uart_init(uint32_t pclk_hz, uint32_t baud);
/* Send n bytes, waiting for TXE before each (no interrupts needed, usable from fault handlers). */
void uart_write_polled(const char *s, size_t n);
/* Take one received byte: 1 and *c set, or 0 when none is waiting. */
int uart_getc(char *c);
/* Bytes dropped since the last call (ring full or receiver overrun). */
uint32_t uart_take_lost(void);
/* BRR value for `baud` (bits/s) at kernel clock `clk_hz` (Hz), for an LPUART (lpuart=1) or USART. */
uint32_t uart_brr(uint32_t clk_hz, uint32_t baud, int lpuart);

#endif
