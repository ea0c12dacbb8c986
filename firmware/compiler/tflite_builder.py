"""Build small .tflite models (one operator, or a chain) with the schema's object API.

Used by the per-operator tests and handy for trying a kernel on a shape:

    x = TensorSpec((1, 8, 8, 4), "int8", 0.05, -3)
    w = TensorSpec((6, 3, 3, 4), "int8", [0.01] * 6, [0] * 6, data=weights)
    y = TensorSpec((1, 8, 8, 6), "int8", 0.1, 2)
    data = single_op_model("CONV_2D", [x, w, b], [y], conv2d_options(padding="SAME"))
"""

from __future__ import annotations

from dataclasses import dataclass

import flatbuffers
import numpy as np

from .reader import schema

TYPES = {"int8": schema.TensorType.INT8, "int32": schema.TensorType.INT32,
         "float32": schema.TensorType.FLOAT32, "int16": schema.TensorType.INT16,
         "uint8": schema.TensorType.UINT8}
ACT = {"NONE": 0, "RELU": 1, "RELU_N1_TO_1": 2, "RELU6": 3}


@dataclass
class TensorSpec:
    shape: tuple
    dtype: str = "int8"
    scale: float | list | None = None       # None: no quantization parameters
    zero_point: int | list | None = 0
    data: np.ndarray | None = None          # constant tensor contents
    quantized_dimension: int = 0


def _options(name: str, **kw):
    cls = getattr(schema, name + "T")
    o = cls()
    for k, v in kw.items():
        if not hasattr(o, k):
            raise AttributeError(f"{name} has no field {k}")
        setattr(o, k, v)
    return getattr(schema.BuiltinOptions, name), o


def conv2d_options(padding="SAME", stride=(1, 1), dilation=(1, 1), activation="NONE"):
    return _options("Conv2DOptions", padding=getattr(schema.Padding, padding), strideH=stride[0],
                    strideW=stride[1], dilationHFactor=dilation[0], dilationWFactor=dilation[1],
                    fusedActivationFunction=ACT[activation])


def depthwise_options(padding="SAME", stride=(1, 1), dilation=(1, 1), depth_multiplier=1, activation="NONE"):
    return _options("DepthwiseConv2DOptions", padding=getattr(schema.Padding, padding), strideH=stride[0],
                    strideW=stride[1], dilationHFactor=dilation[0], dilationWFactor=dilation[1],
                    depthMultiplier=depth_multiplier, fusedActivationFunction=ACT[activation])


def fc_options(activation="NONE", keep_num_dims=False):
    return _options("FullyConnectedOptions", fusedActivationFunction=ACT[activation], keepNumDims=keep_num_dims)


def pool_options(filter=(2, 2), stride=(2, 2), padding="VALID", activation="NONE"):
    return _options("Pool2DOptions", padding=getattr(schema.Padding, padding), strideH=stride[0],
                    strideW=stride[1], filterHeight=filter[0], filterWidth=filter[1],
                    fusedActivationFunction=ACT[activation])


def add_options(activation="NONE"):
    return _options("AddOptions", fusedActivationFunction=ACT[activation])


def softmax_options(beta=1.0):
    return _options("SoftmaxOptions", beta=beta)


def reshape_options(new_shape):
    return _options("ReshapeOptions", newShape=list(new_shape))


def no_options(name: str):
    return _options(name)


def _tensor(spec: TensorSpec, index: int, buffer: int):
    t = schema.TensorT()
    t.shape = np.array(spec.shape, dtype=np.int32)
    t.type = TYPES[spec.dtype]
    t.buffer = buffer
    t.name = f"t{index}"
    if spec.scale is not None:
        q = schema.QuantizationParametersT()
        q.scale = np.atleast_1d(np.array(spec.scale, dtype=np.float32))
        q.zeroPoint = np.atleast_1d(np.array(spec.zero_point, dtype=np.int64))
        q.quantizedDimension = spec.quantized_dimension
        t.quantization = q
    return t


def chain_model(ops: list[tuple[str, list[int], list[int], tuple | None]], tensors: list[TensorSpec],
                inputs: list[int], outputs: list[int]) -> bytes:
    """A model with the given tensors and operators (op name, input ids, output ids, (options_type, options))."""
    model = schema.ModelT()
    model.version = 3
    model.description = "tinyperf test model"
    names = []
    for name, _, _, _ in ops:
        if name not in names:
            names.append(name)
    model.operatorCodes = []
    for name in names:
        oc = schema.OperatorCodeT()
        code = getattr(schema.BuiltinOperator, name)
        oc.builtinCode = code
        oc.deprecatedBuiltinCode = min(code, 127)
        oc.version = 1
        model.operatorCodes.append(oc)
    buffers = [schema.BufferT()]
    sg_tensors = []
    for i, spec in enumerate(tensors):
        buf = 0
        if spec.data is not None:
            b = schema.BufferT()
            arr = np.ascontiguousarray(np.asarray(spec.data, dtype={"int8": np.int8, "int32": np.int32,
                                                                     "float32": np.float32,
                                                                     "int16": np.int16,
                                                                     "uint8": np.uint8}[spec.dtype]))
            b.data = np.frombuffer(arr.astype(arr.dtype.newbyteorder("<")).tobytes(), dtype=np.uint8)
            buffers.append(b)
            buf = len(buffers) - 1
        sg_tensors.append(_tensor(spec, i, buf))
    sg = schema.SubGraphT()
    sg.tensors = sg_tensors
    sg.inputs = np.array(inputs, dtype=np.int32)
    sg.outputs = np.array(outputs, dtype=np.int32)
    sg.operators = []
    for name, ins, outs, opts in ops:
        op = schema.OperatorT()
        op.opcodeIndex = names.index(name)
        op.inputs = np.array(ins, dtype=np.int32)
        op.outputs = np.array(outs, dtype=np.int32)
        if opts is not None:
            op.builtinOptionsType, op.builtinOptions = opts
        sg.operators.append(op)
    model.subgraphs = [sg]
    model.buffers = buffers
    builder = flatbuffers.Builder(1 << 16)
    builder.Finish(model.Pack(builder), file_identifier=b"TFL3")
    return bytes(builder.Output())


def single_op_model(op_name: str, inputs: list[TensorSpec | None], outputs: list[TensorSpec],
                    options=None) -> bytes:
    """One operator; constant inputs (spec.data set) become buffers, the others graph inputs.
    A None input is an omitted optional input (index -1)."""
    tensors, in_ids, graph_in = [], [], []
    for spec in inputs:
        if spec is None:
            in_ids.append(-1)
            continue
        tensors.append(spec)
        in_ids.append(len(tensors) - 1)
        if spec.data is None:
            graph_in.append(len(tensors) - 1)
    out_ids = []
    for spec in outputs:
        tensors.append(spec)
        out_ids.append(len(tensors) - 1)
    return chain_model([(op_name, in_ids, out_ids, options)], tensors, graph_in, out_ids)
