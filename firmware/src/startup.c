/* Reset and exception entry for the STM32L4R5 (Cortex-M4F).
 *
 * Reset_Handler: 1. enable the FPU (CPACR CP10/CP11 full access) before any compiled code can use
 * it, 2. copy .data from flash, 3. zero .bss, 4. point VTOR at the vector table, 5. call main().
 * The vector table holds the 16 core exception entries and all BOARD_NUM_IRQS external interrupts
 * (generated list in board_vectors.h); unused vectors go to Default_Handler.
 * Faults print one `e-[fault ...]` line on the console (polled, no interrupts) and stop in a loop. */
#include <stdint.h>

#include "stm32l4_regs.h"
#include "uart.h"
#include "fmt.h"

extern uint32_t __stack_top__;
extern uint32_t __data_start__, __data_end__, __data_load__;
extern uint32_t __bss_start__, __bss_end__;

int main(void);
void Reset_Handler(void);

__attribute__((noreturn)) static void fault_stop(const char *what) {
    char line[128];
    tp_fmt_t f;
    tp_fmt_init(&f, line, sizeof line);
    tp_fmt_str(&f, "e-[fault ");
    tp_fmt_str(&f, what);
    tp_fmt_str(&f, " CFSR=0x");
    tp_fmt_hex32(&f, SCB_CFSR);
    tp_fmt_str(&f, " HFSR=0x");
    tp_fmt_hex32(&f, SCB_HFSR);
    tp_fmt_str(&f, " BFAR=0x");
    tp_fmt_hex32(&f, SCB_BFAR);
    tp_fmt_str(&f, "]\r\n");
    uart_write_polled(line, tp_fmt_len(&f));
    for (;;) {
        /* stop here: a debugger (or the simulator's hang detection) reports this PC */
    }
}

void Default_Handler(void) {
    fault_stop("unexpected interrupt");
}

void HardFault_Handler(void) { fault_stop("HardFault"); }
void MemManage_Handler(void) { fault_stop("MemManage"); }
void BusFault_Handler(void) { fault_stop("BusFault"); }
void UsageFault_Handler(void) { fault_stop("UsageFault"); }
void NMI_Handler(void) __attribute__((weak, alias("Default_Handler")));
void SVC_Handler(void) __attribute__((weak, alias("Default_Handler")));
void DebugMon_Handler(void) __attribute__((weak, alias("Default_Handler")));
void PendSV_Handler(void) __attribute__((weak, alias("Default_Handler")));
void SysTick_Handler(void) __attribute__((weak, alias("Default_Handler")));

#include "board_vectors.h"

typedef void (*vector_t)(void);

__attribute__((section(".isr_vector"), used))
const vector_t tp_vector_table[16 + BOARD_NUM_IRQS] = {
    (vector_t)(uintptr_t)&__stack_top__,
    Reset_Handler,
    NMI_Handler,
    HardFault_Handler,
    MemManage_Handler,
    BusFault_Handler,
    UsageFault_Handler,
    0, 0, 0, 0,
    SVC_Handler,
    DebugMon_Handler,
    0,
    PendSV_Handler,
    SysTick_Handler,
    BOARD_IRQ_VECTORS
};

_Static_assert(sizeof tp_vector_table == 4u * (16u + BOARD_NUM_IRQS), "vector table size");

__attribute__((noreturn, used)) void Reset_Handler(void) {
    SCB_CPACR |= SCB_CPACR_CP10_CP11_FULL;
    __asm volatile("dsb\n\tisb" ::: "memory");

    const uint32_t *src = &__data_load__;
    for (uint32_t *dst = &__data_start__; dst < &__data_end__;) {
        *dst++ = *src++;
    }
    for (uint32_t *dst = &__bss_start__; dst < &__bss_end__;) {
        *dst++ = 0u;
    }
    SCB_VTOR = (uint32_t)(uintptr_t)tp_vector_table;
    __asm volatile("dsb\n\tisb" ::: "memory");

    main();
    for (;;) {
        __asm volatile("wfi");
    }
}
