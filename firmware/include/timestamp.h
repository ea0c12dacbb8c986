/* Benchmark timestamps. Performance builds: TIM2, a free-running 32-bit counter at 1 MHz, printed as
 * m-lap-us-<N> (the host handles the 2^32 us wrap). Energy builds: the timestamp pin is pulled low for
 * about 2 us, then high again (the energy monitor counts the falling edge); nothing is printed. */
#ifndef TP_TIMESTAMP_H
#define TP_TIMESTAMP_H

#include <stdint.h>

/* Start TIM2 at 1 MHz from the timer clock `tim_clk_hz` (Hz); energy builds also set up the pin. */
void timestamp_init(uint32_t tim_clk_hz);
/* Microseconds since timestamp_init(), modulo 2^32. */
uint32_t timestamp_us(void);
/* One benchmark timestamp (see above); `write` prints text in performance builds. */
void timestamp_emit(void (*write)(const char *s, uint32_t n));

#endif
