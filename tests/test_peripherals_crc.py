"""CRC unit (RM0432 17): the CRC-32 the vendor runtimes compute, checked against zlib/binascii."""

import binascii
import struct
import zlib

import pytest

from periph_bench import Bench

pytestmark = pytest.mark.unit

CRC = 0x4002_3000
DR, CR, INIT, POL = CRC, CRC + 0x08, CRC + 0x10, CRC + 0x14
DATA = b"tinyperf: 123456789 \x00\xff\x10\x80 MLPerf Tiny"


def test_reset_values():
    b = Bench()
    b.enable("CRC")
    assert (b.read(DR), b.read(CR), b.read(INIT), b.read(POL)) == (0xFFFF_FFFF, 0, 0xFFFF_FFFF, 0x04C1_1DB7)


def test_bytes_with_reflection_equal_zlib():
    b = Bench()
    b.enable("CRC")
    b.write(CR, (1 << 5) | (1 << 7) | 1)                 # REV_IN by byte, REV_OUT, RESET
    for byte in DATA:
        b.write(DR, byte, size=1)
    assert b.read(DR) ^ 0xFFFF_FFFF == zlib.crc32(DATA)


def test_words_with_word_reflection_equal_zlib():
    b = Bench()
    b.enable("CRC")
    data = DATA[:40]
    b.write(CR, (3 << 5) | (1 << 7) | 1)                 # REV_IN by word
    for (word,) in struct.iter_unpack("<I", data):
        b.write(DR, word)
    assert b.read(DR) ^ 0xFFFF_FFFF == binascii.crc32(data)


def test_default_mode_is_mpeg2_crc():
    """No reflection, INIT 0xFFFFFFFF, words MSB first: CRC-32/MPEG-2 ("123456789" -> 0x0376E6E7)."""
    b = Bench()
    b.enable("CRC")
    b.write(CR, 1)
    for byte in b"123456789":
        b.write(DR, byte, size=1)
    assert b.read(DR) == 0x0376_E6E7


def test_crc16_polysize():
    """POLYSIZE 16, POL 0x1021, INIT 0xFFFF: CRC-16/CCITT, "123456789" -> 0x29B1 (binascii.crc_hqx)."""
    b = Bench()
    b.enable("CRC")
    b.write(POL, 0x1021)
    b.write(INIT, 0xFFFF)
    b.write(CR, (1 << 3) | 1)
    for byte in b"123456789":
        b.write(DR, byte, size=1)
    assert b.read(DR) == binascii.crc_hqx(b"123456789", 0xFFFF) == 0x29B1
