"""Instruction-level energy model of the STM32L4R5 (Tiwari-style): energy per cycle of each instruction
class, per-event energies (flash wait-state stalls, flash array reads, branch refills, divide iterations,
exception stacking, sleep), a supply option (LDO or the -P board's SMPS) and static power.

Coefficients: platforms/stm32l4r5_energy.yaml, calibrated so that the datasheet's "reduced code" mix
running from flash with the ART on draws the datasheet Run current per MHz (sources and what is unverified
are written next to each number there). Units: fJ internally (integers, native accumulation), µJ and mW
in this API.

The native counter accumulates energy as blocks complete (cycles.CycleCounter.energy_uJ); this module
turns snapshots into figures:
 1. `a = counter.snapshot()` at the start of a window (e.g. a timestamp GPIO edge),
 2. `b = counter.snapshot()` at its end,
 3. `energy_between(a, b)` µJ, `average_power_mw(a, b, hclk_hz)`, `energy_per_inference_uJ(a, b, n)`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache

from tinyperf.errors import PlatformError
from tinyperf.sim.timing.model import PLATFORM_DIR, _read_yaml

DEFAULT_ENERGY_FILE = "stm32l4r5_energy.yaml"
FJ_PER_UJ = 1e9


@dataclass(frozen=True)
class EnergyModel:
    """Energies in fJ: per cycle of each class (`class_fj`), per event, and static power in mW."""

    name: str
    supply: str
    vdd_v: float
    class_fj: Mapping[str, float]
    stall_fj: float          # per flash wait-state stall cycle
    refill_fj: float         # per taken-branch refill cycle
    div_fj: float            # per divide cycle beyond the table's 2
    bus_fj: float            # per System-bus contention cycle
    exception_fj: float      # per exception entry/return/tail-chain cycle (run loop's add())
    sleep_fj: float          # per HCLK cycle asleep (WFI/WFE)
    flash_read_fj: float     # per flash array read (ART miss, prefetch)
    static_mw: float         # clock-independent power

    def block_fj(self, classes: Sequence[str], costs: Sequence[int]) -> int:
        """Energy of one execution of a block: sum of cycles x energy per cycle of each class (fJ)."""
        alu = self.class_fj["alu"]
        return round(sum(self.class_fj.get(c, alu) * n for c, n in zip(classes, costs)))

    def added_fj(self, kind: str, cycles: int) -> int:
        """Energy of cycles the run loop accounts itself: "sleep" at Sleep-mode power, else exception
        stacking traffic."""
        per = self.sleep_fj if kind == "sleep" else self.exception_fj
        return round(per * cycles)

    def run_current_ma(self, hclk_hz: float, class_cycles: Mapping[str, int]) -> float:
        """Current (mA) of a steady instruction mix (cycles by class) at hclk_hz, flash reads excluded."""
        total = sum(class_cycles.values())
        if not total:
            return 0.0
        fj = sum(self.class_fj.get(c, self.class_fj["alu"]) * n for c, n in class_cycles.items()) / total
        return fj * 1e-15 * hclk_hz / self.vdd_v * 1e3 + self.static_mw / self.vdd_v


@cache
def load_energy_model(supply: str = "ldo", filename: str = DEFAULT_ENERGY_FILE) -> EnergyModel:
    """Read platforms/<filename> for `supply` ("ldo" or "smps") into an EnergyModel."""
    path = PLATFORM_DIR / filename
    raw = _read_yaml(path)
    try:
        supplies = raw["supplies"]
        if supply not in supplies:
            raise PlatformError(f"{path}: unknown supply {supply!r}; choose one of {', '.join(supplies)}")
        sup = supplies[supply]
        scale = float(sup["scale"])
        vdd = float(raw["vdd_v"])
        ref = raw["reference"]
        weights = {k: float(v) for k, v in raw["class_weights"].items()}
        ev = raw["events"]
        # energy of one cycle of the reference mix (J) = VDD x (uA/MHz x 1e-6 A / 1e6 Hz)
        ref_cycle_fj = vdd * float(ref["run_ua_per_mhz"]) * 1e-12 * 1e15
        mix_weight = sum(float(share) * weights[c] for c, share in ref["mix"].items())
        mix_weight += float(ref["flash_reads_per_cycle"]) * float(ev["flash_read_weight"])
        alu_fj = ref_cycle_fj / mix_weight * scale
        return EnergyModel(
            name=str(raw["name"]), supply=supply, vdd_v=vdd,
            class_fj={c: w * alu_fj for c, w in weights.items()},
            stall_fj=float(ev["stall_cycle_weight"]) * alu_fj,
            refill_fj=float(ev["refill_cycle_weight"]) * alu_fj,
            div_fj=float(ev["div_cycle_weight"]) * alu_fj,
            bus_fj=float(ev["bus_cycle_weight"]) * alu_fj,
            exception_fj=float(ev["exception_cycle_weight"]) * alu_fj,
            sleep_fj=vdd * float(ref["sleep_ua_per_mhz"]) * 1e-12 * 1e15 * scale,
            flash_read_fj=float(ev["flash_read_weight"]) * alu_fj,
            static_mw=float(sup["static_mw"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise PlatformError(f"{path}: malformed energy description ({exc!r})") from exc


# ---------------------------------------------------------------------------------------------- windows
def energy_between(a: Mapping, b: Mapping) -> float:
    """µJ consumed between two counter snapshots (b taken after a)."""
    if b["cycles"] < a["cycles"]:
        raise ValueError(f"snapshot b (cycle {b['cycles']}) precedes snapshot a (cycle {a['cycles']})")
    return float(b["energy_uJ"]) - float(a["energy_uJ"])


def window_seconds(a: Mapping, b: Mapping, hclk_hz: float | None = None) -> float:
    """Seconds between two snapshots: their "seconds" entries when present (board time source), else
    cycles / hclk_hz."""
    if "seconds" in a and "seconds" in b:
        return float(b["seconds"]) - float(a["seconds"])
    if not hclk_hz:
        raise ValueError("snapshots carry no time: pass hclk_hz (HCLK in Hz) or give the counter a time "
                         "source (counter.set_time_source)")
    return (b["cycles"] - a["cycles"]) / float(hclk_hz)


def average_power_mw(a: Mapping, b: Mapping, hclk_hz: float | None = None) -> float:
    """Average power (mW) between two snapshots."""
    seconds = window_seconds(a, b, hclk_hz)
    if seconds <= 0:
        raise ValueError("empty window: the two snapshots are at the same instant")
    return energy_between(a, b) / seconds * 1e-3


def energy_per_inference_uJ(a: Mapping, b: Mapping, inferences: int) -> float:
    """µJ per inference over a window that ran `inferences` inferences."""
    if inferences <= 0:
        raise ValueError(f"inferences must be > 0, got {inferences}")
    return energy_between(a, b) / inferences
