/* NVIC behaviour: preemption, PRIGROUP, tail-chaining, BASEPRI, PRIMASK, SVCall, PendSV.
 * Interrupts are pended by software (NVIC_STIR / ISPR, ICSR) so no peripheral is involved.
 * `order` logs what ran, in order; MAILBOX selects the scenario. */
#include "testfw.h"
volatile char order[32];
volatile uint32_t n_order;
volatile uint32_t exc_return[4];
volatile uint32_t ipsr_seen, vectactive_seen, ipsr_thread;
static void mark(char c) { if (n_order < sizeof order - 1) order[n_order++] = c; }
static void sync(void) { __asm__ volatile("dsb\n isb" ::: "memory"); }
static uint32_t get_lr_of_caller(void);

void IRQ40_Handler(void) {
    uint32_t lr;
    __asm__ volatile("mov %0, lr" : "=r"(lr));
    exc_return[0] = lr;
    mark('A');
    if (MAILBOX == 1 || MAILBOX == 3 || MAILBOX == 8) { NVIC_STIR = 41; sync(); }
    mark('a');
}
void IRQ41_Handler(void) {
    uint32_t lr;
    __asm__ volatile("mov %0, lr" : "=r"(lr));
    exc_return[1] = lr;
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr_seen));
    vectactive_seen = SCB_ICSR & 0x1FF;
    mark('B');
}
void SVC_Handler(void) { mark('S'); }
void NMI_Handler(void) { mark('N'); }
static volatile uint32_t tick_n;
void SysTick_Handler(void) {            /* scenario 11: SLEEPONEXIT keeps the core asleep between ticks */
    mark('T');
    if (++tick_n == 5) { SCB_SCR &= ~2u; SYST_CSR = 0; }
}
void PendSV_Handler(void) { mark('P'); }

int main(void) {
    uint32_t mode = MAILBOX;
    NVIC_IPR(40) = 0x80;
    NVIC_IPR(41) = 0x40;
    NVIC_ISER(1) = (1u << (40 - 32)) | (1u << (41 - 32));
    switch (mode) {
    case 1:                     /* preemption: IRQ41 (0x40) preempts IRQ40 (0x80) */
        NVIC_STIR = 40; sync(); break;
    case 2:                     /* tail-chaining: both pending while masked, same priority */
        NVIC_IPR(41) = 0x80;
        cpsid(); NVIC_ISPR(1) = (1u << 9) | (1u << 8); sync(); mark('x'); cpsie(); break;
    case 3:                     /* PRIGROUP 5: group = bits[7:6]; 0x60 and 0x40 share group 0x40 */
        SCB_AIRCR = (0x05FAu << 16) | (5u << 8);
        NVIC_IPR(40) = 0x60;
        NVIC_STIR = 40; sync(); break;
    case 8:                     /* PRIGROUP 0 with the same priorities: 0x40 preempts 0x60 */
        SCB_AIRCR = (0x05FAu << 16) | (0u << 8);
        NVIC_IPR(40) = 0x60;
        NVIC_STIR = 40; sync(); break;
    case 4:                     /* BASEPRI 0x80 masks priority 0x80 but not 0x40 */
        set_basepri(0x80);
        NVIC_STIR = 40; sync(); mark('x');
        NVIC_STIR = 41; sync(); mark('y');
        set_basepri(0); break;
    case 5:                     /* PRIMASK */
        cpsid(); NVIC_STIR = 41; sync(); mark('x'); cpsie(); mark('y'); break;
    case 6:                     /* SVCall */
        __asm__ volatile("svc #0" ::: "memory"); break;
    case 9:                     /* AIRCR.SYSRESETREQ: SRAM2 survives the reset, the second boot marks R */
        if (REG(0x20030004) != 0x5EB007u) {
            REG(0x20030004) = 0x5EB007u;
            SCB_AIRCR = (0x05FAu << 16) | (1u << 2);
            __asm__ volatile("dsb");
            for (;;) { }
        }
        mark('R'); break;
    case 10:                    /* NMI through ICSR.NMIPENDSET */
        SCB_ICSR = 1u << 31; sync(); break;
    case 11:                    /* SCR.SLEEPONEXIT: after WFI, handlers return straight to sleep */
        SCB_SCR |= 2u;
        SYST_RVR = 999; SYST_CVR = 0; SYST_CSR = 7;
        __asm__ volatile("wfi");
        mark('w'); break;
    case 7:                     /* PendSV through ICSR.PENDSVSET */
        SCB_ICSR = 1u << 28; sync(); break;
    }
    mark('m');
    __asm__ volatile("mrs %0, ipsr" : "=r"(ipsr_thread));
    order[n_order] = 0;
    (void)get_lr_of_caller;
    return 0;
}
static uint32_t get_lr_of_caller(void) { return 0; }
