"""Cycle and energy model of the STM32L4R5 (Cortex-M4F core, flash with ART accelerator, SRAM).

`CycleCounter(uc, board)` attaches the native cycle accounting to a Unicorn engine (cycles.py)."""

from tinyperf.sim.timing.cycles import CycleCounter

__all__ = ["CycleCounter"]
