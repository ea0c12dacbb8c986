/* Register addresses for the simulator's test firmwares, from the ARMv7-M ARM (SCS, B3.2-B3.4; DWT C1.8)
 * and RM0432 (RCC 6.4, PWR 5.4, FLASH 3.7, TIM6 31.4, TIM2 29.4, LPUART 51.7). */
#ifndef TESTFW_H
#define TESTFW_H
#include <stdint.h>
#define REG(a) (*(volatile uint32_t *)(a))
#define REG8(a) (*(volatile uint8_t *)(a))
/* SCS */
#define SYST_CSR   REG(0xE000E010)
#define SYST_RVR   REG(0xE000E014)
#define SYST_CVR   REG(0xE000E018)
#define NVIC_ISER(n) REG(0xE000E100 + 4 * (n))
#define NVIC_ICER(n) REG(0xE000E180 + 4 * (n))
#define NVIC_ISPR(n) REG(0xE000E200 + 4 * (n))
#define NVIC_ICPR(n) REG(0xE000E280 + 4 * (n))
#define NVIC_IABR(n) REG(0xE000E300 + 4 * (n))
#define NVIC_IPR(n)  REG8(0xE000E400 + (n))
#define NVIC_STIR  REG(0xE000EF00)
#define SCB_CPUID  REG(0xE000ED00)
#define SCB_ICSR   REG(0xE000ED04)
#define SCB_VTOR   REG(0xE000ED08)
#define SCB_AIRCR  REG(0xE000ED0C)
#define SCB_SCR    REG(0xE000ED10)
#define SCB_CCR    REG(0xE000ED14)
#define SCB_SHPR(n) REG8(0xE000ED18 + (n) - 4)   /* n = exception number 4..15 */
#define SCB_SHCSR  REG(0xE000ED24)
#define SCB_CFSR   REG(0xE000ED28)
#define SCB_HFSR   REG(0xE000ED2C)
#define SCB_MMFAR  REG(0xE000ED34)
#define SCB_BFAR   REG(0xE000ED38)
#define SCB_CPACR  REG(0xE000ED88)
#define DEMCR      REG(0xE000EDFC)
#define DWT_CTRL   REG(0xE0001000)
#define DWT_CYCCNT REG(0xE0001004)
/* STM32L4R5 */
#define RCC_CR       REG(0x40021000)
#define RCC_CFGR     REG(0x40021008)
#define RCC_PLLCFGR  REG(0x4002100C)
#define RCC_AHB2ENR  REG(0x4002104C)
#define RCC_APB1ENR1 REG(0x40021058)
#define RCC_APB1ENR2 REG(0x4002105C)
#define RCC_CCIPR    REG(0x40021088)
#define PWR_CR1      REG(0x40007000)
#define PWR_CR2      REG(0x40007004)
#define PWR_SR2      REG(0x40007014)
#define PWR_CR5      REG(0x40007080)
#define FLASH_ACR    REG(0x40022000)
#define TIM_CR1(b)   REG((b) + 0x00)
#define TIM_DIER(b)  REG((b) + 0x0C)
#define TIM_SR(b)    REG((b) + 0x10)
#define TIM_EGR(b)   REG((b) + 0x14)
#define TIM_CNT(b)   REG((b) + 0x24)
#define TIM_PSC(b)   REG((b) + 0x28)
#define TIM_ARR(b)   REG((b) + 0x2C)
#define TIM2_BASE 0x40000000u
#define TIM6_BASE 0x40001000u
#define LPUART1_BASE 0x40008000u
#define GPIOG_BASE 0x48001800u
#define MAILBOX (*(volatile uint32_t *)0x20030000)   /* SRAM2: set by the test before reset */

static inline void enable_fpu(void) {
    SCB_CPACR |= 0xFu << 20;            /* CP10, CP11 full access */
    __asm__ volatile("dsb\n isb" ::: "memory");
}
static inline void cpsid(void) { __asm__ volatile("cpsid i" ::: "memory"); }
static inline void cpsie(void) { __asm__ volatile("cpsie i\n isb" ::: "memory"); }
static inline void set_basepri(uint32_t v) { __asm__ volatile("msr basepri, %0\n isb" : : "r"(v) : "memory"); }
void tp_exit(uint32_t code);
#endif
