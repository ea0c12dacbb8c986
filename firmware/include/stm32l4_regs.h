/* Register offsets and bit fields of the STM32L4+ peripherals the firmware uses, written from
 * RM0432 Rev 9 (section numbers next to each block) and the Arm v7-M Architecture Reference Manual
 * (core registers). Base addresses and IRQ numbers are board data: they come from the generated
 * board.h (platforms/<board>.yaml). */
#ifndef TP_STM32L4_REGS_H
#define TP_STM32L4_REGS_H

#include <stdint.h>
#include "board.h"

#define REG32(base, offset) (*(volatile uint32_t *)((uintptr_t)(base) + (offset)))

/* ---- RCC [RM0432 6.4] ---- */
#define RCC_CR        REG32(RCC_BASE, 0x00)
#define RCC_ICSCR     REG32(RCC_BASE, 0x04)
#define RCC_CFGR      REG32(RCC_BASE, 0x08)
#define RCC_PLLCFGR   REG32(RCC_BASE, 0x0C)
#define RCC_AHB1ENR   REG32(RCC_BASE, 0x48)
#define RCC_AHB2ENR   REG32(RCC_BASE, 0x4C)
#define RCC_AHB3ENR   REG32(RCC_BASE, 0x50)
#define RCC_APB1ENR1  REG32(RCC_BASE, 0x58)
#define RCC_APB1ENR2  REG32(RCC_BASE, 0x5C)
#define RCC_APB2ENR   REG32(RCC_BASE, 0x60)
#define RCC_CCIPR     REG32(RCC_BASE, 0x88)

#define RCC_CR_MSION        (1u << 0)
#define RCC_CR_MSIRDY       (1u << 1)
#define RCC_CR_MSIRGSEL     (1u << 3)
#define RCC_CR_MSIRANGE_Pos 4u
#define RCC_CR_MSIRANGE_Msk (0xFu << 4)
#define RCC_CR_HSION        (1u << 8)
#define RCC_CR_HSIRDY       (1u << 10)
#define RCC_CR_PLLON        (1u << 24)
#define RCC_CR_PLLRDY       (1u << 25)

#define RCC_CFGR_SW_Msk     (3u << 0)
#define RCC_CFGR_SW_PLL     (3u << 0)
#define RCC_CFGR_SWS_Msk    (3u << 2)
#define RCC_CFGR_SWS_PLL    (3u << 2)
#define RCC_CFGR_HPRE_Msk   (0xFu << 4)
#define RCC_CFGR_HPRE_DIV1  (0x0u << 4)
#define RCC_CFGR_HPRE_DIV2  (0x8u << 4)
#define RCC_CFGR_PPRE1_Msk  (7u << 8)
#define RCC_CFGR_PPRE2_Msk  (7u << 11)

#define RCC_PLLCFGR_PLLSRC_MSI (1u << 0)      /* PLLSRC[1:0] = 01: MSI */
#define RCC_PLLCFGR_PLLM_Pos   4u             /* PLLM[3:0]: divide by PLLM+1 */
#define RCC_PLLCFGR_PLLN_Pos   8u             /* PLLN[6:0]: multiply by PLLN (8..127) */
#define RCC_PLLCFGR_PLLREN     (1u << 24)
#define RCC_PLLCFGR_PLLR_Pos   25u            /* PLLR[1:0]: 00 /2, 01 /4, 10 /6, 11 /8 */

#define RCC_CCIPR_USART3SEL_Msk  (3u << 4)    /* 00: PCLK1 */
#define RCC_CCIPR_LPUART1SEL_Msk (3u << 10)   /* 00: PCLK1 */

/* ---- PWR [RM0432 5.4] ---- */
#define PWR_CR1   REG32(PWR_BASE, 0x00)
#define PWR_CR2   REG32(PWR_BASE, 0x04)
#define PWR_SR2   REG32(PWR_BASE, 0x14)
#define PWR_CR5   REG32(PWR_BASE, 0x80)

#define PWR_CR1_VOS_Msk    (3u << 9)
#define PWR_CR1_VOS_RANGE1 (1u << 9)
#define PWR_CR2_IOSV       (1u << 9)          /* VDDIO2 independent I/O supply valid */
#define PWR_SR2_VOSF       (1u << 10)
#define PWR_CR5_R1MODE     (1u << 8)          /* 0: range 1 boost mode (needed above 80 MHz) */

/* ---- FLASH interface [RM0432 3.7] ---- */
#define FLASH_ACR REG32(FLASH_R_BASE, 0x00)
#define FLASH_ACR_LATENCY_Msk 0xFu
#define FLASH_ACR_PRFTEN (1u << 8)
#define FLASH_ACR_ICEN   (1u << 9)
#define FLASH_ACR_DCEN   (1u << 10)

