"""CRC calculation unit of the STM32L4R5 (RM0432 Rev 9 section 17, registers 17.4): a real CRC with a
programmable polynomial (POL, reset 0x04C1_1DB7, the Ethernet CRC-32), size (CR.POLYSIZE: 32, 16, 8 or
7 bits), initial value (INIT, reset 0xFFFF_FFFF), input bit reversal by byte, half-word or word
(CR.REV_IN) and output reversal (CR.REV_OUT). Writing DR with a byte, half-word or word access feeds 8,
16 or 32 bits, most significant bit first after the input reversal (17.3). CR.RESET (self-clearing)
loads INIT into the CRC; writing INIT loads it too.

With INIT = 0xFFFF_FFFF, REV_IN = 01 (by byte) or 11 (by word, little-endian words), REV_OUT = 1 and a
final XOR with 0xFFFF_FFFF, the result equals zlib.crc32 of the bytes written.
"""

from __future__ import annotations

from .base import Peripheral, Reg, register_model

POLY_BITS = {0: 32, 1: 16, 2: 8, 3: 7}


def reverse_bits(value: int, width: int) -> int:
    """`value` with its lowest `width` bits in reverse order."""
    return int(format(value & ((1 << width) - 1), f"0{width}b")[::-1], 2)


def reverse_in_groups(value: int, width: int, group: int) -> int:
    """Reverse the bits of each `group`-bit chunk of a `width`-bit value."""
    out = 0
    for shift in range(0, width, group):
        out |= reverse_bits(value >> shift, group) << shift
    return out


@register_model("crc")
class Crc(Peripheral):
    TIME_INDEPENDENT = True     # register values change only through accesses
    REGISTERS = (
        Reg("DR", 0x00, reset=0xFFFF_FFFF),      # 17.4.1
        Reg("IDR", 0x04),                        # 17.4.2
        Reg("CR", 0x08, writable=0x0000_00F9),   # 17.4.3
        Reg("INIT", 0x10, reset=0xFFFF_FFFF),    # 17.4.4
        Reg("POL", 0x14, reset=0x04C1_1DB7),     # 17.4.5
    )

    def __init__(self, spec, ctx):
        self.crc = 0xFFFF_FFFF
        super().__init__(spec, ctx)
        self.on_read["DR"] = self._read_dr
        self.on_write.update({"CR": self._write_cr, "INIT": self._write_init})

    def reset(self) -> None:
        super().reset()
        self.crc = 0xFFFF_FFFF

    @property
    def poly_bits(self) -> int:
        return POLY_BITS[(self["CR"] >> 3) & 3]

    def _read_dr(self) -> int:
        bits = self.poly_bits
        value = self.crc & ((1 << bits) - 1)
        return reverse_bits(value, bits) if self["CR"] & 0x80 else value

    def _write_cr(self, value: int, old: int) -> int:
        if value & 1:
            self.crc = self["INIT"] & ((1 << self.poly_bits) - 1)
        return value & 0xF8

    def _write_init(self, value: int, old: int) -> int:
        self.crc = value & ((1 << self.poly_bits) - 1)
        return value

    def write(self, offset: int, size: int, value: int) -> None:
        if offset == 0x00:        # DR: feed data of the access width (a narrow access is not merged)
            if self._gated(offset, "write"):
                return
            self.feed(value & ((1 << (8 * size)) - 1), 8 * size)
            return
        super().write(offset, size, value)

    def feed(self, data: int, width: int) -> None:
        """Process `width` (8, 16, 32) bits of `data` as a DR write of that width does."""
        rev_in = (self["CR"] >> 5) & 3
        if rev_in:
            data = reverse_in_groups(data, width, min(width, (8, 16, 32)[rev_in - 1]))
        bits = self.poly_bits
        mask = (1 << bits) - 1
        poly = self["POL"] & mask
        crc = self.crc
        top = bits - 1
        for i in range(width - 1, -1, -1):
            feedback = ((data >> i) ^ (crc >> top)) & 1
            crc = (crc << 1) & mask
            if feedback:
                crc ^= poly
        self.crc = crc
