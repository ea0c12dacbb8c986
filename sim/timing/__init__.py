"""Cycle and energy model of the STM32L4R5 (Cortex-M4F core, flash with ART accelerator, SRAM).

`CycleCounter(uc, board)` attaches the native cycle accounting to a Unicorn engine (cycles.py).
Modules: cycles (the counter), classify (capstone decode -> TRM costs), addresses (flash data-read
addresses from block-entry state), model (timing data from platforms/*timing*.yaml), energy (Tiwari-style
energy, platforms/stm32l4r5_energy.yaml), profile (cycle/energy budget by function and class),
snippet (run a Thumb-2 snippet under the model), native_build (compile/load native/*.c)."""

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
