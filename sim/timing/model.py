"""Timing model parameters loaded from platforms/*timing*.yaml: per-class core cycles (Cortex-M4 TRM) and
the STM32L4R5 memory system (flash wait states, ART caches, SRAM bus contention)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml
from tinyperf.errors import PlatformError
from tinyperf.platforms import PLATFORM_DIR

DEFAULT_MEMORY_FILE = "stm32l4r5_timing.yaml"


@dataclass(frozen=True)
class MemoryConfig:
    """FLASH_ACR state: LATENCY (wait states, cycles), PRFTEN, ICEN, DCEN."""

    latency: int = 0
    prften: bool = False
    icen: bool = True
    dcen: bool = True


@dataclass(frozen=True)
class ArtGeometry:
    """ART accelerator: entries of `line_bytes` (one flash read) in the instruction and data caches."""

    line_bytes: int = 8
    icache_lines: int = 128
    dline_bytes: int = 8
    dcache_lines: int = 32


@dataclass(frozen=True)
class TimingModel:
    """Everything the decoder and the native counter need. `class_cycles`: class -> cycles at 0 WS."""

    name: str
    class_cycles: Mapping[str, int]
    refill: int = 2                      # P for a taken branch / PC write (cycles)
    refill_unaligned_wide: int = 1       # extra P when the target is a non-word-aligned 32-bit insn
    flash_ranges: tuple[tuple[int, int], ...] = ()
    sram_bus_ranges: tuple[tuple[int, int], ...] = ()
    sram_bus_penalty: int = 0            # cycles per data access when fetching over the System bus
    ram_ranges: tuple[tuple[int, int], ...] = ()   # plain RAM (never MMIO): pointer reads allowed
    art: ArtGeometry = field(default_factory=ArtGeometry)
    memory_reset: MemoryConfig = field(default_factory=MemoryConfig)
    unit: bool = False                   # 1 cycle per instruction, no memory system

    def in_flash(self, address: int) -> bool:
        return any(lo <= address < hi for lo, hi in self.flash_ranges)

    def in_sram_bus(self, address: int) -> bool:
        return any(lo <= address < hi for lo, hi in self.sram_bus_ranges)


UNIT_MODEL = TimingModel(name="unit", class_cycles={}, refill=0, refill_unaligned_wide=0, unit=True,
                         memory_reset=MemoryConfig(0, False, False, False))


def _read_yaml(path: Path) -> Mapping[str, Any]:
    try:
        with open(path, encoding="utf-8") as fh:
            return yaml.safe_load(fh)
    except FileNotFoundError:
        raise PlatformError(f"timing description {path} not found; expected beside platforms/__init__.py")
    except yaml.YAMLError as exc:
        raise PlatformError(f"{path}: invalid YAML: {exc}") from exc


def _ranges(rows: Any, path: Path, key: str) -> tuple[tuple[int, int], ...]:
    try:
        out = tuple((int(lo), int(hi)) for lo, hi in rows)
    except (TypeError, ValueError) as exc:
        raise PlatformError(f"{path}: {key} must be a list of [start, end) pairs, got {rows!r}") from exc
    for lo, hi in out:
        if hi <= lo:
            raise PlatformError(f"{path}: {key}: empty range [{lo:#x}, {hi:#x})")
    return out


@cache
def load_memory_model(filename: str = DEFAULT_MEMORY_FILE) -> TimingModel:
    """Read the memory-system YAML and the core-timing YAML it names into a TimingModel."""
    path = PLATFORM_DIR / filename
    mem = _read_yaml(path)
    core_path = PLATFORM_DIR / mem["core_timing"]
    core = _read_yaml(core_path)
    try:
        classes = {name: int(row["cycles"]) for name, row in core["classes"].items()}
        refill = core["pipeline_refill"]
        flash, art, sram = mem["flash"], mem["art"], mem["sram"]
        read_bytes = int(flash["read_bytes"])
        if read_bytes & (read_bytes - 1):
            raise PlatformError(f"{path}: flash.read_bytes must be a power of two, got {read_bytes}")
        acr = flash["acr_reset"]
        return TimingModel(
            name=f"{core['name']}+{mem['name']}",
            class_cycles=classes,
            refill=int(refill["base"]),
            refill_unaligned_wide=int(refill["unaligned_wide_target_extra"]),
            flash_ranges=_ranges(flash["ranges"], path, "flash.ranges"),
            sram_bus_ranges=_ranges(sram["ranges"], path, "sram.ranges"),
            sram_bus_penalty=int(sram["fetch_contention_cycles"]),
            ram_ranges=_ranges(sram["ram"], path, "sram.ram"),
            art=ArtGeometry(line_bytes=read_bytes, icache_lines=int(art["icache_bytes"]) // read_bytes,
                            dline_bytes=read_bytes, dcache_lines=int(art["dcache_bytes"]) // read_bytes),
            memory_reset=MemoryConfig(int(acr["latency"]), bool(acr["prften"]), bool(acr["icen"]),
                                      bool(acr["dcen"])),
        )
    except KeyError as exc:
        raise PlatformError(f"{path} or {core_path}: missing key {exc}") from exc


def load_timing_model(model: TimingModel | str | None = None, board: Any = None) -> TimingModel:
    """`model`: a TimingModel, "unit" (1 cycle per instruction), a YAML file name in platforms/, or None
    for the board's `timing` entry (board.raw["timing"]) else the STM32L4R5 default."""
    if isinstance(model, TimingModel):
        return model
    if model == "unit":
        return UNIT_MODEL
    if model is None:
        raw = getattr(board, "raw", None) or {}
        model = raw.get("timing", DEFAULT_MEMORY_FILE) if isinstance(raw, Mapping) else DEFAULT_MEMORY_FILE
    return load_memory_model(str(model))
