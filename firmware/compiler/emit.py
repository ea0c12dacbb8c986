"""Write model.h and model.c from lowered layers and the memory plan (templates in templates/)."""

from __future__ import annotations

from pathlib import Path
from string import Template

import numpy as np

from .lower import Layer, _c_float
from .planner import Plan
from .reader import Graph, schema

TT = schema.TensorType

TEMPLATES = Path(__file__).parent / "templates"
C_TYPES = {TT.INT8: "int8", TT.FLOAT32: "float32"}


def _array_body(values: np.ndarray, per_line: int = 24) -> str:
    vals = [str(int(v)) for v in np.asarray(values).reshape(-1)]
    lines = [", ".join(vals[i:i + per_line]) for i in range(0, len(vals), per_line)]
    return "    " + ",\n    ".join(lines) if lines else "    0"


def _struct_init(layer: Layer, prefix: str) -> str:
    items = []
    for k, v in layer.fields.items():
        v = f"{prefix}_{v[1:]}" if v.startswith("@") else v
        items.append(f"    .{k} = {v},")
    return "\n".join(items)


def _arg(layer: Layer, x, plan: Plan, prefix: str, ctype: str = "int8_t") -> str:
    if isinstance(x, str) and x.startswith("@"):
        return f"{prefix}_{x[1:]}"
    return f"({ctype} *)(model_arena + {plan.offset_of(x)})"


def render(graph: Graph, layers: list[Layer], plan: Plan, source_name: str, kernels: str) -> tuple[str, str]:
    """Returns (model.h text, model.c text)."""
    tin, tout = graph.tensors[graph.inputs[0]], graph.tensors[graph.outputs[0]]
    header = Template((TEMPLATES / "model.h.tmpl").read_text()).substitute(
        source=source_name, md5=graph.md5, kernels=kernels,
        input_bytes=tin.nbytes, output_bytes=tout.nbytes,
        input_type=C_TYPES.get(tin.type, "int8"), output_type=C_TYPES.get(tout.type, "int8"),
        input_scale=_c_float(tin.scale) if tin.scales else "0.0f", input_zp=f"({tin.zero_point})",
        output_scale=_c_float(tout.scale) if tout.scales else "0.0f", output_zp=f"({tout.zero_point})",
        arena_bytes=plan.arena_bytes, layer_count=len(layers),
        input_shape=", ".join(map(str, tin.shape)), output_shape=", ".join(map(str, tout.shape)))

    blocks, calls = [], []
    for layer in layers:
        prefix = f"l{layer.index:02d}"
        ctype = {TT.FLOAT32: "float"}
        parts = [f"/* layer {layer.index:02d} {layer.op}: {layer.detail}; {layer.macs} MACs */"]
        for atype, suffix, arr in layer.arrays:
            parts.append(f"static const {atype} {prefix}_{suffix}[{arr.size}] __attribute__((aligned(4))) = {{\n"
                         f"{_array_body(arr)}\n}};")
        if layer.struct_type:
            parts.append(f"static const {layer.struct_type} {prefix} = {{\n{_struct_init(layer, prefix)}\n}};")
        body = _call(layer, graph, plan, prefix, ctype)
        parts.append(f"__attribute__((noinline)) void {layer.c_name}(void)\n{{\n{body}\n}}")
        blocks.append("\n".join(parts))
        calls.append(f"    {layer.c_name}();")
    source = Template((TEMPLATES / "model.c.tmpl").read_text()).substitute(
        source=source_name, md5=graph.md5, kernels=kernels,
        layers="\n\n".join(blocks), calls="\n".join(calls),
        prototypes="\n".join(f"void {layer.c_name}(void);" for layer in layers),
        input_offset=plan.offset_of(graph.inputs[0]), output_offset=plan.offset_of(graph.outputs[0]))
    return header, source


def _call(layer: Layer, graph: Graph, plan: Plan, prefix: str, ctype: dict) -> str:
    out = layer.outputs[0]
    if not layer.kernel:  # RESHAPE: in place when the planner shared the buffer, else a copy
        src = layer.inputs[0]
        if plan.offset_of(src) == plan.offset_of(out):
            return ("    /* in place: output shares the input's bytes; the barrier keeps this layer's symbol */\n"
                    "    __asm__ volatile(\"\" ::: \"memory\");")
        return (f"    memmove(model_arena + {plan.offset_of(out)}, model_arena + {plan.offset_of(src)}, "
                f"{graph.tensors[out].nbytes});")
    args = [f"&{prefix}"]
    for x in layer.inputs:
        t = graph.tensors[x] if isinstance(x, int) else None
        c = ctype.get(t.type, "int8_t") if t is not None else "int8_t"
        args.append(_arg(layer, x, plan, prefix, c))
    args.append(_arg(layer, out, plan, prefix, ctype.get(graph.tensors[out].type, "int8_t")))
    if layer.scratch_bytes:
        stype = "int32_t" if layer.struct_type == "tp_add_s8_t" else "int16_t"
        args.append(f"({stype} *)(void *)(model_arena + {plan.scratch_offset[layer.index]})")
    return f"    (void){layer.kernel}({', '.join(args)});"
