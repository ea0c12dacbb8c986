/* Faults: MAILBOX selects one. 1 read from unmapped 0x30000000; 2 the same with BusFault enabled in
 * SHCSR; 3 undefined instruction; 4 FP instruction before CPACR enables CP10/CP11; 5 branch to an even
 * address (EPSR.T = 0); 6 the firmware's own HardFault handler reads CFSR/HFSR/BFAR and the stacked PC;
 * 7 read an unmodelled peripheral register (I2C1 at 0x40005400): 0, or an error with --strict. */
#include "testfw.h"
volatile uint32_t seen_cfsr, seen_hfsr, seen_bfar, seen_pc, seen_lr;

__attribute__((noinline)) uint32_t read_unmapped(void) { return REG(0x30000000); }
__attribute__((noinline)) void undefined_instruction(void) { __asm__ volatile("udf #7"); }
__attribute__((noinline)) uint32_t fp_without_cpacr(uint32_t x) {
    uint32_t y;
    __asm__ volatile("vmov s0, %1\n vadd.f32 s0, s0, s0\n vmov %0, s0" : "=r"(y) : "r"(x) : "s0");
    return y;
}
__attribute__((noinline)) void branch_even(void) {
    void (*f)(void) = (void (*)(void))((uint32_t)&undefined_instruction & ~1u);
    f();
}

/* Own HardFault handler (scenario 6): the stacked frame is at MSP [ARMv7-M B1.5.6]. */
__attribute__((naked)) void HardFault_Handler(void) {
    __asm__ volatile("mov r0, sp\n b hardfault_c");
}
void hardfault_c(uint32_t *frame) {
    seen_cfsr = SCB_CFSR; seen_hfsr = SCB_HFSR; seen_bfar = SCB_BFAR;
    seen_pc = frame[6]; seen_lr = frame[5];
    tp_exit(0xF00);
}

int main(void) {
    switch (MAILBOX) {
    case 1: case 6: return (int)read_unmapped();
    case 2: SCB_SHCSR |= 1u << 17; return (int)read_unmapped();
    case 3: undefined_instruction(); break;
    case 4: return (int)fp_without_cpacr(0x3F800000u);
    case 5: branch_even(); break;
    case 7: return (int)REG(0x40005400);
    }
    return 0;
}
