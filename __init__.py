"""tinyperf: a simulation-first MLPerf Tiny benchmark for the NUCLEO-L4R5ZI (Cortex-M4F, 120 MHz)."""

__version__ = "0.1.0"
