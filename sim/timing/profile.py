"""Cycle budget of a run: cycles by function (ELF symbols) and by instruction class, as tables (text and
CSV) and a PNG chart. `write_profile(board_or_counter, elf_path, out_dir)` is what `tinyperf sim
--profile` calls after a run.

Attribution: every completed block's static cycles (TRM table, per instruction) times its executions go
to the function containing each instruction; its dynamic cycles (flash wait-state stalls, branch refills,
divide iterations) go to the function of the block's first instruction. Cycles the run loop added
(exception entry/return, sleep) are listed under their own names. Energy by function uses the same
attribution (class energies per cycle; dynamic cycles at the stall energy, flash-read energy not split:
the per-function energies are an estimate whose total is close to, not equal to, the counter's).
"""

from __future__ import annotations

import bisect
import csv
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tinyperf.errors import LoaderError

FLASH_ALIAS = (0x0000_0000, 0x0020_0000, 0x0800_0000)   # boot alias of flash -> flash address


@dataclass
class Profile:
    """Cycles by function and by class; `total` equals the counter's cycles at the time of the profile."""

    total: int
    by_function: list[tuple[str, int]] = field(default_factory=list)   # descending
    by_class: list[tuple[str, int]] = field(default_factory=list)      # descending
    instructions: int = 0
    energy_uJ: float = 0.0                                             # counter total
    function_uJ: dict[str, float] = field(default_factory=dict)        # estimate per function

    def table(self, top: int = 30) -> str:
        """Human-readable table: function, cycles, share; then class, cycles, share."""
        lines = [f"total {self.total} cycles, {self.instructions} instructions, {self.energy_uJ:.3f} µJ", "",
                 f"{'function':<40} {'cycles':>14} {'share':>7} {'µJ (est.)':>12}"]
        for name, cyc in self.by_function[:top]:
            lines.append(f"{name[:40]:<40} {cyc:>14} {100.0 * cyc / max(1, self.total):>6.2f}% "
                         f"{self.function_uJ.get(name, 0.0):>12.3f}")
        if len(self.by_function) > top:
            rest = sum(c for _, c in self.by_function[top:])
            lines.append(f"{'(others)':<40} {rest:>14} {100.0 * rest / max(1, self.total):>6.2f}%")
        lines += ["", f"{'class':<40} {'cycles':>14} {'share':>7}"]
        for name, cyc in self.by_class:
            lines.append(f"{name:<40} {cyc:>14} {100.0 * cyc / max(1, self.total):>6.2f}%")
        return "\n".join(lines)


class SymbolTable:
    """Function symbols of an ELF file (pyelftools): address -> name."""

    def __init__(self, elf_path: str | os.PathLike | None):
        self.starts: list[int] = []
        self.entries: list[tuple[int, int, str]] = []
        if elf_path is None:
            return
        from elftools.common.exceptions import ELFError
        from elftools.elf.elffile import ELFFile
        try:
            with open(elf_path, "rb") as fh:
                elf = ELFFile(fh)
                symtab = elf.get_section_by_name(".symtab")
                if symtab is None:
                    return
                for sym in symtab.iter_symbols():
                    if sym["st_info"]["type"] == "STT_FUNC" and sym["st_value"]:
                        self.entries.append((sym["st_value"] & ~1, max(1, sym["st_size"]), sym.name))
        except (OSError, ELFError) as exc:
            raise LoaderError(f"cannot read symbols from {elf_path}: {exc}; pass the firmware's .elf "
                              "(a .bin/.hex has no symbols)") from exc
        self.entries.sort()
        self.starts = [e[0] for e in self.entries]

    def lookup(self, address: int) -> str:
        lo, hi, base = FLASH_ALIAS
        if lo <= address < hi:
            address += base
        i = bisect.bisect_right(self.starts, address) - 1
        if i >= 0:
            start, size, name = self.entries[i]
            if address < start + size:
                return name
        return f"0x{address:08x}"


def _counter_of(obj: Any):
    return getattr(obj, "counter", obj)


