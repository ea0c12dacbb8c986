"""Per-layer cycle breakdown of one inference on the simulated board.

The model compiler emits one noinline function per layer, `tp_layer_<NN>_<op>` (COMPILER notes). A code hook
on the first instruction of each of them records the board's cycle count at every layer entry during
`infer 2 0`; a layer's cycles are the difference to the next layer's entry, and the last layer's runs to the
first layer's entry of the second inference (so it also carries the per-inference loop overhead, a few
hundred cycles). Resolution: counts are read at block granularity of the cycle model, so each figure is
exact to within one basic block.
"""

from __future__ import annotations

import re
from pathlib import Path

from tinyperf.errors import RunnerError
from tinyperf.runner.protocol import DutClient

LAYER_RE = re.compile(r"^tp_layer_(\d+)_\w+$")


def layer_symbols(elf: str | Path) -> dict[int, str]:
    """Entry address (Thumb bit cleared) -> symbol name of every tp_layer_* function in the ELF."""
    from elftools.elf.elffile import ELFFile

    out = {}
    with open(elf, "rb") as f:
        symtab = ELFFile(f).get_section_by_name(".symtab")
        if symtab is None:
            raise RunnerError(f"{elf} has no symbol table; build without stripping to profile layers")
        for s in symtab.iter_symbols():
            if s["st_info"]["type"] == "STT_FUNC" and LAYER_RE.match(s.name):
                out[s["st_value"] & ~1] = s.name
    return out


def layer_cycles(board, client: DutClient, elf: str | Path, data: bytes) -> dict[str, int]:
    """Cycles per layer for one inference of `data` (see module docstring); ordered by layer index."""
    from unicorn import UC_HOOK_CODE

    symbols = layer_symbols(elf)
    if not symbols:
        raise RunnerError(f"{elf} has no tp_layer_* functions (not built by the tinyperf model compiler)")
    entries: list[tuple[str, int]] = []

    def on_entry(uc, address, size, user):
        entries.append((symbols[address], board.cycles))

    handles = [board.uc.hook_add(UC_HOOK_CODE, on_entry, begin=a, end=a) for a in symbols]
    board.uc.ctl_flush_tb()  # blocks translated before the hooks existed would not call them
    try:
        client.load(data)
        client.infer(2, 0, timeout_s=60.0)
    finally:
        for h in handles:
            board.uc.hook_del(h)
        board.uc.ctl_flush_tb()
    n = len(symbols)
    if len(entries) < n + 1:
        raise RunnerError(f"profiling saw {len(entries)} layer entries for 2 inferences of {n} layers")
    first = entries[: n + 1]
    order = sorted(range(n), key=lambda i: int(LAYER_RE.match(first[i][0]).group(1)))
    out = {first[i][0]: first[i + 1][1] - first[i][1] for i in order}
    return out
