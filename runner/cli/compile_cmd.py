"""Compile an int8 .tflite model into C: DIR/model.h and DIR/model.c with the weights as const arrays, the
static arena plan and model_invoke() calling one kernel per layer. Every operator, tensor type and
quantization is checked first; anything unsupported is an error naming the operator and its index.
Prints the per-layer table (kernel, MACs, const bytes) and the memory summary."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

NAME = "compile"
HELP = "compile a .tflite model to C (model.h, model.c) for the tinyperf kernels"

log = logging.getLogger("tinyperf.compile")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("model", type=Path, help="int8 .tflite model")
    p.add_argument("-o", "--output", type=Path, required=True, metavar="DIR",
                   help="directory for model.h and model.c (created)")
    p.add_argument("--kernels", default="m4", choices=("m4", "ref"),
                   help="m4: Cortex-M4 DSP kernels where a fast path exists (default); ref: portable "
                   "reference kernels only")


def format_report(cm) -> str:
    """The per-layer table and memory summary printed by the command."""
    lines = [f"{cm.source.name} (md5 {cm.md5}), kernels {cm.kernels}: {len(cm.layers)} layers, "
             f"{cm.macs:,} MACs",
             f"  {'#':>2} {'operator':18} {'kernel':20} {'MACs':>10} {'const B':>8} {'scratch':>7}  detail"]
    for layer in cm.layers:
        lines.append(f"  {layer.index:>2} {layer.op:18} {layer.kernel or '(in place)':20} {layer.macs:>10,} "
                     f"{layer.weight_bytes:>8,} {layer.scratch_bytes:>7}  {layer.detail}")
    lines += [
        f"input  {list(cm.input_shape)} {cm.input_dtype} scale {cm.input_scale:.8g} zero point "
        f"{cm.input_zero_point} ({cm.input_bytes} bytes)",
        f"output {list(cm.output_shape)} {cm.output_dtype} scale {cm.output_scale:.8g} zero point "
        f"{cm.output_zero_point} ({cm.output_bytes} bytes)",
        f"flash: {cm.weights_bytes:,} bytes of weights, biases, multipliers and shifts (+ kernel code)",
        f"RAM:   {cm.arena_bytes:,} bytes of arena (all activations and scratch, planned at compile time)",
        f"wrote {cm.header} and {cm.c_source}",
    ]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    from tinyperf.firmware.compiler import compile_model
    cm = compile_model(args.model, args.output, kernels=args.kernels)
    print(format_report(cm))
    return 0
