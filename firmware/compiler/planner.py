"""Static memory plan: every activation tensor and scratch buffer gets an offset in one arena.

Buffers whose lifetimes (first writer .. last reader, in operator order) overlap never share bytes. Placement
is greedy by size, largest first, each at the lowest offset that fits between the already placed buffers it
conflicts with (the strategy of TFLM's GreedyMemoryPlanner). Tensors an operator may write in place
(RESHAPE output, elementwise ADD output over an input that dies there) share the input's buffer.
"""

from __future__ import annotations

from dataclasses import dataclass, field

ALIGN = 16  # bytes; keeps every tensor word-aligned for the SIMD kernels


@dataclass
class Buffer:
    name: str
    size: int                 # bytes
    first: int                # first operator index using it (-1: before the first operator)
    last: int                 # last operator index using it (n_ops: after the last operator)
    tensors: list = field(default_factory=list)
    offset: int = -1


@dataclass
class Plan:
    buffers: list
    arena_bytes: int
    tensor_offset: dict       # tensor index -> arena offset
    scratch_offset: dict      # layer index -> arena offset

    def offset_of(self, tensor: int) -> int:
        return self.tensor_offset[tensor]


def _align(n: int) -> int:
    return (n + ALIGN - 1) // ALIGN * ALIGN


# Placement orders tried; the smallest arena wins (greedy by size is TFLM's; the others often do better).
ORDERS = (
    lambda b: (-b.size, b.first, b.name),
    lambda b: (b.first, -b.size, b.name),
    lambda b: (-(b.last - b.first), -b.size, b.name),
    lambda b: (-b.size * (b.last - b.first + 1), b.name),
)


def _place(buffers: list[Buffer], key) -> dict[int, int]:
    """First fit in the given order: each buffer at the lowest offset clear of placed conflicting ones."""
    placed: list[tuple[Buffer, int]] = []
    offsets = {}
    for b in sorted(buffers, key=key):
        conflicts = sorted(((p, o) for p, o in placed if p.first <= b.last and b.first <= p.last),
                           key=lambda po: po[1])
        offset = 0
        for p, o in conflicts:
            if offset + b.size <= o:
                break
            offset = max(offset, o + p.size)
        offsets[id(b)] = offset
        placed.append((b, offset))
    return offsets


def plan_memory(graph, layers) -> Plan:
    """Lifetimes from the layer list, aliases resolved, then greedy placement."""
    n_ops = len(layers)
    first: dict[int, int] = {}
    last: dict[int, int] = {}
    for t in graph.inputs:
        first[t] = -1
        last[t] = -1
    for layer in layers:
        for t in layer.inputs:
            if isinstance(t, int):
                first.setdefault(t, layer.index)
                last[t] = max(last.get(t, layer.index), layer.index)
        for t in layer.outputs:
            first.setdefault(t, layer.index)
            last[t] = max(last.get(t, layer.index), layer.index)
    for t in graph.outputs:
        last[t] = n_ops

    # alias groups: output shares the input's buffer when the input dies at this operator
    root: dict[int, int] = {t: t for t in first}

    def find(t: int) -> int:
        while root[t] != t:
            t = root[t]
        return t

    members: dict[int, list[int]] = {t: [t] for t in first}
    for layer in layers:
        src = layer.alias_input
        if src is None:
            continue
        out, r = layer.outputs[0], find(src)
        if layer.op == "RESHAPE":
            ok = True  # same bytes; tensors are written once, so sharing is safe whoever reads later
        else:
            # elementwise in-place write: every tensor sharing the input's buffer must die here
            ok = src not in graph.inputs and max(last[t] for t in members[r]) == layer.index
        if ok:
            root[out] = r
            members[r] += members.pop(out)

    groups: dict[int, Buffer] = {}
    for t in first:
        r = find(t)
        tensor = graph.tensors[t]
        b = groups.get(r)
        if b is None:
            b = groups[r] = Buffer(f"t{r}", 0, first[t], last[t])
        b.tensors.append(t)
        b.size = max(b.size, _align(tensor.nbytes))
        b.first = min(b.first, first[t])
        b.last = max(b.last, last[t])
    buffers = list(groups.values())
    scratch = {}
    for layer in layers:
        if layer.scratch_bytes:
            b = Buffer(f"scratch{layer.index}", _align(layer.scratch_bytes), layer.index, layer.index)
            buffers.append(b)
            scratch[layer.index] = b

    best = None
    for key in ORDERS:
        offsets = _place(buffers, key)
        arena = max((offsets[id(b)] + b.size for b in buffers), default=0)
        if best is None or arena < best[0]:
            best = (arena, offsets)
    arena, offsets = best
    for b in buffers:
        b.offset = offsets[id(b)]
    tensor_offset = {t: b.offset for b in buffers for t in b.tensors}
    return Plan(buffers, arena, tensor_offset, {i: b.offset for i, b in scratch.items()})
