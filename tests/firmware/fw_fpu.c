/* FP context across an interrupt: the thread holds known values in s0-s15 and FPSCR, an interrupt
 * handler overwrites them; the extended frame [ARMv7-M B1.5.7] must give the thread its values back.
 * MAILBOX 2: an IT-block loop interrupted by SysTick every 37 cycles (RVR 36). */
#include "testfw.h"
volatile uint32_t before[17], after[17], isr_exc_return, isr_count;
volatile uint32_t it_result;

void IRQ40_Handler(void) {
    uint32_t lr;
    __asm__ volatile("mov %0, lr" : "=r"(lr));
    isr_exc_return = lr;
    __asm__ volatile("vmov s0, %0\n vmov s1, %0\n vmov s2, %0\n vmov s3, %0\n vmov s4, %0\n vmov s5, %0\n"
                     "vmov s6, %0\n vmov s7, %0\n vmov s8, %0\n vmov s9, %0\n vmov s10, %0\n vmov s11, %0\n"
                     "vmov s12, %0\n vmov s13, %0\n vmov s14, %0\n vmov s15, %0\n vmsr fpscr, %1"
                     : : "r"(0xDEADBEEFu), "r"(0u) : "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8",
                       "s9", "s10", "s11", "s12", "s13", "s14", "s15");
    isr_count++;
}
void SysTick_Handler(void) { isr_count++; }

static const uint32_t flash_table[4] = {0x11111111u, 0x22222222u, 0x44444444u, 0x88888888u};
volatile uint32_t sram_table[4] = {0x01010101u, 0x02020202u, 0x04040404u, 0x08080808u};

/* Conditional ALU ops and conditional loads (from flash and from SRAM) inside IT blocks. */
__attribute__((noinline)) static uint32_t it_loop(uint32_t n) {
    uint32_t acc = 0, i = 0;
    __asm__ volatile(
        "1: ands r3, %[i], #3\n"
        "   cmp r3, #1\n"
        "   ite eq\n"
        "   addeq %[acc], %[acc], %[i]\n"
        "   eorne %[acc], %[acc], %[i], lsl #3\n"
        "   cmp r3, #2\n"
        "   itte hi\n"
        "   addhi %[acc], %[acc], #7\n"
        "   rorhi %[acc], %[acc], #5\n"
        "   subls %[acc], %[acc], #1\n"
        "   cmp r3, #0\n"
        "   ite eq\n"
        "   ldreq r4, [%[ft], r3, lsl #2]\n"
        "   ldrne r4, [%[st], r3, lsl #2]\n"
        "   eor %[acc], %[acc], r4\n"
        "   adds %[i], %[i], #1\n"
        "   cmp %[i], %[n]\n"
        "   blo 1b\n"
        : [acc] "+r"(acc), [i] "+r"(i) : [n] "r"(n), [ft] "r"(flash_table), [st] "r"(sram_table)
        : "r3", "r4", "cc", "memory");
    return acc;
}

int main(void) {
    enable_fpu();
    if (MAILBOX == 2) {
        SYST_RVR = 36; SYST_CVR = 0; SYST_CSR = 7;
        it_result = it_loop(3000);
        SYST_CSR = 0;
        return 0;
    }
    NVIC_ISER(1) = 1u << (40 - 32);
    uint32_t fpscr = 0x03C00000u;      /* DN | FZ | RMode = round towards zero */
    __asm__ volatile(
        "vmsr fpscr, %[f]\n"
        "ldr r1, =0x3F800000\n"
        "vmov s0, r1\n adds r1, #1\n vmov s1, r1\n adds r1, #1\n vmov s2, r1\n adds r1, #1\n vmov s3, r1\n"
        "adds r1, #1\n vmov s4, r1\n adds r1, #1\n vmov s5, r1\n adds r1, #1\n vmov s6, r1\n adds r1, #1\n"
        "vmov s7, r1\n adds r1, #1\n vmov s8, r1\n adds r1, #1\n vmov s9, r1\n adds r1, #1\n vmov s10, r1\n"
        "adds r1, #1\n vmov s11, r1\n adds r1, #1\n vmov s12, r1\n adds r1, #1\n vmov s13, r1\n"
        "adds r1, #1\n vmov s14, r1\n adds r1, #1\n vmov s15, r1\n"
        "vstmia %[b], {s0-s15}\n vmrs r1, fpscr\n str r1, [%[b], #64]\n"
        "str %[irq], [%[stir]]\n dsb\n isb\n"
        "vstmia %[a], {s0-s15}\n vmrs r1, fpscr\n str r1, [%[a], #64]\n"
        : : [f] "r"(fpscr), [b] "r"(before), [a] "r"(after), [irq] "r"(40u), [stir] "r"(&NVIC_STIR)
        : "r1", "s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11", "s12", "s13",
          "s14", "s15", "memory");
    return 0;
}
