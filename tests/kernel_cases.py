"""Shared by the kernel tests: a one-operator .tflite written to disk with the tflite-micro interpreter's
outputs as the reference, and a bit-for-bit comparison that names the first differing outputs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from tflite_micro.python.tflite_micro import runtime


def reference_case(tmp_path_factory, name: str, data: bytes,
                   inputs: Callable[[tuple], list[np.ndarray]], arena_size: int | None = None
                   ) -> tuple[Path, list[tuple[np.ndarray, np.ndarray]]]:
    """(model path, [(input, interpreter output), ...]); `inputs(shape)` gives the inputs to run."""
    path = tmp_path_factory.mktemp(name) / f"{name}.tflite"
    path.write_bytes(data)
    kwargs = {} if arena_size is None else {"arena_size": arena_size}
    interp = runtime.Interpreter.from_bytes(data, **kwargs)
    pairs = []
    for x in inputs(tuple(interp.get_input_details(0)["shape"])):
        interp.set_input(x, 0)
        interp.invoke()
        pairs.append((x, interp.get_output(0).copy()))
    return path, pairs


def assert_same(got: np.ndarray, want: np.ndarray, label: str, varied: bool = True) -> None:
    """got == want bit for bit; with `varied`, also that the reference is not degenerate (all outputs
    clamped would leave the requantization untested)."""
    bad = np.flatnonzero(got.reshape(-1) != want.reshape(-1))
    assert bad.size == 0, (f"{label}: {bad.size} of {got.size} outputs differ (first at {bad[:5]}: got "
                           f"{got.reshape(-1)[bad[:5]]}, tflm {want.reshape(-1)[bad[:5]]})")
    if varied:
        assert len(np.unique(want)) > 8, f"{label}: degenerate test model (outputs {np.unique(want)})"
