/* Minimal Cortex-M4F startup for the simulator's test firmwares (tests/firmware/).
 * Vector table [ARMv7-M ARM B1.5.3]: initial MSP, then the 15 system exception vectors, then the
 * external interrupts 0..94 of the STM32L4R5 [RM0432 Table 58]. Every handler is weak and defaults to
 * Default_Handler (an endless loop), so a test firmware defines only the handlers it needs.
 * After main() returns, tp_exit() ends the simulation through Arm semihosting SYS_EXIT (BKPT 0xAB). */
#include <stdint.h>
#include "testfw.h"

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
int main(void);

void Default_Handler(void) { for (;;) { } }
void Reset_Handler(void);
#define WEAK __attribute__((weak, alias("Default_Handler")))
void NMI_Handler(void) WEAK;
void HardFault_Handler(void) WEAK;
void MemManage_Handler(void) WEAK;
void BusFault_Handler(void) WEAK;
void UsageFault_Handler(void) WEAK;
void SVC_Handler(void) WEAK;
void DebugMon_Handler(void) WEAK;
void PendSV_Handler(void) WEAK;
void SysTick_Handler(void) WEAK;
void IRQ_Handler(void) WEAK;   /* shared default for external interrupts */
void TIM2_IRQHandler(void) WEAK;
void TIM6_IRQHandler(void) WEAK;
void IRQ40_Handler(void) WEAK;
void IRQ41_Handler(void) WEAK;
void IRQ42_Handler(void) WEAK;
void LPUART1_IRQHandler(void) WEAK;

typedef void (*vector_t)(void);
__attribute__((section(".isr_vector"), used)) const vector_t vectors[16 + 95] = {
    (vector_t)&_estack, Reset_Handler, NMI_Handler, HardFault_Handler, MemManage_Handler,
    BusFault_Handler, UsageFault_Handler, 0, 0, 0, 0, SVC_Handler, DebugMon_Handler, 0,
    PendSV_Handler, SysTick_Handler,
    [16 + 28] = TIM2_IRQHandler,
    [16 + 40] = IRQ40_Handler,
    [16 + 41] = IRQ41_Handler,
    [16 + 42] = IRQ42_Handler,
    [16 + 54] = TIM6_IRQHandler,
    [16 + 70] = LPUART1_IRQHandler,
};

void tp_exit(uint32_t code) {
    register uint32_t r0 __asm__("r0") = 0x18;                        /* SYS_EXIT */
    register uint32_t r1 __asm__("r1") = code ? code : 0x20026u;      /* ADP_Stopped_ApplicationExit */
    __asm__ volatile("bkpt 0xAB" : : "r"(r0), "r"(r1) : "memory");
    for (;;) { }
}

void Reset_Handler(void) {
    uint32_t *src = &_sidata, *dst = &_sdata;
    while (dst < &_edata) *dst++ = *src++;
    for (dst = &_sbss; dst < &_ebss;) *dst++ = 0;
    tp_exit((uint32_t)main());
}
