"""Image loading (ELF, Intel HEX, .bin) and the errors bad images give; board assembly errors; the
unmodelled-peripheral policy (--strict)."""

from __future__ import annotations

import pytest
from sim_support import FW_DIR, boot, build
from tinyperf.errors import BusFault, LoaderError, PlatformError
from tinyperf.platforms import load_board, load_board_file
from tinyperf.sim.loader import load_image

BOARD = load_board("nucleo_l4r5zi")


@pytest.fixture(scope="module")
def elf(tmp_path_factory):
    return build("fw_fault", tmp_path_factory.mktemp("simfw_loader"))


@pytest.mark.sim
def test_elf_segments_and_symbols(elf):
    image = load_image(elf, BOARD)
    assert image.format == "elf"
    assert image.segments[0].address == 0x08000000           # vector table first, at its load address
    assert image.symbols.lookup(image.symbols.address_of("main")) == "main"
    assert image.symbols.lookup(image.symbols.address_of("main") + 2) == "main+0x2"


@pytest.mark.sim
def test_hex_and_bin_hold_the_same_bytes(elf):
    e, h, b = (load_image(elf.with_suffix(s), BOARD) for s in (".elf", ".hex", ".bin"))
    flat = lambda img: {seg.address + i: v for seg in img.segments for i, v in enumerate(seg.data)}
    assert flat(h) == flat(e)
    assert b.segments[0].address == 0x08000000
    assert bytes(b.segments[0].data[:8]) == bytes(e.segments[0].data[:8])


@pytest.mark.sim
def test_truncated_elf(elf, tmp_path):
    bad = tmp_path / "cut.elf"
    bad.write_bytes(elf.read_bytes()[:700])
    with pytest.raises(LoaderError, match="cut.elf"):
        load_image(bad, BOARD)


def test_not_an_elf(tmp_path):
    bad = tmp_path / "junk.elf"
    bad.write_bytes(b"\x7fELF" + bytes(range(256)) * 4)
    with pytest.raises(LoaderError, match="corrupt ELF"):
        load_image(bad, BOARD)
    other = tmp_path / "text.elf"
    other.write_text("hello")
    with pytest.raises(LoaderError, match="not an ELF"):
        load_image(other, BOARD)


@pytest.mark.sim
def test_truncated_hex(elf, tmp_path):
    lines = elf.with_suffix(".hex").read_text().splitlines()
    bad = tmp_path / "cut.hex"
    bad.write_text("\n".join(lines[: len(lines) // 2]) + "\n")
    with pytest.raises(LoaderError, match="end-of-file record"):
        load_image(bad, BOARD)
    midline = tmp_path / "midline.hex"
    midline.write_text("\n".join(lines[:3] + [lines[3][:15]] + lines[-1:]) + "\n")
    with pytest.raises(LoaderError, match="corrupt Intel HEX"):
        load_image(midline, BOARD)


def test_bin_larger_than_flash(tmp_path):
    big = tmp_path / "big.bin"
    big.write_bytes(b"\0" * (2 * 1024 * 1024 + 4))
    with pytest.raises(LoaderError, match="larger than the 2048 KB flash"):
        load_image(big, BOARD)


def test_empty_images(tmp_path):
    empty = tmp_path / "empty.bin"
    empty.write_bytes(b"")
    with pytest.raises(LoaderError, match="no loadable bytes"):
        load_image(empty, BOARD)
    missing = tmp_path / "missing.elf"
    with pytest.raises(LoaderError, match="not found"):
        load_image(missing, BOARD)


@pytest.mark.sim
def test_segment_outside_memory(tmp_path):
    from tinyperf.firmware.toolchain import find_toolchain

    elf = tmp_path / "far.elf"
    find_toolchain().link([FW_DIR / "startup.c", FW_DIR / "fw_fault.c"], elf, linker_script=FW_DIR / "far.ld",
                          include_dirs=[FW_DIR])
    with pytest.raises(LoaderError, match="0x30000000.*outside every memory region"):
        load_image(elf, BOARD)


def test_unknown_peripheral_model(tmp_path):
    text = BOARD.source.read_text().replace("model: crc,", "model: nosuch,")
    path = tmp_path / "bad_board.yaml"
    path.write_text(text)
    from tinyperf.sim.board import SimBoard

    with pytest.raises(PlatformError, match="nosuch"):
        SimBoard(load_board_file(path))


@pytest.mark.sim
def test_unmodelled_peripheral_reads_zero_or_strict_error(elf, caplog):
    board = boot(elf, 7)
    with caplog.at_level("WARNING", logger="tinyperf.sim.bus"):
        assert board.run(max_seconds=0.1) == "exit"
    assert board._exit_code == 0
    assert any("0x40005400" in r.getMessage() and "PC=0x08" in r.getMessage() for r in caplog.records)
    strict = boot(elf, 7, strict=True)
    with pytest.raises(BusFault, match="0x40005400"):
        strict.run(max_seconds=0.1)