/* ---- GPIO [RM0432 8.5] ---- */
#define GPIO_MODER(base)   REG32(base, 0x00)
#define GPIO_OTYPER(base)  REG32(base, 0x04)
#define GPIO_OSPEEDR(base) REG32(base, 0x08)
#define GPIO_PUPDR(base)   REG32(base, 0x0C)
#define GPIO_IDR(base)     REG32(base, 0x10)
#define GPIO_ODR(base)     REG32(base, 0x14)
#define GPIO_BSRR(base)    REG32(base, 0x18)
#define GPIO_AFRL(base)    REG32(base, 0x20)
#define GPIO_AFRH(base)    REG32(base, 0x24)
#define GPIO_BRR(base)     REG32(base, 0x28)
#define GPIO_MODE_INPUT  0u
#define GPIO_MODE_OUTPUT 1u
#define GPIO_MODE_AF     2u

/* ---- USART / LPUART [RM0432 50.8, 51.7] (same offsets for the registers used here) ---- */
#define UART_CR1(base)   REG32(base, 0x00)
#define UART_CR2(base)   REG32(base, 0x04)
#define UART_CR3(base)   REG32(base, 0x08)
#define UART_BRR(base)   REG32(base, 0x0C)
#define UART_RQR(base)   REG32(base, 0x18)
#define UART_ISR(base)   REG32(base, 0x1C)
#define UART_ICR(base)   REG32(base, 0x20)
#define UART_RDR(base)   REG32(base, 0x24)
#define UART_TDR(base)   REG32(base, 0x28)
#define UART_PRESC(base) REG32(base, 0x2C)

#define UART_CR1_UE     (1u << 0)
#define UART_CR1_RE     (1u << 2)
#define UART_CR1_TE     (1u << 3)
#define UART_CR1_RXNEIE (1u << 5)
#define UART_CR1_TXEIE  (1u << 7)
#define UART_ISR_PE     (1u << 0)
#define UART_ISR_FE     (1u << 1)
#define UART_ISR_NE     (1u << 2)
#define UART_ISR_ORE    (1u << 3)
#define UART_ISR_RXNE   (1u << 5)
#define UART_ISR_TC     (1u << 6)
#define UART_ISR_TXE    (1u << 7)
#define UART_ISR_TEACK  (1u << 21)
#define UART_ISR_REACK  (1u << 22)
#define UART_ICR_PECF   (1u << 0)
#define UART_ICR_FECF   (1u << 1)
#define UART_ICR_NECF   (1u << 2)
#define UART_ICR_ORECF  (1u << 3)

/* ---- General-purpose timers TIM2/TIM5 [RM0432 38.4] ---- */
#define TIM_CR1(base)  REG32(base, 0x00)
#define TIM_DIER(base) REG32(base, 0x0C)
#define TIM_SR(base)   REG32(base, 0x10)
#define TIM_EGR(base)  REG32(base, 0x14)
#define TIM_CNT(base)  REG32(base, 0x24)
#define TIM_PSC(base)  REG32(base, 0x28)
#define TIM_ARR(base)  REG32(base, 0x2C)
#define TIM_CR1_CEN (1u << 0)
#define TIM_EGR_UG  (1u << 0)

/* ---- Cortex-M4 system control space [ARMv7-M ARM B3.2, B3.4; Cortex-M4 TRM 4.1] ---- */
#define SCB_ICSR   REG32(SCS_BASE, 0xD04)
#define SCB_VTOR   REG32(SCS_BASE, 0xD08)
#define SCB_AIRCR  REG32(SCS_BASE, 0xD0C)
#define SCB_SHCSR  REG32(SCS_BASE, 0xD24)
#define SCB_CFSR   REG32(SCS_BASE, 0xD28)
#define SCB_HFSR   REG32(SCS_BASE, 0xD2C)
#define SCB_MMFAR  REG32(SCS_BASE, 0xD34)
#define SCB_BFAR   REG32(SCS_BASE, 0xD38)
#define SCB_CPACR  REG32(SCS_BASE, 0xD88)
#define NVIC_ISER(n) REG32(SCS_BASE, 0x100 + 4u * (n))
#define NVIC_ICER(n) REG32(SCS_BASE, 0x180 + 4u * (n))
#define NVIC_IPR_BYTE(irq) (*(volatile uint8_t *)((uintptr_t)SCS_BASE + 0x400u + (irq)))
#define SCB_CPACR_CP10_CP11_FULL (0xFu << 20)

static inline void nvic_enable_irq(unsigned irq, unsigned priority) {
    NVIC_IPR_BYTE(irq) = (uint8_t)(priority << (8u - BOARD_NVIC_PRIO_BITS));
    NVIC_ISER(irq >> 5) = 1u << (irq & 31u);
}

#endif
