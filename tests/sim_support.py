"""Helpers for the simulator tests: build the C test firmwares in tests/firmware/ with the project's cross
toolchain (tinyperf.firmware.toolchain.find_toolchain) and run them on a SimBoard."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from tinyperf.errors import BuildError

FW_DIR = Path(__file__).resolve().parent / "firmware"
MAILBOX = 0x20030000            # SRAM2, not touched by the test startup code


def build(name: str, out_dir: Path, sources: list[str] | None = None, opt: str = "-O2") -> Path:
    """Compile tests/firmware/<name>.c with startup.c into out_dir/<name>/<name>.elf."""
    from tinyperf.firmware.toolchain import find_toolchain

    try:
        tc = find_toolchain()
    except BuildError as e:
        pytest.skip(f"no Cortex-M toolchain: {e}")
    d = out_dir / name
    d.mkdir(parents=True, exist_ok=True)
    elf = d / f"{name}.elf"
    srcs = [FW_DIR / "startup.c", FW_DIR / f"{name}.c"] + [FW_DIR / s for s in (sources or [])]
    tc.link(srcs, elf, linker_script=FW_DIR / "test.ld", include_dirs=[FW_DIR], opt=opt)
    tc.to_bin(elf, elf.with_suffix(".bin"))
    tc.to_hex(elf, elf.with_suffix(".hex"))
    return elf


def boot(elf: Path, mailbox: int = 0, **kwargs):
    """A SimBoard with `elf` loaded, MAILBOX set, reset."""
    from tinyperf.sim import SimBoard

    board = SimBoard.from_image(elf, **kwargs)
    board.memory.load(MAILBOX, struct.pack("<I", mailbox))
    return board


def read_u32(board, symbol: str, count: int = 1) -> tuple[int, ...]:
    address = board.image.symbols.address_of(symbol)
    assert address is not None, f"symbol {symbol} not in the ELF"
    return struct.unpack(f"<{count}I", bytes(board.uc.mem_read(address, 4 * count)))


def read_str(board, symbol: str, size: int = 32) -> str:
    address = board.image.symbols.address_of(symbol)
    return bytes(board.uc.mem_read(address, size)).split(b"\0")[0].decode()
