"""Validate each operator and lower it to one kernel call with a constant parameter struct (our Prepare).

`lower_graph(graph, kernels)` returns one `Layer` per operator. Every check that fails raises CompileError
naming the operator, its index and the reason. `kernels` is "ref" (portable reference kernels) or "m4"
(Cortex-M4 DSP kernels where a fast path exists, reference kernels elsewhere).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from tinyperf.errors import CompileError

from . import quant
from .reader import Graph, Operator, Tensor, schema

BO = schema.BuiltinOperator
TT = schema.TensorType
SUPPORTED = ("CONV_2D", "DEPTHWISE_CONV_2D", "FULLY_CONNECTED", "AVERAGE_POOL_2D", "MAX_POOL_2D", "ADD",
             "RESHAPE", "SOFTMAX", "QUANTIZE", "DEQUANTIZE")
ACTIVATIONS = {quant.ACT_NONE: "NONE", quant.ACT_RELU: "RELU", quant.ACT_RELU6: "RELU6",
               quant.ACT_RELU_N1_TO_1: "RELU_N1_TO_1"}


@dataclass
class Layer:
    """One operator lowered to `kernel(&struct, inputs..., output[, scratch])`."""
    index: int
    op: str                                  # TFLite operator name, e.g. "CONV_2D"
    kernel: str                              # C function called
    struct_type: str = ""                    # C parameter struct type ("" for RESHAPE)
    fields: dict = field(default_factory=dict)   # struct field -> C initializer
    arrays: list = field(default_factory=list)   # (ctype, suffix, np.ndarray) const arrays in flash
    inputs: list = field(default_factory=list)   # tensor indices passed as inputs, in call order
    outputs: list = field(default_factory=list)  # tensor indices written
    macs: int = 0
    scratch_bytes: int = 0
    alias_input: int | None = None           # output may share the buffer of this input tensor
    detail: str = ""                         # one-line human summary (shapes, strides)

    @property
    def c_name(self) -> str:
        return f"tp_layer_{self.index:02d}_{self.op.lower()}"

    @property
    def weight_bytes(self) -> int:
        return sum(a.nbytes for _, _, a in self.arrays)


def _err(op: Operator, reason: str) -> CompileError:
    return CompileError(f"operator {op.index} ({op.name}): {reason}")


def dims4(shape) -> tuple[int, int, int, int]:
    s = tuple(int(d) for d in shape)
    if len(s) == 4:
        return s
    if len(s) == 2:
        return (s[0], 1, 1, s[1])
    if len(s) == 1:
        return (1, 1, 1, s[0])
    raise ValueError(f"shape {s}")


def c_dims(shape) -> str:
    n, h, w, c = dims4(shape)
    return f"{{{n}, {h}, {w}, {c}}}"


WEIGHT_CACHE_BYTES = 16384  # SRAM the M4 convolutions may use to cache a chunk of weights (bytes)


def pair_layout(weights: np.ndarray) -> np.ndarray:
    """[C_OUT, ...] int8 weights -> the M4 GEMM's pair layout (see tp_conv.h): channel pairs interleaved
    per group of 4 inputs, then both K%4 tails, zero padded to 4 bytes; an odd last channel as a plain row."""
    rows = weights.reshape(weights.shape[0], -1)
    n, k = rows.shape
    g, r = k // 4, k % 4
    stride = (2 * k + 3) // 4 * 4
    out = []
    for a in range(0, n - 1, 2):
        block = np.zeros(stride, np.int8)
        ga = rows[a, :4 * g].reshape(g, 4)
        gb = rows[a + 1, :4 * g].reshape(g, 4)
        block[:8 * g] = np.concatenate([ga, gb], axis=1).reshape(-1)
        block[8 * g:8 * g + r] = rows[a, 4 * g:]
        block[8 * g + r:8 * g + 2 * r] = rows[a + 1, 4 * g:]
        out.append(block)
    if n % 2:
        out.append(rows[n - 1].astype(np.int8))
    return np.concatenate(out) if out else np.zeros(0, np.int8)


def quad_layout(weights: np.ndarray) -> np.ndarray:
    """[N, K] int8 -> tp_fc_m4_s8's quad layout (see tp_fc.h): rows in groups of 4 interleaved per group of 4
    inputs, then the four K%4 tails padded to 4 bytes; the last N%4 rows plain."""
    n, k = weights.shape
    g = k // 4
    out = []
    for a in range(0, n - 3, 4):
        rows = weights[a:a + 4]
        body = rows[:, :4 * g].reshape(4, g, 4).transpose(1, 0, 2).reshape(-1)
        tail = rows[:, 4 * g:].reshape(-1)
        pad = np.zeros((-tail.size) % 4, np.int8)
        out += [body, tail, pad]
    out += [weights[n - n % 4:].reshape(-1)]
    return np.concatenate(out).astype(np.int8)


def tame_dead_channels(bias: np.ndarray | None, weights: np.ndarray, axis: int, mults, out_zp: int,
                       lo: int, hi: int) -> np.ndarray | None:
    """Channels whose weights are all zero output the constant clamp(requant(bias) + zp). Quantizers leave
    such channels with biases near +-2^30, beyond the M4 kernels' accumulator bound; replace each bias by
    sign * (2^30 - 1) or sign * 2^29 when that gives the same constant output (checked exactly), so the
    layer can still use the M4 kernels. Other channels are unchanged."""
    if bias is None:
        return None
    w = np.moveaxis(weights, axis, 0).reshape(weights.shape[axis], -1)
    out = bias.astype(np.int64).copy()
    for c in np.flatnonzero(~w.any(axis=1)):
        b = int(out[c])
        if abs(b) < 2**29:
            continue
        m, sh = mults[c]
        want = min(max(quant.multiply_by_quantized_multiplier(b, m, sh) + out_zp, lo), hi)
        for mag in (2**30 - 1, 2**29):
            cand = mag if b > 0 else -mag
            if min(max(quant.multiply_by_quantized_multiplier(cand, m, sh) + out_zp, lo), hi) == want:
                out[c] = cand
                break
    return out.astype(np.int32)


def worst_accumulator(bias: np.ndarray | None, weights: np.ndarray, axis: int) -> int:
    """max over output channels of |bias| + sum |w| * 255: a bound on |accumulator| for any input."""
    w = np.moveaxis(weights.astype(np.int64), axis, 0).reshape(weights.shape[axis], -1)
    b = np.zeros(w.shape[0], np.int64) if bias is None else np.abs(bias.astype(np.int64))
    return int((b + np.abs(w).sum(axis=1) * 255).max())


def fold_input_offset(bias: np.ndarray | None, weights: np.ndarray, input_offset: int) -> np.ndarray | None:
    """bias + input_offset * sum(w) per output channel (axis 0), for kernels that multiply raw inputs.

    Returns None (use the reference kernel) when the folded bias does not fit in int32 or the worst-case
    accumulator reaches 2^30 (the M4 kernels' SMMULR requantization needs |acc| < 2^30)."""
    rows = weights.reshape(weights.shape[0], -1).astype(np.int64)
    b = np.zeros(rows.shape[0], np.int64) if bias is None else bias.astype(np.int64)
    folded = b + input_offset * rows.sum(axis=1)
    if np.abs(folded).max() >= 2**31 or worst_accumulator(bias, weights, axis=0) >= 2**30:
        return None
    return folded.astype(np.int32)


class _Lowering:
    def __init__(self, graph: Graph, kernels: str):
        if kernels not in ("ref", "m4"):
            raise CompileError(f"kernel set {kernels!r} unknown; use 'ref' or 'm4'")
        self.g = graph
        self.kernels = kernels

    # -- checks -------------------------------------------------------------------------------------------
    def t(self, op: Operator, pos: int, outputs: bool = False) -> Tensor:
        ids = op.outputs if outputs else op.inputs
        if pos >= len(ids) or ids[pos] < 0:
            raise _err(op, f"missing {'output' if outputs else 'input'} {pos}")
        return self.g.tensors[ids[pos]]

    def int8_act(self, op: Operator, t: Tensor, role: str) -> None:
        if t.type != TT.INT8:
            raise _err(op, f"{role} tensor {t.index} '{t.name}' has type {t.type_name}; only INT8 is supported")
        if len(t.scales) != 1 or len(t.zero_points) != 1:
            raise _err(op, f"{role} tensor {t.index} '{t.name}' needs per-tensor quantization "
                       f"(found {len(t.scales)} scales)")
        if not t.scale > 0:
            raise _err(op, f"{role} tensor {t.index} '{t.name}' has scale {t.scale}; must be > 0")
        if t.data is not None and role != "input2" and role != "input1":
            raise _err(op, f"{role} tensor {t.index} '{t.name}' is constant; expected an activation")

    def const(self, op: Operator, t: Tensor, role: str, ttype: int) -> np.ndarray:
        if t.data is None:
            raise _err(op, f"{role} tensor {t.index} '{t.name}' is not constant; run-time {role}s "
                       "are not supported")
        if t.type != ttype:
            raise _err(op, f"{role} tensor {t.index} has type {t.type_name}; expected "
                       f"{'INT8' if ttype == TT.INT8 else 'INT32'}")
        return t.data

    def activation(self, op: Operator, out: Tensor) -> tuple[int, int, str]:
        act = int(getattr(op.options, "fusedActivationFunction", 0) or 0)
        if act not in ACTIVATIONS:
            raise _err(op, f"fused activation {act} not supported (NONE, RELU, RELU6, RELU_N1_TO_1)")
        lo, hi = quant.activation_range(act, out.scale, out.zero_point)
        return lo, hi, ACTIVATIONS[act]

    def weights_per_channel(self, op: Operator, w: Tensor, channels: int, axis: int) -> list[float]:
        if any(z != 0 for z in w.zero_points):
            raise _err(op, f"weights tensor {w.index} has non-zero zero points; int8 weights must be symmetric")
        if len(w.scales) == 1:
            return [w.scales[0]] * channels
        if len(w.scales) != channels or w.quantized_dimension != axis:
            raise _err(op, f"weights tensor {w.index} has {len(w.scales)} scales on axis "
                       f"{w.quantized_dimension}; expected 1 or {channels} on axis {axis}")
        return list(w.scales)

    def bias(self, op: Operator, channels: int) -> np.ndarray | None:
        if len(op.inputs) < 3 or op.inputs[2] < 0:
            return None
        b = self.g.tensors[op.inputs[2]]
        data = self.const(op, b, "bias", TT.INT32)
        if data.size != channels:
            raise _err(op, f"bias has {data.size} values; expected {channels}")
        return data.astype(np.int32).reshape(-1)

    def conv_geometry(self, op: Operator, x: Tensor, kh: int, kw: int, out: Tensor) -> dict:
        o = op.options
        if o.padding not in (schema.Padding.SAME, schema.Padding.VALID):
            raise _err(op, f"padding {o.padding} not supported")
        same = o.padding == schema.Padding.SAME
        sh, sw = int(o.strideH), int(o.strideW)
        dh, dw = int(getattr(o, "dilationHFactor", 1) or 1), int(getattr(o, "dilationWFactor", 1) or 1)
        if min(sh, sw, dh, dw) < 1:
            raise _err(op, f"strides ({sh}, {sw}) and dilations ({dh}, {dw}) must be >= 1")
        n, h, w, _ = x.shape
        oh = quant.compute_out_size(same, h, kh, sh, dh)
        ow = quant.compute_out_size(same, w, kw, sw, dw)
        if oh < 1 or ow < 1 or tuple(out.shape[1:3]) != (oh, ow) or out.shape[0] != n:
            raise _err(op, f"output shape {list(out.shape)} does not match the computed [{n}, {oh}, {ow}, C] "
                       f"(input {list(x.shape)}, filter {kh}x{kw}, stride {sh}x{sw}, dilation {dh}x{dw})")
        return dict(stride_h=sh, stride_w=sw, dilation_h=dh, dilation_w=dw,
                    pad_h=quant.compute_padding(sh, dh, h, kh, oh),
                    pad_w=quant.compute_padding(sw, dw, w, kw, ow), same=same)

    def rank4(self, op: Operator, t: Tensor, role: str) -> None:
        if len(t.shape) != 4:
            raise _err(op, f"{role} tensor {t.index} has rank {len(t.shape)}; expected 4 (NHWC)")

    # -- operators ----------------------------------------------------------------------------------------
    def lower(self, op: Operator) -> Layer:
        name = op.name
        if name not in SUPPORTED:
            raise _err(op, f"operator not supported; supported operators: {', '.join(SUPPORTED)}")
        if len(op.outputs) != 1:
            raise _err(op, f"{len(op.outputs)} outputs; expected 1")
        return getattr(self, "op_" + name.lower())(op)

    def _conv_common(self, op: Operator, depthwise: bool) -> tuple:
        x, w, out = self.t(op, 0), self.t(op, 1), self.t(op, 0, outputs=True)
        self.int8_act(op, x, "input")
        self.int8_act(op, out, "output")
        self.rank4(op, x, "input")
        self.rank4(op, out, "output")
        wdata = self.const(op, w, "weights", TT.INT8)
        if wdata.ndim != 4:
            raise _err(op, f"weights tensor has rank {wdata.ndim}; expected 4")
        out_c = out.shape[3]
        kh, kw = int(wdata.shape[1]), int(wdata.shape[2])
        geo = self.conv_geometry(op, x, kh, kw, out)
        scales = self.weights_per_channel(op, w, out_c, 3 if depthwise else 0)
        mults = quant.per_channel_multipliers(x.scale, scales, out.scale)
        lo, hi, act = self.activation(op, out)
        conv = (f"{{{geo['stride_h']}, {geo['stride_w']}, {geo['pad_h']}, {geo['pad_w']}, {geo['dilation_h']}, "
                f"{geo['dilation_w']}, {-x.zero_point}, {out.zero_point}, {lo}, {hi}}}")
        return x, wdata, out, geo, mults, conv, act

    def _quant_arrays(self, mults) -> list:
        return [("int32_t", "multiplier", np.array([m for m, _ in mults], dtype=np.int32)),
                ("int32_t", "shift", np.array([s for _, s in mults], dtype=np.int32))]

    def op_conv_2d(self, op: Operator) -> Layer:
        x, wdata, out, geo, mults, conv, act = self._conv_common(op, depthwise=False)
        out_c, kh, kw, in_c = wdata.shape
        if in_c != x.shape[3]:
            raise _err(op, f"grouped convolution (filter depth {in_c}, input depth {x.shape[3]}) not supported")
        if out_c != out.shape[3]:
            raise _err(op, f"filter has {out_c} output channels; output tensor has {out.shape[3]}")
        bias = self.bias(op, out_c)
        kernel = "tp_conv_ref_s8"
        weights = wdata.reshape(-1)
        scratch = 0
        folded = None
        if self.kernels == "m4":
            lo_, hi_ = quant.activation_range(int(op.options.fusedActivationFunction), out.scale, out.zero_point)
            tamed = tame_dead_channels(bias, wdata, 0, mults, out.zero_point, lo_, hi_)
            folded = fold_input_offset(tamed, wdata, -x.zero_point)
        if folded is not None:
            pointwise = kh == 1 and kw == 1 and geo["pad_h"] == 0 and geo["pad_w"] == 0
            kernel = "tp_conv_1x1_s8" if pointwise else "tp_conv_im2col_s8"
            bias = folded
            rows = wdata.reshape(out_c, -1)
            if not pointwise and rows.shape[1] % 4:   # im2col: K padded to 4 with zero weights
                rows = np.pad(rows, ((0, 0), (0, -rows.shape[1] % 4)))
            weights = pair_layout(rows)
            k = kh * kw * in_c
            kp = (k + 3) // 4 * 4
            scratch = 6 * kp + min(weights.size, max(WEIGHT_CACHE_BYTES, (2 * k + 3) // 4 * 4))
        fields = {"input": c_dims(x.shape), "filter": c_dims(wdata.shape), "output": c_dims(out.shape),
                  "conv": conv, "weights": "@weights", "bias": "@bias" if bias is not None else "NULL",
                  "multiplier": "@multiplier", "shift": "@shift", "scratch_bytes": str(scratch)}
        arrays = [("int8_t", "weights", weights)] + ([("int32_t", "bias", bias)] if bias is not None else [])
        n, oh, ow, _ = out.shape
        return Layer(op.index, op.name, kernel, "tp_conv_s8_t", fields, arrays + self._quant_arrays(mults),
                     [x.index], [out.index], macs=n * oh * ow * out_c * kh * kw * in_c, scratch_bytes=scratch,
                     detail=f"{kh}x{kw}/{geo['stride_h']} {'SAME' if geo['same'] else 'VALID'} {act} "
                            f"{list(x.shape)}->{list(out.shape)}")

    def op_depthwise_conv_2d(self, op: Operator) -> Layer:
        x, wdata, out, geo, mults, conv, act = self._conv_common(op, depthwise=True)
        _, kh, kw, out_c = wdata.shape
        in_c = x.shape[3]
        if wdata.shape[0] != 1 or out_c != out.shape[3] or out_c % in_c:
            raise _err(op, f"filter shape {list(wdata.shape)} does not fit input depth {in_c} and output "
                       f"depth {out.shape[3]}")
        dm = out_c // in_c
        opt_dm = int(getattr(op.options, "depthMultiplier", dm) or dm)
        if opt_dm != dm:
            raise _err(op, f"depth_multiplier option {opt_dm} disagrees with the shapes ({out_c}/{in_c})")
        bias = self.bias(op, out_c)
        kernel = "tp_dwconv_ref_s8"
        if self.kernels == "m4" and dm == 1 and geo["dilation_h"] == 1 and geo["dilation_w"] == 1:
            lo_, hi_ = quant.activation_range(int(op.options.fusedActivationFunction), out.scale, out.zero_point)
            tamed = tame_dead_channels(bias, wdata, 3, mults, out.zero_point, lo_, hi_)
            if worst_accumulator(tamed, wdata, axis=3) < 2**30:
                kernel, bias = "tp_dwconv_m4_s8", tamed
        fields = {"input": c_dims(x.shape), "filter": c_dims(wdata.shape), "output": c_dims(out.shape),
                  "conv": conv, "depth_multiplier": str(dm), "weights": "@weights",
                  "bias": "@bias" if bias is not None else "NULL", "multiplier": "@multiplier",
                  "shift": "@shift"}
        arrays = [("int8_t", "weights", wdata.reshape(-1))]
        arrays += [("int32_t", "bias", bias)] if bias is not None else []
        n, oh, ow, _ = out.shape
        return Layer(op.index, op.name, kernel, "tp_dwconv_s8_t", fields, arrays + self._quant_arrays(mults),
                     [x.index], [out.index], macs=n * oh * ow * out_c * kh * kw,
                     detail=f"{kh}x{kw}/{geo['stride_h']} {'SAME' if geo['same'] else 'VALID'} {act} "
                            f"{list(x.shape)}->{list(out.shape)}")

    def op_fully_connected(self, op: Operator) -> Layer:
        x, w, out = self.t(op, 0), self.t(op, 1), self.t(op, 0, outputs=True)
        self.int8_act(op, x, "input")
        self.int8_act(op, out, "output")
        wdata = self.const(op, w, "weights", TT.INT8)
        if wdata.ndim != 2:
            raise _err(op, f"weights tensor has rank {wdata.ndim}; expected 2")
        if getattr(op.options, "weightsFormat", 0):
            raise _err(op, "shuffled weights format not supported")
        out_depth, depth = (int(d) for d in wdata.shape)
        size = int(np.prod(x.shape))
        if size % depth:
            raise _err(op, f"input size {size} is not a multiple of the weights depth {depth}")
        batches = size // depth
        if int(np.prod(out.shape)) != batches * out_depth:
            raise _err(op, f"output shape {list(out.shape)} does not hold {batches}x{out_depth} values")
        scales = self.weights_per_channel(op, w, out_depth, 0)
        per_channel = len(w.scales) > 1
        if per_channel:
            mults = quant.per_channel_multipliers(x.scale, scales, out.scale)
        else:
            mults = [quant.per_tensor_fc_multiplier(x.scale, w.scales[0], out.scale)]
        bias = self.bias(op, out_depth)
        lo, hi, act = self.activation(op, out)
        kernel, weights = "tp_fc_ref_s8", wdata.reshape(-1)
        folded = None
        if self.kernels == "m4":
            tamed = tame_dead_channels(bias, wdata, 0, mults * out_depth if not per_channel else mults,
                                       out.zero_point, lo, hi)
            folded = fold_input_offset(tamed, wdata, -x.zero_point)
        if folded is not None:
            kernel, bias, weights = "tp_fc_m4_s8", folded, quad_layout(wdata)
        fields = {"batches": str(batches), "accum_depth": str(depth), "output_depth": str(out_depth),
                  "input_offset": str(-x.zero_point), "weights_offset": "0", "output_offset": str(out.zero_point),
                  "act_min": str(lo), "act_max": str(hi), "per_channel": str(int(per_channel)),
                  "weights": "@weights", "bias": "@bias" if bias is not None else "NULL",
                  "multiplier": "@multiplier", "shift": "@shift"}
        arrays = [("int8_t", "weights", weights)] + ([("int32_t", "bias", bias)] if bias is not None else [])
        return Layer(op.index, op.name, kernel, "tp_fc_s8_t", fields, arrays + self._quant_arrays(mults),
                     [x.index], [out.index], macs=batches * out_depth * depth,
                     detail=f"{depth}->{out_depth} x{batches} {act}")

    def _pool(self, op: Operator, kernel: str) -> Layer:
        x, out = self.t(op, 0), self.t(op, 0, outputs=True)
        self.int8_act(op, x, "input")
        self.int8_act(op, out, "output")
        self.rank4(op, x, "input")
        self.rank4(op, out, "output")
        if x.scale != out.scale or x.zero_point != out.zero_point:
            raise _err(op, f"input and output quantization differ (scale {x.scale} vs {out.scale}, zero point "
                       f"{x.zero_point} vs {out.zero_point}); pooling does not rescale")
        o = op.options
        fh, fw = int(o.filterHeight), int(o.filterWidth)
        if fh < 1 or fw < 1:
            raise _err(op, f"filter {fh}x{fw} must be >= 1x1")
        geo = self.conv_geometry(op, x, fh, fw, out)
        if out.shape[3] != x.shape[3]:
            raise _err(op, "output depth differs from input depth")
        lo, hi, act = self.activation(op, out)
        fields = {"input": c_dims(x.shape), "output": c_dims(out.shape), "filter_h": str(fh),
                  "filter_w": str(fw), "stride_h": str(geo["stride_h"]), "stride_w": str(geo["stride_w"]),
                  "pad_h": str(geo["pad_h"]), "pad_w": str(geo["pad_w"]), "act_min": str(lo), "act_max": str(hi)}
        return Layer(op.index, op.name, kernel, "tp_pool_s8_t", fields, [], [x.index], [out.index],
                     detail=f"{fh}x{fw}/{geo['stride_h']} {'SAME' if geo['same'] else 'VALID'} {act} "
                            f"{list(x.shape)}->{list(out.shape)}")

    def op_average_pool_2d(self, op: Operator) -> Layer:
        return self._pool(op, "tp_avgpool_ref_s8")

    def op_max_pool_2d(self, op: Operator) -> Layer:
        return self._pool(op, "tp_maxpool_ref_s8")

    def op_add(self, op: Operator) -> Layer:
        a, b, out = self.t(op, 0), self.t(op, 1), self.t(op, 0, outputs=True)
        self.int8_act(op, a, "input1")
        self.int8_act(op, b, "input2")
        self.int8_act(op, out, "output")
        try:
            p = quant.add_params(a.scale, b.scale, out.scale)
        except ValueError as e:
            raise _err(op, f"input/output scales {a.scale}, {b.scale}, {out.scale} give {e}") from None
        lo, hi, act = self.activation(op, out)
        size = int(np.prod(out.shape))
        fields = {"size": str(size), "broadcast": "0", "input1_offset": str(-a.zero_point),
                  "input2_offset": str(-b.zero_point), "output_offset": str(out.zero_point),
                  "left_shift": str(p["left_shift"]),
                  "input1_multiplier": str(p["input1_multiplier"]), "input1_shift": str(p["input1_shift"]),
                  "input2_multiplier": str(p["input2_multiplier"]), "input2_shift": str(p["input2_shift"]),
                  "output_multiplier": str(p["output_multiplier"]), "output_shift": str(p["output_shift"]),
                  "act_min": str(lo), "act_max": str(hi)}
        alias = None
        if tuple(a.shape) != tuple(b.shape) or tuple(a.shape) != tuple(out.shape):
            rank = len(out.shape)
            if rank > 4 or len(a.shape) > rank or len(b.shape) > rank:
                raise _err(op, f"broadcast of {list(a.shape)} and {list(b.shape)} to {list(out.shape)} "
                           "not supported (rank > 4)")
            od = [1] * (4 - rank) + list(out.shape)
            fields.update(broadcast="1", out_dims="{%s}" % ", ".join(map(str, od)),
                          in1_strides=self._bstrides(op, a.shape, od), in2_strides=self._bstrides(op, b.shape, od))
        else:
            alias = a.index
        arrays, inputs = [], []
        for role, t in (("input1", a), ("input2", b)):
            if t.data is not None:
                arrays.append(("int8_t", role, t.data.reshape(-1).astype(np.int8)))
                inputs.append("@" + role)
                alias = None if t is a else alias
            else:
                inputs.append(t.index)
        kernel, scratch = "tp_add_ref_s8", 0
        if self.kernels == "m4" and fields["broadcast"] == "0":
            kernel, scratch = "tp_add_lut_s8", 512 * 4
            arrays.append(("int32_t", "lut1", np.array(quant.add_input_lut(
                a.zero_point, p["input1_multiplier"], p["input1_shift"]), dtype=np.int32)))
            arrays.append(("int32_t", "lut2", np.array(quant.add_input_lut(
                b.zero_point, p["input2_multiplier"], p["input2_shift"]), dtype=np.int32)))
            fields.update(lut1="@lut1", lut2="@lut2")
        return Layer(op.index, op.name, kernel, "tp_add_s8_t", fields, arrays, inputs, [out.index],
                     alias_input=alias, scratch_bytes=scratch, detail=f"{list(a.shape)}+{list(b.shape)} {act}")

    def _bstrides(self, op: Operator, shape, out_dims) -> str:
        s = [1] * (4 - len(shape)) + list(shape)
        strides, acc = [0] * 4, 1
        for i in range(3, -1, -1):
            if s[i] == out_dims[i]:
                strides[i] = acc if s[i] > 1 else 0
            elif s[i] == 1:
                strides[i] = 0
            else:
                raise _err(op, f"shape {list(shape)} cannot broadcast to {out_dims}")
            acc *= s[i]
        return "{%s}" % ", ".join(map(str, strides))

    def op_reshape(self, op: Operator) -> Layer:
        x, out = self.t(op, 0), self.t(op, 0, outputs=True)
        if x.type != out.type:
            raise _err(op, f"input type {x.type_name} differs from output type {out.type_name}")
        if x.type not in (TT.INT8, TT.FLOAT32):
            raise _err(op, f"tensor type {x.type_name} not supported (INT8, FLOAT32)")
        if x.nbytes != out.nbytes:
            raise _err(op, f"input {list(x.shape)} and output {list(out.shape)} differ in size")
        if x.data is not None:
            raise _err(op, "reshape of a constant tensor not supported")
        return Layer(op.index, op.name, "", "", {}, [], [x.index], [out.index], alias_input=x.index,
                     detail=f"{list(x.shape)}->{list(out.shape)} (in place)")

    def op_softmax(self, op: Operator) -> Layer:
        x, out = self.t(op, 0), self.t(op, 0, outputs=True)
        self.int8_act(op, x, "input")
        self.int8_act(op, out, "output")
        if out.zero_point != -128 or np.float32(out.scale) != np.float32(1.0 / 256):
            raise _err(op, f"int8 softmax output must have scale 1/256 and zero point -128 (found {out.scale}, "
                       f"{out.zero_point})")
        beta = float(getattr(op.options, "beta", 1.0))
        p = quant.softmax_params(beta, x.scale)
        depth = int(x.shape[-1])
        rows = int(np.prod(x.shape)) // depth
        fields = {"rows": str(rows), "depth": str(depth), "input_multiplier": str(p["input_multiplier"]),
                  "input_left_shift": str(p["input_left_shift"]), "diff_min": str(p["diff_min"])}
        return Layer(op.index, op.name, "tp_softmax_ref_s8", "tp_softmax_s8_t", fields, [], [x.index],
                     [out.index], detail=f"{rows}x{depth} beta {beta}")

    def op_quantize(self, op: Operator) -> Layer:
        x, out = self.t(op, 0), self.t(op, 0, outputs=True)
        self.int8_act(op, out, "output")
        size = int(np.prod(out.shape))
        fields = {"size": str(size), "scale": _c_float(out.scale), "zero_point": str(out.zero_point)}
        if x.type == TT.FLOAT32:
            kernel = "tp_quantize_ref_f32_s8"
        elif x.type == TT.INT8:
            self.int8_act(op, x, "input")
            m, s = quant.quantize_multiplier(float(x.scale) / float(out.scale))
            fields.update(input_zero_point=str(x.zero_point), multiplier=str(m), shift=str(s))
            kernel = "tp_quantize_ref_s8_s8"
        else:
            raise _err(op, f"input type {x.type_name} not supported (FLOAT32 or INT8 -> INT8)")
        return Layer(op.index, op.name, kernel, "tp_quantize_s8_t", fields, [], [x.index], [out.index],
                     detail=f"{x.type_name}->INT8 {size}")

    def op_dequantize(self, op: Operator) -> Layer:
        x, out = self.t(op, 0), self.t(op, 0, outputs=True)
        self.int8_act(op, x, "input")
        if out.type != TT.FLOAT32:
            raise _err(op, f"output type {out.type_name} not supported (INT8 -> FLOAT32)")
        size = int(np.prod(x.shape))
        fields = {"size": str(size), "scale": _c_float(x.scale), "zero_point": str(x.zero_point)}
        return Layer(op.index, op.name, "tp_dequantize_ref_s8_f32", "tp_quantize_s8_t", fields, [], [x.index],
                     [out.index], detail=f"INT8->FLOAT32 {size}")


def _c_float(x: float) -> str:
    """A C float literal that round-trips the float32 value exactly."""
    return f"{float(np.float32(x)).hex()}f"


def lower_graph(graph: Graph, kernels: str = "m4") -> list[Layer]:
    lw = _Lowering(graph, kernels)
    return [lw.lower(op) for op in graph.operators]
