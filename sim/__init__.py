"""The simulated NUCLEO-L4R5ZI: `from tinyperf.sim import SimBoard` (see tinyperf.sim.board).

SimBoard is imported lazily so that importing a submodule (a peripheral model, the timing model) does not
pull in the whole board."""

from __future__ import annotations

__all__ = ["SimBoard"]


def __getattr__(name: str):
    if name == "SimBoard":
        from tinyperf.sim.board import SimBoard
        return SimBoard
    raise AttributeError(f"module 'tinyperf.sim' has no attribute {name!r}")
