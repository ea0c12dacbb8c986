"""DBGMCU of the STM32L4R5 (RM0432 Rev 9 section 57.2, "DBGMCU registers"): IDCODE (57.2.3; value from the
board description's `dbgmcu_idcode`, 0x1007_6470 for the STM32L4R5/S5 revision Z), and the debug
configuration and freeze registers CR, APB1FZR1, APB1FZR2, APB2FZR as storage."""

from __future__ import annotations

from .base import RO, Peripheral, Reg, board_of, register_model


@register_model("dbgmcu")
class Dbgmcu(Peripheral):
    TIME_INDEPENDENT = True     # register values change only through accesses
    def __init__(self, spec, ctx):
        idcode = int(board_of(ctx).raw.get("dbgmcu_idcode", 0))
        self.REGISTERS = (
            Reg("IDCODE", 0x00, reset=idcode, access=RO),
            Reg("CR", 0x04, writable=0x0000_0007),
            Reg("APB1FZR1", 0x08),
            Reg("APB1FZR2", 0x0C),
            Reg("APB2FZR", 0x10),
        )
        super().__init__(spec, ctx)
