"""Read a .tflite flatbuffer into plain Python objects (one subgraph, tensors, operators).

The schema is the one shipped in the tflite-micro package (object API `ModelT`), so the reader follows the
same schema version as the reference interpreter we compare against.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from tflite_micro.tensorflow.lite.micro.python import schema_py_generated as schema
from tinyperf.errors import CompileError

OP_NAMES = {v: k for k, v in vars(schema.BuiltinOperator).items() if not k.startswith("_")}
TYPE_NAMES = {v: k for k, v in vars(schema.TensorType).items() if not k.startswith("_")}
NUMPY_TYPES = {
    schema.TensorType.FLOAT32: np.float32, schema.TensorType.INT32: np.int32,
    schema.TensorType.INT8: np.int8, schema.TensorType.UINT8: np.uint8,
    schema.TensorType.INT16: np.int16, schema.TensorType.INT64: np.int64,
}


@dataclass
class Tensor:
    """One tensor of the subgraph. `data` is set for constant tensors (weights, biases, shapes)."""
    index: int
    name: str
    shape: tuple[int, ...]
    type: int
    scales: tuple[float, ...] = ()       # float32 values, as stored
    zero_points: tuple[int, ...] = ()
    quantized_dimension: int = 0
    data: np.ndarray | None = None

    @property
    def type_name(self) -> str:
        return TYPE_NAMES.get(self.type, str(self.type))

    @property
    def nbytes(self) -> int:
        n = int(np.prod(self.shape)) if self.shape else 1
        return n * np.dtype(NUMPY_TYPES.get(self.type, np.int8)).itemsize

    @property
    def scale(self) -> float:
        return self.scales[0] if self.scales else 0.0

    @property
    def zero_point(self) -> int:
        return self.zero_points[0] if self.zero_points else 0


@dataclass
class Operator:
    index: int
    code: int
    version: int
    inputs: list[int]
    outputs: list[int]
    options: object = None
    custom_name: str = ""

    @property
    def name(self) -> str:
        return self.custom_name or OP_NAMES.get(self.code, f"OP{self.code}")


@dataclass
class Graph:
    tensors: list[Tensor]
    operators: list[Operator]
    inputs: list[int]
    outputs: list[int]
    md5: str
    description: str = ""
    extra: dict = field(default_factory=dict)


def read_model(path_or_bytes: str | Path | bytes) -> Graph:
    """Parse a .tflite file (or its bytes). Raises CompileError for anything that is not a TFLite model."""
    data = path_or_bytes if isinstance(path_or_bytes, (bytes, bytearray)) else Path(path_or_bytes).read_bytes()
    if len(data) < 8 or data[4:8] != b"TFL3":
        raise CompileError(f"not a TFLite flatbuffer (file identifier {bytes(data[4:8])!r}, expected b'TFL3'); "
                           "pass a .tflite model")
    try:
        model = schema.ModelT.InitFromPackedBuf(bytearray(data), 0)
    except Exception as e:  # flatbuffers raises assorted errors on corrupt input
        raise CompileError(f"corrupt .tflite flatbuffer: {e}") from e
    if not model.subgraphs or len(model.subgraphs) != 1:
        raise CompileError(f"model has {len(model.subgraphs or [])} subgraphs; only single-subgraph models "
                           "are supported")
    sg = model.subgraphs[0]
    buffers = model.buffers or []
    tensors = []
    for i, t in enumerate(sg.tensors or []):
        q = t.quantization
        scales = tuple(float(s) for s in (q.scale if q is not None and q.scale is not None else []))
        zps = tuple(int(z) for z in (q.zeroPoint if q is not None and q.zeroPoint is not None else []))
        qdim = int(q.quantizedDimension) if q is not None else 0
        shape = tuple(int(d) for d in (t.shape if t.shape is not None else []))
        arr = None
        if t.buffer and t.buffer < len(buffers):
            buf = buffers[t.buffer]
            raw = buf.data
            if raw is None and getattr(buf, "offset", 0) > 1:
                raw = data[buf.offset:buf.offset + buf.size]
            if raw is not None and len(raw):
                dtype = NUMPY_TYPES.get(t.type)
                if dtype is None:
                    raise CompileError(f"tensor {i} ({_name(t)}) has constant data of unsupported type "
                                       f"{TYPE_NAMES.get(t.type, t.type)}")
                arr = np.frombuffer(bytes(bytearray(raw)), dtype=np.dtype(dtype).newbyteorder("<"))
                arr = arr.reshape(shape) if shape else arr
        tensors.append(Tensor(i, _name(t), shape, int(t.type), scales, zps, qdim, arr))
    operators = []
    for i, op in enumerate(sg.operators or []):
        if op.opcodeIndex >= len(model.operatorCodes or []):
            raise CompileError(f"operator {i}: opcode index {op.opcodeIndex} out of range")
        oc = model.operatorCodes[op.opcodeIndex]
        code = max(int(oc.builtinCode), int(oc.deprecatedBuiltinCode))
        custom = oc.customCode.decode() if code == schema.BuiltinOperator.CUSTOM and oc.customCode else ""
        operators.append(Operator(i, code, int(oc.version), [int(x) for x in op.inputs],
                                  [int(x) for x in op.outputs], op.builtinOptions,
                                  f"CUSTOM:{custom}" if custom else ""))
    desc = model.description.decode(errors="replace") if isinstance(model.description, bytes) else ""
    return Graph(tensors, operators, [int(x) for x in sg.inputs], [int(x) for x in sg.outputs],
                 hashlib.md5(bytes(data)).hexdigest(), desc)


def _name(t) -> str:
    n = t.name
    return n.decode(errors="replace") if isinstance(n, bytes) else (n or "")
