"""Board descriptions as data: `load_board("nucleo_l4r5zi")` reads `platforms/<name>.yaml` into frozen,
validated dataclasses. Everything hardware-specific (addresses, sizes, IRQs, clocks, coefficients) lives in
the YAML files beside this module, with its source cited next to each number."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Mapping

import yaml

from tinyperf.errors import PlatformError

PLATFORM_DIR = Path(__file__).resolve().parent
DEFAULT_BOARD = "nucleo_l4r5zi"

MEMORY_KINDS = ("flash", "sram", "rom", "alias")


@dataclass(frozen=True)
class MemoryRegion:
    """A memory region: `size` bytes at `base`. An alias mirrors the region named by `target`."""

    name: str
    kind: str
    base: int
    size: int
    target: str | None = None
    fill: int = 0

    @property
    def end(self) -> int:
        return self.base + self.size

    def contains(self, address: int) -> bool:
        return self.base <= address < self.end


@dataclass(frozen=True)
class PeripheralSpec:
    """A memory-mapped peripheral instance: `model` names the simulator class; `irqs` maps a line name to
    an external interrupt number; `enable` names the RCC register and bit that gate its clock."""

    name: str
    model: str
    base: int
    size: int
    irqs: Mapping[str, int] = field(default_factory=dict)
    bus: str = ""
    enable: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class Board:
    """A whole board. `raw` keeps the parsed YAML for sections that one consumer alone reads."""

    name: str
    mcu: str
    cpu: Mapping[str, Any]
    memory: tuple[MemoryRegion, ...]
    peripherals: tuple[PeripheralSpec, ...]
    clocks: Mapping[str, Any]
    console: Mapping[str, Any]
    raw: Mapping[str, Any]
    source: Path

    def region(self, name: str) -> MemoryRegion:
        for r in self.memory:
            if r.name == name:
                return r
        raise PlatformError(f"{self.name}: no memory region named {name!r}; regions: "
                            f"{', '.join(r.name for r in self.memory)}")

    def peripheral(self, name: str) -> PeripheralSpec:
        for p in self.peripherals:
            if p.name == name:
                return p
        raise PlatformError(f"{self.name}: no peripheral named {name!r}")

    def region_at(self, address: int) -> MemoryRegion | None:
        return next((r for r in self.memory if r.contains(address)), None)

    @property
    def flash(self) -> MemoryRegion:
        return self.region("FLASH")


def _int(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise PlatformError(f"{what}: expected an integer, got {value!r}")
    return value


def _parse_memory(items: list[dict], where: str) -> tuple[MemoryRegion, ...]:
    regions = []
    for i, m in enumerate(items):
        what = f"{where}: memory[{i}]"
        try:
            kind = m["kind"]
            if kind not in MEMORY_KINDS:
                raise PlatformError(f"{what}: kind {kind!r} is not one of {', '.join(MEMORY_KINDS)}")
            regions.append(MemoryRegion(name=m["name"], kind=kind, base=_int(m["base"], what),
                                        size=_int(m["size"], what), target=m.get("target"),
                                        fill=m.get("fill", 0)))
        except KeyError as e:
            raise PlatformError(f"{what}: missing key {e}") from None
    names = {r.name for r in regions}
    ordered = sorted(regions, key=lambda r: r.base)
    for a, b in zip(ordered, ordered[1:]):
        if a.end > b.base:
            raise PlatformError(f"{where}: memory regions {a.name} and {b.name} overlap")
    for r in regions:
        if r.kind == "alias":
            if r.target not in names:
                raise PlatformError(f"{where}: alias {r.name} targets unknown region {r.target!r}")
            target = next(t for t in regions if t.name == r.target)
            if r.size > target.size:
                raise PlatformError(f"{where}: alias {r.name} is larger than its target {target.name}")
    return tuple(regions)


def _parse_peripherals(items: list[dict], where: str) -> tuple[PeripheralSpec, ...]:
    specs = []
    for i, p in enumerate(items):
        what = f"{where}: peripherals[{i}]"
        try:
            specs.append(PeripheralSpec(name=p["name"], model=p["model"], base=_int(p["base"], what),
                                        size=_int(p["size"], what), irqs=dict(p.get("irqs") or {}),
                                        bus=p.get("bus", ""), enable=p.get("enable")))
        except KeyError as e:
            raise PlatformError(f"{what}: missing key {e}") from None
    seen: set[str] = set()
    for s in specs:
        if s.name in seen:
            raise PlatformError(f"{where}: peripheral {s.name} is listed twice")
        seen.add(s.name)
    return tuple(specs)


def load_board_file(path: Path) -> Board:
    """Read and validate one board description file."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text())
    except FileNotFoundError:
        raise PlatformError(f"board description {path} not found") from None
    except yaml.YAMLError as e:
        raise PlatformError(f"{path}: not valid YAML: {e}") from None
    if not isinstance(data, dict):
        raise PlatformError(f"{path}: expected a mapping at the top level")
    for key in ("name", "mcu", "cpu", "memory", "peripherals", "clocks", "console"):
        if key not in data:
            raise PlatformError(f"{path}: missing top-level key {key!r}")
    return Board(name=data["name"], mcu=data["mcu"], cpu=data["cpu"],
                 memory=_parse_memory(data["memory"], str(path)),
                 peripherals=_parse_peripherals(data["peripherals"], str(path)),
                 clocks=data["clocks"], console=data["console"], raw=data, source=path)


@lru_cache(maxsize=None)
def load_board(name: str = DEFAULT_BOARD) -> Board:
    """Load a board shipped in `platforms/` by name (e.g. "nucleo_l4r5zi"), or from a path to a .yaml."""
    candidate = Path(name)
    if candidate.suffix in (".yaml", ".yml") and candidate.exists():
        return load_board_file(candidate)
    path = PLATFORM_DIR / f"{name}.yaml"
    if not path.exists():
        known = sorted(p.stem for p in PLATFORM_DIR.glob("*.yaml") if not p.stem.startswith("_"))
        raise PlatformError(f"unknown board {name!r}; known boards: {', '.join(known)}")
    return load_board_file(path)