def build_profile(board_or_counter: Any, elf_path: str | os.PathLike | None) -> Profile:
    """Aggregate the counter's per-block statistics by function and by instruction class."""
    counter = _counter_of(board_or_counter)
    symbols = SymbolTable(elf_path)
    addr, size, execs, dyn = counter.block_stats()
    em = counter.energy
    by_fn: dict[str, int] = {}
    by_cls: dict[str, int] = {}
    fn_fj: dict[str, float] = {}
    for a, s, e, d in zip(addr.tolist(), size.tolist(), execs.tolist(), dyn.tolist()):
        if not e and not d:
            continue
        blk = counter.block_info(a, s)
        for off, cost, cls in zip(blk.offsets, blk.costs, blk.classes):
            if cost and e:
                name = symbols.lookup(a + off)
                by_fn[name] = by_fn.get(name, 0) + cost * e
                by_cls[cls] = by_cls.get(cls, 0) + cost * e
                fn_fj[name] = fn_fj.get(name, 0.0) + em.class_fj.get(cls, em.class_fj["alu"]) * cost * e
        if d:
            name = symbols.lookup(a)
            by_fn[name] = by_fn.get(name, 0) + d
            fn_fj[name] = fn_fj.get(name, 0.0) + em.stall_fj * d
    dynamic = {"flash wait states (fetch)": counter.stat("fetch_stall"),
               "flash wait states (data)": counter.stat("data_stall"),
               "branch refill": counter.stat("branch_cycles"),
               "divide iterations": counter.stat("div_cycles"),
               "System-bus contention": counter.stat("bus_stall")}
    for name, cyc in dynamic.items():
        if cyc:
            by_cls[name] = cyc
    for kind, cyc in counter.snapshot(classes=False)["added"].items():
        if cyc:
            by_fn[f"[{kind}]"] = by_fn.get(f"[{kind}]", 0) + cyc
            by_cls[f"[{kind}]"] = by_cls.get(f"[{kind}]", 0) + cyc
            fn_fj[f"[{kind}]"] = fn_fj.get(f"[{kind}]", 0.0) + em.added_fj(kind, cyc)
    partial = counter.stat("partial_cycles")
    if partial:
        by_fn["[partial blocks]"] = partial
        by_cls["[partial blocks]"] = partial
    order = lambda d: sorted(d.items(), key=lambda kv: (-kv[1], kv[0]))
    return Profile(total=counter.cycles, by_function=order(by_fn), by_class=order(by_cls),
                   instructions=counter.instructions, energy_uJ=counter.energy_uJ,
                   function_uJ={k: v / 1e9 for k, v in fn_fj.items()})


def _atomic_write(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
        fh.write(text)
    os.chmod(tmp, 0o644)
    os.replace(tmp, path)


def _csv_text(header: tuple[str, str], rows: list[tuple[str, int]], total: int) -> str:
    import io
    buf = io.StringIO()
    w = csv.writer(buf)
    w.writerow([*header, "share"])
    for name, cyc in rows:
        w.writerow([name, cyc, f"{cyc / max(1, total):.6f}"])
    return buf.getvalue()


def write_chart(profile: Profile, png_path: Path, top: int = 15) -> None:
    """Two horizontal bar charts (top functions, classes) as a PNG (matplotlib, Agg backend)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 2, figsize=(14, 6))
    for ax, rows, title in ((axes[0], profile.by_function[:top], "cycles by function"),
                            (axes[1], profile.by_class[:top], "cycles by instruction class")):
        names = [n for n, _ in rows][::-1]
        values = [100.0 * c / max(1, profile.total) for _, c in rows][::-1]
        ax.barh(names, values, color="#3b6ea5")
        ax.set_xlabel("% of total cycles")
        ax.set_title(title)
        ax.tick_params(axis="y", labelsize=8)
    fig.suptitle(f"tinyperf cycle budget: {profile.total:,} cycles")
    fig.tight_layout()
    fd, tmp = tempfile.mkstemp(dir=png_path.parent, suffix=".png")
    os.close(fd)
    fig.savefig(tmp, dpi=100)
    plt.close(fig)
    os.chmod(tmp, 0o644)
    os.replace(tmp, png_path)


def write_profile(board_or_counter: Any, elf_path: str | os.PathLike | None, out_dir: str | os.PathLike,
                  top: int = 30) -> Profile:
    """Write profile.txt, profile_functions.csv, profile_classes.csv and profile.png into out_dir
    (created if needed; files replaced atomically). Returns the Profile."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    prof = build_profile(board_or_counter, elf_path)
    _atomic_write(out / "profile.txt", prof.table(top) + "\n")
    _atomic_write(out / "profile_functions.csv", _csv_text(("function", "cycles"), prof.by_function, prof.total))
    _atomic_write(out / "profile_classes.csv", _csv_text(("class", "cycles"), prof.by_class, prof.total))
    write_chart(prof, out / "profile.png")
    return prof


# ---------------------------------------------------------------------------------------------- CLI glue
def add_arguments(parser) -> None:
    """`tinyperf sim --profile [DIR]` (runner/cli/sim_cmd.py calls this)."""
    parser.add_argument("--profile", nargs="?", const="tinyperf-profile", default=None, metavar="DIR",
                        help="write the cycle/energy budget by function and instruction class (table, CSV, "
                             "PNG) into DIR (default ./tinyperf-profile) at the end of the run")


def write_report(args, board) -> Profile:
    """End of `tinyperf sim --profile`: write the files and print the table."""
    import logging
    firmware = str(getattr(args, "firmware", "") or "")
    elf = firmware if firmware.lower().endswith(".elf") else None
    prof = write_profile(board, elf, args.profile)
    print(prof.table(), flush=True)
    logging.getLogger("tinyperf.sim.timing").info("profile written to %s", Path(args.profile).resolve())
    return prof
