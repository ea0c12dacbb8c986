"""Model compiler: .tflite flatbuffer to C (weights as const arrays, static arena plan, model_invoke()).

    from tinyperf.firmware.compiler import compile_model
    cm = compile_model("kws_ref_model.tflite", "out/kws")        # writes out/kws/model.h, out/kws/model.c
    cm.arena_bytes, cm.weights_bytes, cm.macs, [l.name for l in cm.layers]

The generated model.c is compiled together with firmware/kernels/{ref,m4}/*.c and the include path
firmware/kernels/include (see KERNEL_DIR, kernel_sources()).
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .emit import render
from .lower import Layer, lower_graph
from .planner import plan_memory
from .reader import NUMPY_TYPES, read_model

KERNEL_DIR = Path(__file__).resolve().parent.parent / "kernels"
INCLUDE_DIR = KERNEL_DIR / "include"


def kernel_sources() -> list[Path]:
    """Every kernel source file (ref and m4); the linker keeps only the ones a model calls."""
    return sorted((KERNEL_DIR / "ref").glob("*.c")) + sorted((KERNEL_DIR / "m4").glob("*.c"))


@dataclass(frozen=True)
class LayerInfo:
    index: int
    name: str            # C symbol of the layer function, e.g. tp_layer_03_depthwise_conv_2d
    op: str              # TFLite operator
    kernel: str          # kernel function called ("" for an in-place RESHAPE)
    macs: int            # multiply-accumulates per inference
    weight_bytes: int    # const bytes of this layer (weights, bias, multipliers, shifts)
    scratch_bytes: int   # arena bytes of kernel scratch
    detail: str


@dataclass
class CompiledModel:
    source: Path
    md5: str
    kernels: str                 # "ref" or "m4"
    out_dir: Path
    input_shape: tuple
    output_shape: tuple
    input_dtype: np.dtype
    output_dtype: np.dtype
    input_scale: float
    input_zero_point: int
    output_scale: float
    output_zero_point: int
    arena_bytes: int             # RAM of all activations and scratch (bytes)
    weights_bytes: int           # flash of const data: weights, biases, multipliers, shifts (bytes)
    layers: list = field(default_factory=list)
    input_arena_offset: int = 0  # byte offset of the input tensor in model_arena
    output_arena_offset: int = 0 # byte offset of the output tensor in model_arena

    @property
    def input_bytes(self) -> int:
        return int(np.prod(self.input_shape)) * self.input_dtype.itemsize

    @property
    def output_bytes(self) -> int:
        return int(np.prod(self.output_shape)) * self.output_dtype.itemsize

    @property
    def flash_bytes(self) -> int:
        """Const data in flash (code size needs a target build: see scripts/bench_models.py)."""
        return self.weights_bytes

    @property
    def macs(self) -> int:
        return sum(layer.macs for layer in self.layers)

    @property
    def header(self) -> Path:
        return self.out_dir / "model.h"

    @property
    def c_source(self) -> Path:
        return self.out_dir / "model.c"


def _write_atomic(path: Path, text: str) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    with os.fdopen(fd, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def compile_model(tflite_path, out_dir, kernels: str = "m4") -> CompiledModel:
    """Validate, lower, plan and emit DIR/model.h and DIR/model.c. Raises CompileError on bad input."""
    from tinyperf.errors import CompileError

    tflite_path = Path(tflite_path)
    if not tflite_path.is_file():
        raise CompileError(f"model file {tflite_path} not found; pass the path of a .tflite file")
    graph = read_model(tflite_path)
    if len(graph.inputs) != 1 or len(graph.outputs) != 1:
        raise CompileError(f"model has {len(graph.inputs)} inputs and {len(graph.outputs)} outputs; "
                           "only single-input single-output models are supported")
    layers: list[Layer] = lower_graph(graph, kernels)   # validates every operator first
    for role, t in (("input", graph.tensors[graph.inputs[0]]), ("output", graph.tensors[graph.outputs[0]])):
        if t.type not in NUMPY_TYPES or t.type_name not in ("INT8", "FLOAT32"):
            raise CompileError(f"model {role} tensor {t.index} '{t.name}' has type {t.type_name}; "
                               "INT8 or FLOAT32 supported")
    plan = plan_memory(graph, layers)
    header, source = render(graph, layers, plan, tflite_path.name, kernels)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    _write_atomic(out_dir / "model.h", header)
    _write_atomic(out_dir / "model.c", source)
    tin, tout = graph.tensors[graph.inputs[0]], graph.tensors[graph.outputs[0]]
    infos = [LayerInfo(l.index, l.c_name, l.op, l.kernel, l.macs, l.weight_bytes, l.scratch_bytes, l.detail)
             for l in layers]
    return CompiledModel(
        source=tflite_path, md5=graph.md5, kernels=kernels, out_dir=out_dir,
        input_shape=tuple(tin.shape), output_shape=tuple(tout.shape),
        input_dtype=np.dtype(NUMPY_TYPES[tin.type]), output_dtype=np.dtype(NUMPY_TYPES[tout.type]),
        input_scale=tin.scale, input_zero_point=tin.zero_point,
        output_scale=tout.scale, output_zero_point=tout.zero_point,
        arena_bytes=plan.arena_bytes, weights_bytes=sum(i.weight_bytes for i in infos), layers=infos,
        input_arena_offset=plan.offset_of(graph.inputs[0]), output_arena_offset=plan.offset_of(graph.outputs[0]))


__all__ = ["INCLUDE_DIR", "KERNEL_DIR", "CompiledModel", "LayerInfo", "compile_model", "kernel_sources"]
