"""Cycle and energy model of the STM32L4R5 (Cortex-M4F core, flash with ART accelerator, SRAM)."""
