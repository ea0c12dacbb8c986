/* Clock bring-up to 120 MHz, following RM0432 Rev 9:
 *  - 5.1.8 (dynamic voltage scaling): going above 80 MHz needs range 1 boost mode; "Range 1 normal
 *    mode to Range 1 boost mode": 1. divide the system clock by 2 with the AHB prescaler before
 *    switching to the higher frequency, 2. clear PWR_CR5.R1MODE, 3. set the flash wait states for the
 *    target frequency, 4. configure and switch to the new system clock, 5. wait at least 1 us, then set
 *    the AHB prescaler for the target HCLK.
 *  - 3.3.3 (read access latency): 5 wait states for 100 < HCLK <= 120 MHz in range 1; check that the
 *    new LATENCY value was taken by reading FLASH_ACR back before raising the clock.
 *  - 6.2.5 (PLL): configure while the PLL is off, PLLON then wait for PLLRDY; f(VCO) = 4 MHz x 60 =
 *    240 MHz (within 64..344 MHz), f(PLLCLK) = VCO / PLLR(2) = 120 MHz.
 *  - 6.2.7 (clock switch): CFGR.SW = PLL, wait until SWS reports PLL.
 * APB1/APB2 prescalers stay at their reset value 1, so PCLK1 = PCLK2 = 120 MHz. */
#include "clock.h"

#include "stm32l4_regs.h"

#define MSI_RANGE_4MHZ 6u        /* MSIRANGE 6 = 4 MHz [RM0432 6.4.1] */
#define PLL_M 1u                 /* PLLM = 0 -> /1 */
#define PLL_N (2u * TP_HCLK_HZ / (BOARD_MSI_RESET_HZ / PLL_M))
#define PLL_R_DIV2 0u            /* PLLR = 00 -> /2 */
#define FLASH_LATENCY_120MHZ 5u

_Static_assert(BOARD_MSI_RESET_HZ == 4000000u, "PLL settings assume MSI at 4 MHz");
_Static_assert(PLL_N == 60u, "PLLN for 120 MHz from MSI 4 MHz");
_Static_assert(TP_HCLK_HZ <= BOARD_MAX_HCLK_HZ, "HCLK above the part's maximum");

static void delay_loops(uint32_t n) {
    for (volatile uint32_t i = 0; i < n; i++) {
    }
}

void clock_init(void) {
    /* PWR registers need the PWR interface clock [RM0432 6.4.19]; read back to let the enable settle. */
    PWR_EN_REG |= 1u << PWR_EN_BIT;
    (void)PWR_EN_REG;

    /* Voltage range 1 (the reset value) and wait until the regulator reports it is ready. */
    PWR_CR1 = (PWR_CR1 & ~PWR_CR1_VOS_Msk) | PWR_CR1_VOS_RANGE1;
    while (PWR_SR2 & PWR_SR2_VOSF) {
    }

    /* MSI at 4 MHz, selected by RCC_CR.MSIRANGE (allowed while MSI is on and ready). */
    while (!(RCC_CR & RCC_CR_MSIRDY)) {
    }
    RCC_CR = (RCC_CR & ~RCC_CR_MSIRANGE_Msk) | (MSI_RANGE_4MHZ << RCC_CR_MSIRANGE_Pos) | RCC_CR_MSIRGSEL;
    while (!(RCC_CR & RCC_CR_MSIRDY)) {
    }

    /* Boost mode step 1-2: HCLK = SYSCLK / 2 during the switch, then R1MODE = 0. */
    RCC_CFGR = (RCC_CFGR & ~RCC_CFGR_HPRE_Msk) | RCC_CFGR_HPRE_DIV2;
    PWR_CR5 &= ~PWR_CR5_R1MODE;
    while (PWR_SR2 & PWR_SR2_VOSF) {     /* regulator settled in the new mode */
    }

    /* Step 3: wait states for 120 MHz, then ART caches and prefetch. */
    FLASH_ACR = (FLASH_ACR & ~FLASH_ACR_LATENCY_Msk) | FLASH_LATENCY_120MHZ;
    while ((FLASH_ACR & FLASH_ACR_LATENCY_Msk) != FLASH_LATENCY_120MHZ) {
    }
    FLASH_ACR |= FLASH_ACR_ICEN | FLASH_ACR_DCEN | FLASH_ACR_PRFTEN;

    /* Step 4: PLL from MSI, 4 MHz / 1 x 60 / 2 = 120 MHz on PLLCLK (R output), then switch. */
    RCC_CR &= ~RCC_CR_PLLON;
    while (RCC_CR & RCC_CR_PLLRDY) {
    }
    RCC_PLLCFGR = RCC_PLLCFGR_PLLSRC_MSI | ((PLL_M - 1u) << RCC_PLLCFGR_PLLM_Pos) |
                  (PLL_N << RCC_PLLCFGR_PLLN_Pos) | (PLL_R_DIV2 << RCC_PLLCFGR_PLLR_Pos) |
                  RCC_PLLCFGR_PLLREN;
    RCC_CR |= RCC_CR_PLLON;
    while (!(RCC_CR & RCC_CR_PLLRDY)) {
    }
    RCC_CFGR = (RCC_CFGR & ~RCC_CFGR_SW_Msk) | RCC_CFGR_SW_PLL;
    while ((RCC_CFGR & RCC_CFGR_SWS_Msk) != RCC_CFGR_SWS_PLL) {
    }

    /* Step 5: at least 1 us at HCLK = 60 MHz (>= 60 cycles; each loop pass takes several), then /1. */
    delay_loops(100u);
    RCC_CFGR = (RCC_CFGR & ~(RCC_CFGR_HPRE_Msk | RCC_CFGR_PPRE1_Msk | RCC_CFGR_PPRE2_Msk)) | RCC_CFGR_HPRE_DIV1;
}
