/* The console UART: LPUART1 (ST-LINK virtual COM port) in performance builds, USART3 (Arduino header)
 * in energy builds. Receive and transmit are interrupt driven through ring buffers; a writer that finds
 * the transmit ring full sleeps (WFI) until the interrupt has made room. (A polled transmitter would spin
 * on TXE for a whole frame per byte: 87 us at 115200 baud, and the m-lap-us line printed right after the
 * start timestamp would add about 1.5 ms to every timed window.) uart_write_polled() is for fault
 * handlers, which cannot rely on interrupts. */
#ifndef TP_UART_H
#define TP_UART_H

#include <stddef.h>
#include <stdint.h>

#define TP_UART_RX_RING 4096u     /* bytes; a power of two */
#define TP_UART_TX_RING 1024u     /* bytes; a power of two */

/* Pins, clock and baud rate (bits/s) from the PCLK1 frequency `pclk_hz` (Hz); enables the RX IRQ. */
void uart_init(uint32_t pclk_hz, uint32_t baud);
/* Queue n bytes for transmission (returns once all are queued). */
void uart_write(const char *s, size_t n);
/* Wait until every queued byte has left the shift register (TC). */
void uart_flush(void);
/* Send n bytes after the queued ones, waiting for TXE before each with interrupts masked (usable from
 * fault handlers). */
void uart_write_polled(const char *s, size_t n);
/* Take one received byte: 1 and *c set, or 0 when none is waiting. */
int uart_getc(char *c);
/* Bytes dropped since the last call (ring full or receiver overrun). */
uint32_t uart_take_lost(void);
/* BRR value for `baud` (bits/s) at kernel clock `clk_hz` (Hz), for an LPUART (lpuart=1) or USART. */
uint32_t uart_brr(uint32_t clk_hz, uint32_t baud, int lpuart);

#endif
