"""Memory map from the board description: aliases share the target's host memory, flash and ROM are
read-only to the CPU, the electronic signature is in place [RM0432 2.2.2, 2.4.2, 60.1]."""

from __future__ import annotations

import struct

import pytest
from tinyperf.platforms import load_board
from tinyperf.sim.cpu import create_engine
from tinyperf.sim.memory import Memory
from unicorn import UcError

pytestmark = pytest.mark.unit


@pytest.fixture(scope="module")
def mem():
    uc = create_engine()
    return uc, Memory(uc, load_board("nucleo_l4r5zi"))


def test_sram2_alias_is_the_same_memory(mem):
    uc, _ = mem
    uc.mem_write(0x20030010, b"\x11\x22\x33\x44")
    assert bytes(uc.mem_read(0x10000010, 4)) == b"\x11\x22\x33\x44"
    uc.mem_write(0x1000FFFC, b"abcd")                     # last word of the 64 KB alias
    assert bytes(uc.mem_read(0x2003FFFC, 4)) == b"abcd"


def test_flash_alias_and_read_only(mem):
    uc, m = mem
    m.load(0x08000100, b"\xde\xad\xbe\xef")
    assert bytes(uc.mem_read(0x00000100, 4)) == b"\xde\xad\xbe\xef"
    assert m.find(0x0).region.name == "BOOT" and m.find(0x08000000).region.name == "FLASH"
    assert not m.find(0x08000000).writable and m.find(0x20000000).writable


def test_regions_and_signature(mem):
    uc, m = mem
    assert m.find(0x20000000 + 192 * 1024 - 1).region.name == "SRAM1"
    assert m.find(0x20040000 + 384 * 1024 - 1).region.name == "SRAM3"
    assert m.find(0x200A0000) is None
    assert struct.unpack("<H", bytes(uc.mem_read(0x1FFF75E0, 2)))[0] == 2048     # flash size in KB
    with pytest.raises(UcError):
        uc.mem_read(0x200A0000, 4)
