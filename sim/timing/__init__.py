"""Cycle and energy model of the STM32L4R5 (Cortex-M4F core, flash with ART accelerator, SRAM).

`CycleCounter(uc, board)` attaches the native cycle accounting to a Unicorn engine (cycles.py)."""

from tinyperf.sim.timing.cycles import EXCEPTION_CYCLES, CycleCounter
from tinyperf.sim.timing.energy import (
                                        average_power_mw,
                                        energy_between,
                                        energy_per_inference_uJ,
                                        load_energy_model,
)

__all__ = [
                                        "EXCEPTION_CYCLES",
                                        "CycleCounter",
                                        "average_power_mw",
                                        "energy_between",
                                        "energy_per_inference_uJ",
                                        "load_energy_model",
]
