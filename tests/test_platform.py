"""The board description loads, validates, and holds the numbers RM0432 / UM2179 give for the NUCLEO-L4R5ZI."""

import textwrap

import pytest

from tinyperf.errors import PlatformError
from tinyperf.platforms import load_board, load_board_file

pytestmark = pytest.mark.unit


def test_memory_map_matches_rm0432():
    board = load_board("nucleo_l4r5zi")
    expected = {  # RM0432 section 2.2.2 memory map, 2 MB / 640 KB part
        "FLASH": (0x0800_0000, 2 * 1024 * 1024),
        "SRAM1": (0x2000_0000, 192 * 1024),
        "SRAM2": (0x2003_0000, 64 * 1024),
        "SRAM3": (0x2004_0000, 384 * 1024),
        "BOOT": (0x0000_0000, 2 * 1024 * 1024),
        "SRAM2_ALIAS": (0x1000_0000, 64 * 1024),
    }
    for name, (base, size) in expected.items():
        region = board.region(name)
        assert (region.base, region.size) == (base, size), name
    assert board.region("BOOT").target == "FLASH"
    assert board.region("SRAM2_ALIAS").target == "SRAM2"
    total_sram = sum(r.size for r in board.memory if r.kind == "sram")
    assert total_sram == 640 * 1024


def test_console_uart_and_irqs():
    board = load_board()
    assert board.console["uart"] == "LPUART1"
    assert (board.console["tx_pin"], board.console["rx_pin"]) == ("PG7", "PG8")
    lpuart = board.peripheral("LPUART1")
    assert lpuart.base == 0x4000_8000 and lpuart.irqs["global"] == 70   # RM0432 Table 58
    assert board.peripheral("USART3").irqs["global"] == 39
    assert board.peripheral("RCC").base == 0x4002_1000
    assert board.clocks["msi"]["reset_hz"] == 4_000_000


def test_unknown_board_names_the_known_ones():
    with pytest.raises(PlatformError, match="nucleo_l4r5zi"):
        load_board("no_such_board")


@pytest.mark.parametrize("bad, message", [
    ("memory: [{name: A, kind: sram, base: 0, size: 16}, {name: B, kind: sram, base: 8, size: 16}]", "overlap"),
    ("memory: [{name: A, kind: alias, base: 0, size: 16, target: NOPE}]", "unknown region"),
    ("memory: [{name: A, kind: dram, base: 0, size: 16}]", "kind 'dram'"),
    ("memory: [{name: A, kind: sram, base: '0x0', size: 16}]", "expected an integer"),
])
def test_invalid_descriptions_are_rejected(tmp_path, bad, message):
    path = tmp_path / "bad.yaml"
    path.write_text(textwrap.dedent(f"""\
        name: bad
        mcu: X
        cpu: {{}}
        {bad}
        peripherals: []
        clocks: {{}}
        console: {{}}
        """))
    with pytest.raises(PlatformError, match=message):
        load_board_file(path)
