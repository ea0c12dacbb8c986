/* System clock bring-up: 120 MHz SYSCLK/HCLK/PCLK1/PCLK2 from the PLL fed by MSI 4 MHz. */
#ifndef TP_CLOCK_H
#define TP_CLOCK_H

#include <stdint.h>

#define TP_HCLK_HZ 120000000u    /* HCLK = PCLK1 = PCLK2 after clock_init() */

void clock_init(void);

#endif
