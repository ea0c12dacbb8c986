/* A two-task round-robin scheduler in the style of FreeRTOS's Cortex-M4F port: tasks run in Thread mode
 * on the process stack (PSP); SysTick pends PendSV, whose handler saves r4-r11, EXC_RETURN and (when
 * EXC_RETURN bit 4 is 0) s16-s31 on the task's stack and restores the other task's; an SVC starts the
 * first task. Each task keeps a float in an FP register across switches. [ARMv7-M B1.4.1, B1.5.6-8] */
#include "testfw.h"
#define N 3000u
#define STACK_WORDS 256
static uint32_t stack_a[STACK_WORDS] __attribute__((aligned(8)));
static uint32_t stack_b[STACK_WORDS] __attribute__((aligned(8)));
uint32_t task_sp[2];
uint32_t cur_idx;
volatile uint32_t cnt_a, cnt_b, switches, pendsv_exc_return;
volatile float res_a, res_b;

__attribute__((noreturn)) void task_a(void) {
    float f = 0.0f;
    for (;;) {
        f += 1.0f;
        cnt_a++;
        if (cnt_a >= N && cnt_b >= N) { res_a = f; tp_exit(0); }
    }
}
__attribute__((noreturn)) void task_b(void) {
    float g = 0.0f;
    for (;;) { g += 0.25f; cnt_b++; res_b = g; }
}

void SysTick_Handler(void) { switches++; SCB_ICSR = 1u << 28; }   /* PENDSVSET */

__attribute__((naked)) void PendSV_Handler(void) {
    __asm__ volatile(
        "mrs r0, psp\n"
        "isb\n"
        "ldr r3, =pendsv_exc_return\n"
        "str lr, [r3]\n"
        "tst lr, #0x10\n"
        "it eq\n"
        "vstmdbeq r0!, {s16-s31}\n"
        "stmdb r0!, {r4-r11, lr}\n"
        "ldr r1, =cur_idx\n"
        "ldr r2, [r1]\n"
        "ldr r3, =task_sp\n"
        "str r0, [r3, r2, lsl #2]\n"
        "eor r2, r2, #1\n"
        "str r2, [r1]\n"
        "ldr r0, [r3, r2, lsl #2]\n"
        "ldmia r0!, {r4-r11, lr}\n"
        "tst lr, #0x10\n"
        "it eq\n"
        "vldmiaeq r0!, {s16-s31}\n"
        "msr psp, r0\n"
        "isb\n"
        "bx lr\n");
}

__attribute__((naked)) void SVC_Handler(void) {       /* start task 0 */
    __asm__ volatile(
        "ldr r3, =task_sp\n"
        "ldr r0, [r3]\n"
        "ldmia r0!, {r4-r11, lr}\n"
        "msr psp, r0\n"
        "isb\n"
        "bx lr\n");
}

static uint32_t init_stack(uint32_t *stack, void (*entry)(void)) {
    uint32_t *sp = stack + STACK_WORDS;
    *--sp = 0x01000000u;                 /* xPSR: Thumb */
    *--sp = (uint32_t)entry & ~1u;       /* PC */
    *--sp = 0;                           /* LR */
    for (int i = 0; i < 5; i++) *--sp = 0;   /* r12, r3, r2, r1, r0 */
    *--sp = 0xFFFFFFFDu;                 /* EXC_RETURN: Thread, PSP, basic frame */
    for (int i = 0; i < 8; i++) *--sp = 0;   /* r11..r4 */
    return (uint32_t)sp;
}

int main(void) {
    enable_fpu();
    task_sp[0] = init_stack(stack_a, task_a);
    task_sp[1] = init_stack(stack_b, task_b);
    SCB_SHPR(14) = 0xF0;                 /* PendSV lowest */
    SCB_SHPR(15) = 0xF0;                 /* SysTick lowest */
    SYST_RVR = 2000 - 1; SYST_CVR = 0; SYST_CSR = 7;
    __asm__ volatile("svc #0");
    for (;;) { }
}
