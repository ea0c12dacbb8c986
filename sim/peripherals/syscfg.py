"""SYSCFG, system configuration controller of the STM32L4R5 (RM0432 Rev 9 section 10.2, "SYSCFG
registers"). Modelled: EXTICR1..4 (10.2.3-10.2.6) route GPIO pin x of port A..I (0..8) to EXTI line x
(`exti_port(line)`); the other registers are storage with their reset values (MEMRMP 10.2.1 reads
MEM_MODE = 000, main flash at 0, as with BOOT0 = 0; CFGR1 10.2.2 resets to 0x7C00_0001, FPU interrupts
enabled and firewall disabled)."""

from __future__ import annotations

from .base import Peripheral, Reg, register_model


@register_model("syscfg")
class Syscfg(Peripheral):
    TIME_INDEPENDENT = True     # register values change only through accesses
    REGISTERS = (
        Reg("MEMRMP", 0x00, reset=0x0000_0000, writable=0x0000_0107),
        Reg("CFGR1", 0x04, reset=0x7C00_0001),
        Reg("EXTICR1", 0x08, writable=0x0000_FFFF),
        Reg("EXTICR2", 0x0C, writable=0x0000_FFFF),
        Reg("EXTICR3", 0x10, writable=0x0000_FFFF),
        Reg("EXTICR4", 0x14, writable=0x0000_FFFF),
        Reg("SCSR", 0x18),
        Reg("CFGR2", 0x1C),
        Reg("SWPR", 0x20),
        Reg("SKR", 0x24),
        Reg("SWPR2", 0x28),
    )

    def exti_port(self, line: int) -> int:
        """Port index (0 = A .. 8 = I) whose pin `line` (0..15) drives EXTI line `line`."""
        reg = self[f"EXTICR{line // 4 + 1}"]
        return (reg >> (4 * (line % 4))) & 0xF
