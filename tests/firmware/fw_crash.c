/* Prints a line on LPUART1 at the reset clock (MSI 4 MHz: BRR = 256 * 4 MHz / 115200 = 0x22B9), then
 * reads from unmapped memory: a precise BusFault escalated to HardFault (for the CLI's fault report). */
#include "testfw.h"
#define LP(o) REG(LPUART1_BASE + (o))
__attribute__((noinline)) uint32_t crash_here(void) { return REG(0x30000010); }
int main(void) {
    RCC_AHB2ENR |= 1u << 6; PWR_CR2 |= 1u << 9; RCC_APB1ENR2 |= 1u;
    REG(GPIOG_BASE) = (REG(GPIOG_BASE) & ~((3u << 14) | (3u << 16))) | (2u << 14) | (2u << 16);
    REG(GPIOG_BASE + 0x20) = (REG(GPIOG_BASE + 0x20) & ~(0xFu << 28)) | (8u << 28);
    REG(GPIOG_BASE + 0x24) = (REG(GPIOG_BASE + 0x24) & ~0xFu) | 8u;
    LP(0x0C) = 0x22B9; LP(0x00) = (1u << 3) | 1u;
    for (const char *s = "about to crash\r\n"; *s; s++) { while (!(LP(0x1C) & (1u << 7))) { } LP(0x28) = (uint8_t)*s; }
    while (!(LP(0x1C) & (1u << 6))) { }
    return (int)crash_here();
}
