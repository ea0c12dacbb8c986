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


# SRAM the M4 convolutions may use to cache a chunk of weights (bytes). 24 KB: fewer chunks than 16 KB for
# the big vww01/ic01 layers without raising their arena peak (it is elsewhere); 28 KB / 40 KB gain 0.5 % /
# 1.4 % more on ic01 but raise its arena by 1.4 / 5.5 KB.
WEIGHT_CACHE_BYTES = 24576


def quad_blob(rows: np.ndarray, bias: np.ndarray, params: np.ndarray) -> np.ndarray:
    """[C_OUT, K] int8 weight rows (K % 4 == 0), folded int32 bias, [C_OUT, 3] requantization words (see
    requant_params) -> the M4 GEMM's quad blob (see tp_m4_gemm.h) as bytes: per quad of channels 2 * bias,
    the int8 weights (per group of 4 inputs the 4 bytes of each of the 4 channels; K padded to 8; the kernel
    expands them to doubled int16 in its SRAM cache), then {m, c, r} per channel."""
    n, k = rows.shape
    kq = (k + 7) // 8 * 8
    nq = (n + 3) // 4
    w = np.zeros((4 * nq, kq), np.int8)
    w[:n, :k] = rows
    b = np.zeros(4 * nq, np.int64)
    b[:n] = bias
    p = np.zeros((4 * nq, 3), np.int64)
    p[:, 2] = 1
    p[:n] = params
    wq = w.reshape(nq, 4, kq // 4, 4).transpose(0, 2, 1, 3)   # [quad, group, channel, input]
    out = []
    for q in range(nq):
        out += [(2 * b[4 * q:4 * q + 4]).astype("<i4").tobytes(), wq[q].tobytes(),
                p[4 * q:4 * q + 4].astype("<i4").tobytes()]
    return np.frombuffer(b"".join(out), np.int8).copy()


def requant_params(rows: np.ndarray, folded: np.ndarray, mults, out_zp: int,
                   dead_out) -> tuple[np.ndarray, int]:
    """{m, c, r} per channel for the quad blob, and the layer's requantization form (tp_m4_gemm.h TP_RQ_*:
    0 folded, 1 unfolded, 2 nosign). r = -shift, c = 2^(r-1) (0 for r = 0). Folded (the default): c also
    holds out_zp * 2^r, so the kernel adds no offset; a dead channel (zero weights) gets {0, its output -
    sign of its accumulator, 0}. Nosign: folded with out_zp = -128, the kernel adds no sign term (a
    negative accumulator gives -128 either way), a dead channel gets {0, its output, 0}. Unfolded when a
    live channel has shift 0 (its rounding term must be clamped at 0) or when folding could overflow int32
    (|v| + c + 128 * 2^r >= 2^31, v the SMMULR result). Channels with shift > 0 get placeholders {0, 0, 1}:
    the kernel recomputes them with the op's multiplier/shift."""
    dead = ~rows.any(axis=1)
    bound = np.abs(folded.astype(np.int64)) + 128 * np.abs(rows.astype(np.int64)).sum(axis=1)   # |acc|
    unfolded = False
    for c, (m, sh) in enumerate(mults):
        if not dead[c] and sh <= 0:
            v = (int(bound[c]) * m >> 31) + 1
            unfolded |= sh == 0 or v + (1 << (-sh - 1)) + 1 + (128 << -sh) >= 2**31
    nosign = not unfolded and out_zp == -128
    params = np.zeros((rows.shape[0], 3), np.int64)
    params[:, 2] = 1
    for c, (m, sh) in enumerate(mults):
        if sh > 0:
            continue
        r = -sh
        rnd = (1 << (r - 1)) if r else 0
        if unfolded:
            params[c] = (m, rnd, r)
        elif dead[c]:
            params[c] = (0, dead_out[c] + (1 if folded[c] < 0 and not nosign else 0), 0)
        else:
            params[c] = (m, rnd + (out_zp << r), r)
    return params, 1 if unfolded else 2 if nosign else 0


def conv_live_channels(rows: np.ndarray) -> np.ndarray:
    """The channels the M4 GEMM computes: all, or only the live ones (nonzero weights) when skipping the
    dead ones pays: the quads saved (~K + 95 cycles per pixel pair each) against storing each live output
    to its channel (~12 cycles per pixel pair) and filling the dead ones."""
    n, k = rows.shape
    live = np.flatnonzero(rows.any(axis=1))
    saved = (n + 3) // 4 - (live.size + 3) // 4
    return live if saved * (k + 95) > 12 * live.size + n else np.arange(n)


def conv_blob(rows: np.ndarray, folded: np.ndarray, mults, out_zp: int, dead_out,
              live: np.ndarray) -> np.ndarray:
    """The M4 convolutions' weight blob (see tp_conv.h): int32 number of computed channels (`live`), int32
    the requantization form (requant_params), and when the other channels are skipped (all
    weights zero: constant output dead_out[c]) the int8 output of every channel (padded to 4 bytes) and the
    uint16 channel of each live one (padded to 4 bytes); then the quad blob of the live channels."""
    params, mode = requant_params(rows[live], folded[live], [mults[c] for c in live], out_zp,
                                  [dead_out[c] for c in live])
    head = [np.array([live.size, mode], "<i4").tobytes()]
    if live.size < rows.shape[0]:
        fill = np.zeros(-(-rows.shape[0] // 4) * 4, np.int8)
        fill[:rows.shape[0]] = dead_out
        head += [fill.tobytes(), np.pad(live, (0, live.size % 2)).astype("<u2").tobytes()]
    blob = quad_blob(rows[live], folded[live], params)
    return np.concatenate([np.frombuffer(b"".join(head), np.int8), blob])


def _pair16(lo: np.ndarray, hi: np.ndarray) -> np.ndarray:
    """Two int16 values per int32 word (lo in the low half)."""
    return (lo & 0xFFFF) | (hi & 0xFFFF) << 16


def smallc_quad(out_c: int, groups: int) -> bool:
    """tp_conv_smallc_s8 in channel quads (4-channel blocks; their run of up to 10 blocks fits the 1 KB
    I-cache), else in channel pairs."""
    return out_c % 4 == 0 and groups <= 10


def smallc_layout(weights: np.ndarray, folded: np.ndarray, worst: np.ndarray, mults, out_zp: int,
                  lo: int, hi: int) -> np.ndarray | None:
    """[C_OUT, KH, KW, C_IN] weights + folded bias -> tp_conv_smallc_s8's packed int32 words (layout in
    tp_conv_smallc.h), or None beyond its limits: > 16 tap groups, an output shift >= 0, or an SMMLAR
    result that could overflow (|rq_const| + max |SRDHM| >= 2^31; worst = per-channel |acc| bound)."""
    out_c, kh, kw, in_c = weights.shape
    run = kw * in_c
    rg, t = run // 4, run % 4
    rows = weights.reshape(out_c, kh, run).astype(np.int64)
    body = rows[:, :, :4 * rg].reshape(out_c, kh * rg * 4)
    tails = rows[:, :, 4 * rg:].reshape(out_c, kh * t)                    # the row tails, row after row
    ordered = np.concatenate([body, tails, np.zeros((out_c, -kh * t % 4), np.int64)], axis=1)   # [C_OUT, 4G]
    groups = ordered.shape[1] // 4
    if groups > 16 or any(s > -1 for _, s in mults):
        return None
    quad = smallc_quad(out_c, groups)
    prm = np.zeros((out_c + 1, 4), np.int64)       # bias2, multiplier, rq_const, rq_shift
    prm[out_c, 3] = 1                              # (a missing odd partner: zeros, shift 1)
    w2 = np.zeros((out_c + 1, groups, 4), np.int64)
    for c in range(out_c):
        m, r = mults[c][0], -mults[c][1]
        cst = (1 << (r - 1)) + (out_zp - (lo if hi - lo < 255 else 0)) * (1 << r)   # full range: SSAT
        if abs(cst) + (int(worst[c]) * m >> 31) + 2 >= 2**31:
            return None
        prm[c] = (2 * int(folded[c]), m, cst, r)
        w2[c] = 2 * ordered[c].reshape(groups, 4)
    lo_pairs, hi_pairs = _pair16(w2[:, :, 0], w2[:, :, 2]), _pair16(w2[:, :, 1], w2[:, :, 3])   # [C_OUT+1, G]
    pairs = []
    for a in range(0, out_c, 4 if quad else 2):
        ch = list(range(a, a + 4)) if quad else [a, min(a + 1, out_c)]
        if quad:
            words = np.concatenate([lo_pairs[ch].T, hi_pairs[ch].T], axis=1)              # [G, 8]
            pairs += [np.repeat(prm[ch, 0], 2), words.reshape(-1), prm[ch, 1:].reshape(-1)]
        else:
            words = np.stack([lo_pairs[ch[0]], lo_pairs[ch[1]], hi_pairs[ch[0]], hi_pairs[ch[1]]], axis=1)
            pairs += [prm[ch, 0], words.reshape(-1), prm[ch, 1:].T.reshape(-1)]
    packed = np.concatenate(pairs)
    return np.where(packed >= 2**31, packed - 2**32, packed).astype(np.int32)


def pair16_layout(weights: np.ndarray) -> np.ndarray | None:
    """[N, K] int8 -> tp_fc_m4_s8's pair16 layout (see tp_fc.h): rows padded to a multiple of 4 with zero
    rows; per quad of rows (a, b, c, d) and group of 4 inputs, the int16 h = p + 256 q of the row pairs
    (p, q) = (a, b) and (c, d) for inputs (0, 2), (1, 3); then the K % 4 tails of a, b, c, d as int8.

    None when the kernel cannot be exact: some h outside int16 (q = -128 with p < 0) or a q row with
    sum |q| * 128 >= 2^23 (the kernel recovers q.x from 256 (q.x) mod 2^32)."""
    n, k = weights.shape
    g = k // 4
    if g == 0:
        return None
    w = np.zeros((-(-n // 4) * 4, k), np.int64)
    w[:n] = weights
    p, q = w[0::2], w[1::2]                                       # row pairs
    if (np.abs(q).sum(axis=1) * 128 >= 2**23).any() or ((q[:, :4 * g] == -128) & (p[:, :4 * g] < 0)).any():
        return None
    h = (p[:, :4 * g] + 256 * q[:, :4 * g]).reshape(-1, g, 4)[:, :, [0, 2, 1, 3]]   # [pairs, g, 4]
    quads = w.shape[0] // 4
    h = np.ascontiguousarray(h, "<i2").view(np.int8)               # [pairs, g, 8 bytes]
    body = h.reshape(quads, 2, g, 8).transpose(0, 2, 1, 3).reshape(quads, 16 * g)
    tails = w[:, 4 * g:].astype(np.int8).reshape(quads, 4 * (k - 4 * g))
    return np.concatenate([body, tails], axis=1).reshape(-1)


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


DW3X3_ROWS = 10      # input rows per band of tp_dw3x3_s8 (DW_NR)
DW3X3_CHANNELS = 4   # channels per band fill (DW_G)


def dw3x3_fits(kh: int, kw: int, geo: dict, mults, out_zp: int, lo: int, hi: int, out_shape) -> bool:
    """tp_dw3x3_s8's preconditions beyond tp_dwconv_m4_s8's (accumulator bound checked by the caller): 3x3,
    equal strides 1 or 2, at most 64 outputs along the pair axis, activation range [-128, 127] (SSAT clamp),
    every shift in [-23, -1] and |2^(r-1) + out_zp * 2^r| < 2^30 (r = -shift), the constant its
    requantization folds rounding and offset into."""
    if (kh, kw) != (3, 3) or geo["stride_h"] != geo["stride_w"] or geo["stride_h"] not in (1, 2):
        return False
    if (lo, hi) != (-128, 127) or max(out_shape[1], out_shape[2]) > 64:
        return False
    return all(-23 <= s <= -1 and abs((1 << (-s - 1)) + out_zp * (1 << -s)) < 2**30 for _, s in mults)


def _dw3x3_transposed(out_shape) -> bool:
    """tp_dw3x3_s8 pairs outputs along the longer output axis: H when OH > OW (the image read transposed)."""
    return out_shape[1] > out_shape[2]


DW3X3_BATCH_GROUP_BYTES = 1280   # channel groups this small (small images) are filled in batches ...
DW3X3_BATCH_GROUP_BYTES_S1 = 2240   # ... at stride 1 up to this size (KWS 25x5: -4 k cycles a layer; at
                                    # stride 2 a 24x24 batch was 2 k slower) ...
DW3X3_BATCH_BYTES = 8192         # ... of up to this many plane bytes


def dw3x3_scratch_bytes(out_shape, stride: int) -> int:
    """tp_dw3x3_s8's scratch: the int16 planes of a batch of channel groups (words x DW3X3_ROWS int32 each:
    one group, or for small images up to DW3X3_BATCH_BYTES of groups, filled before their MAC loops, fewer
    code switches), then the accumulators of a band's row pairs, 512 bytes apart (16 bytes a column pair,
    each ending on a 512-byte boundary); tp_dw3x3_scratch_bytes is the one-group minimum."""
    transposed = _dw3x3_transposed(out_shape)
    ol, os_ = (out_shape[1], out_shape[2]) if transposed else (out_shape[2], out_shape[1])
    pairs = (ol + 1) // 2
    words = pairs + 1 if stride == 1 else 2 * pairs + 1
    band = DW3X3_ROWS - 2 if stride == 1 else (DW3X3_ROWS - 1) // 2
    band_pairs = (min(os_, band) + 1) // 2
    group = 4 * DW3X3_CHANNELS * words * DW3X3_ROWS
    groups = (out_shape[3] + DW3X3_CHANNELS - 1) // DW3X3_CHANNELS
    limit = DW3X3_BATCH_GROUP_BYTES_S1 if stride == 1 else DW3X3_BATCH_GROUP_BYTES
    batch = min(groups, DW3X3_BATCH_BYTES // group) if group <= limit else 1
    return group * batch + 512 * (band_pairs + 1)


def dw3x3_weights(wdata: np.ndarray, out_shape, bias: np.ndarray | None, mults, out_zp: int) -> np.ndarray:
    """[1, 3, 3, C] int8 -> tp_dw3x3_s8's channel records, ten int32 words per channel as little-endian bytes:
    {W01, W12} per kernel row of the pair-axis frame (rows along H, or along W when transposed), W01 = (2 w0,
    2 w1), W12 = (2 w1, 2 w2) as int16 halves, low first; then the requantization constants m, kh = 2^(r-1)
    + out_zp * 2^r, r = -shift, and 2 * bias."""
    w = wdata[0].astype(np.int16) * 2                       # [ky, kx, c]
    if _dw3x3_transposed(out_shape):
        w = w.transpose(1, 0, 2)                             # frame row = kx, tap = ky
    halves = np.stack([w[:, 0], w[:, 1], w[:, 1], w[:, 2]], axis=1)   # [row, 4, c]
    words = np.ascontiguousarray(halves.transpose(2, 0, 1), dtype="<i2").view("<i4").reshape(-1, 6)
    c = len(mults)
    r = np.array([-s for _, s in mults], dtype=np.int64)
    consts = np.stack([np.array([m for m, _ in mults], dtype=np.int64), (1 << (r - 1)) + out_zp * (1 << r), r,
                       2 * (bias.astype(np.int64) if bias is not None else np.zeros(c, np.int64))], axis=1)
    return np.concatenate([words.astype("<i4"), consts.astype("<i4")], axis=1).reshape(-1).view(np.int8)


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
        smallc = self._conv_smallc(op) if self.kernels == "m4" else None
        if smallc is not None:
            return smallc
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
            rows = wdata.reshape(out_c, -1)
            rows = np.pad(rows, ((0, 0), (0, -rows.shape[1] % 4)))   # K padded to 4 with zero weights
            pointwise = kh == 1 and kw == 1 and geo["pad_h"] == 0 and geo["pad_w"] == 0
            kernel = "tp_conv_1x1_s8" if pointwise else "tp_conv_im2col_s8"
            b = np.zeros(out_c, np.int64) if bias is None else bias.astype(np.int64)
            # the output of a channel with zero weights
            dead_out = [min(max(quant.multiply_by_quantized_multiplier(int(b[c]), *mults[c]) + out.zero_point,
                                lo_), hi_) for c in range(out_c)]
            live_ch = conv_live_channels(rows)
            weights = conv_blob(rows, folded, mults, out.zero_point, dead_out, live_ch)
            bias = None   # the blob holds it
            live = live_ch.size
            kp = rows.shape[1]
            kq = (kp + 7) // 8 * 8
            cache = (live + 3) // 4 * (64 + 8 * kq)   # every live quad expanded to int16 (tp_quad_stride)
            lanes = 8 * ((live + 3) // 4) if live < out_c else 0   # compacted outputs of a pixel pair
            scratch = 4 * kq + 8 + kp + lanes + max(64 + 8 * kq, min(cache, WEIGHT_CACHE_BYTES))
        fields = {"input": c_dims(x.shape), "filter": c_dims(wdata.shape), "output": c_dims(out.shape),
                  "conv": conv, "weights": "@weights", "bias": "@bias" if bias is not None else "NULL",
                  "multiplier": "@multiplier", "shift": "@shift", "scratch_bytes": str(scratch)}
        arrays = [("int8_t", "weights", weights)] + ([("int32_t", "bias", bias)] if bias is not None else [])
        n, oh, ow, _ = out.shape
        return Layer(op.index, op.name, kernel, "tp_conv_s8_t", fields, arrays + self._quant_arrays(mults),
                     [x.index], [out.index], macs=n * oh * ow * out_c * kh * kw * in_c, scratch_bytes=scratch,
                     detail=f"{kh}x{kw}/{geo['stride_h']} {'SAME' if geo['same'] else 'VALID'} {act} "
                            f"{list(x.shape)}->{list(out.shape)}")

    def _conv_smallc(self, op: Operator) -> Layer | None:
        """tp_conv_smallc_s8 for C_IN <= 4 (see tp_conv_smallc.h), or None when it does not apply: dilation,
        more than 16 tap groups, an output shift >= 0, or accumulator / requantization bounds."""
        x, wdata, out, geo, mults, conv, act = self._conv_common(op, depthwise=False)
        out_c, kh, kw, in_c = wdata.shape
        if in_c != x.shape[3] or in_c > 4 or out_c != out.shape[3] or geo["dilation_h"] != 1 \
                or geo["dilation_w"] != 1:
            return None
        lo, hi = quant.activation_range(int(op.options.fusedActivationFunction), out.scale, out.zero_point)
        bias = tame_dead_channels(self.bias(op, out_c), wdata, 0, mults, out.zero_point, lo, hi)
        folded = fold_input_offset(bias, wdata, -x.zero_point)    # None unless |acc| < 2^30
        if folded is None:
            return None
        worst = (np.zeros(out_c, np.int64) if bias is None else np.abs(bias.astype(np.int64))) \
            + np.abs(wdata.reshape(out_c, -1).astype(np.int64)).sum(axis=1) * 255
        packed = smallc_layout(wdata, folded, worst, mults, out.zero_point, lo, hi)
        if packed is None:
            return None
        groups = kh * (kw * in_c // 4) + (kh * (kw * in_c % 4) + 3) // 4       # as in smallc_layout
        quad = smallc_quad(out_c, groups)
        nw = kh * (kw * in_c // 4)
        field_bytes = kh * x.shape[2] * in_c + kw * in_c                    # border copy + zero points
        if field_bytes > 8192:
            return None
        # columns of many pixel pairs at once (16 G bytes per pair; fewer switches between column building
        # and the channel runs): up to 40 % of the output's bytes (at least 3 KB), not to raise the arena peak
        chunk_bytes = max(3072, 2 * int(np.prod(out.shape)) // 5)
        chunk = max(1, min((out.shape[1] * out.shape[2] + 1) // 2, chunk_bytes // (16 * groups)))
        # packed words, columns, tail tap offsets, two output pixels
        scratch = 4 * (packed.size + 4 * groups * chunk + 4 * (groups - nw)) + 2 * (out_c + 1) + field_bytes
        fields = {"input": c_dims(x.shape), "output": c_dims(out.shape), "kh": str(kh), "kw": str(kw),
                  "stride_h": str(geo["stride_h"]), "stride_w": str(geo["stride_w"]), "pad_h": str(geo["pad_h"]),
                  "pad_w": str(geo["pad_w"]), "input_zp": str(x.zero_point), "groups": str(groups),
                  "row_groups": str(kw * in_c // 4), "act_min": str(lo), "span": str(hi - lo),
                  "quad": str(int(quad)), "chunk_pairs": str(chunk), "packed": "@packed"}
        n, oh, ow, _ = out.shape
        return Layer(op.index, op.name, "tp_conv_smallc_s8", "tp_conv_smallc_s8_t", fields,
                     [("int32_t", "packed", packed)], [x.index], [out.index],
                     macs=n * oh * ow * out_c * kh * kw * in_c, scratch_bytes=scratch,
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
        scratch = 0
        weights = wdata.reshape(-1)
        if self.kernels == "m4" and dm == 1 and geo["dilation_h"] == 1 and geo["dilation_w"] == 1:
            lo_, hi_ = quant.activation_range(int(op.options.fusedActivationFunction), out.scale, out.zero_point)
            tamed = tame_dead_channels(bias, wdata, 3, mults, out.zero_point, lo_, hi_)
            if worst_accumulator(tamed, wdata, axis=3) < 2**30:
                kernel, bias = "tp_dwconv_m4_s8", tamed
                if dw3x3_fits(kh, kw, geo, mults, out.zero_point, lo_, hi_, out.shape):
                    kernel = "tp_dw3x3_s8"
                    scratch = dw3x3_scratch_bytes(out.shape, geo["stride_h"])
                    weights = dw3x3_weights(wdata, out.shape, bias, mults, out.zero_point)
                    bias = None                               # in the channel records, with the requant
        records = kernel == "tp_dw3x3_s8"
        fields = {"input": c_dims(x.shape), "filter": c_dims(wdata.shape), "output": c_dims(out.shape),
                  "conv": conv, "depth_multiplier": str(dm), "weights": "@weights",
                  "bias": "@bias" if bias is not None else "NULL",
                  "multiplier": "NULL" if records else "@multiplier", "shift": "NULL" if records else "@shift",
                  "scratch_bytes": str(scratch)}
        arrays = [("int8_t", "weights", weights)]
        arrays += [("int32_t", "bias", bias)] if bias is not None else []
        arrays += [] if records else self._quant_arrays(mults)
        n, oh, ow, _ = out.shape
        return Layer(op.index, op.name, kernel, "tp_dwconv_s8_t", fields, arrays,
                     [x.index], [out.index], macs=n * oh * ow * out_c * kh * kw, scratch_bytes=scratch,
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
        packed = pair16_layout(wdata) if folded is not None else None
        if packed is not None:
            kernel, bias, weights = "tp_fc_m4_s8", folded, packed
        fields = {"batches": str(batches), "accum_depth": str(depth), "output_depth": str(out_depth),
                  "input_offset": str(-x.zero_point), "weights_offset": "0", "output_offset": str(out.zero_point),
                  "act_min": str(lo), "act_max": str(hi), "per_channel": str(int(per_channel)),
                  "weights": "@weights", "bias": "@bias" if bias is not None else "NULL",
                  "multiplier": "@multiplier", "shift": "@shift"}
        arrays = [("int8_t", "weights", weights)] + ([("int32_t", "bias", bias)] if bias is not None else [])
        scratch = 2 * (depth & ~3) if kernel == "tp_fc_m4_s8" else 0   # the inputs as int16 (tp_fc.h)
        return Layer(op.index, op.name, kernel, "tp_fc_s8_t", fields, arrays + self._quant_arrays(mults),
                     [x.index], [out.index], macs=batches * out_depth * depth, scratch_bytes=scratch,
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
        return self._pool(op, "tp_avgpool_m4_s8" if self.kernels == "m4" else "tp_avgpool_ref_s8")

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
        luts = _add_luts(a, b, out, p, lo) if self.kernels == "m4" and fields["broadcast"] == "0" else None
        if luts is not None:
            kernel, scratch = "tp_add_lut_s8", 512 * 4
            arrays += [("int32_t", "lut1", luts[0]), ("int32_t", "lut2", luts[1])]
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


def _add_luts(a: Tensor, b: Tensor, out: Tensor, p: dict, lo: int) -> tuple | None:
    """tp_add_lut_s8's tables W1, W2 (see tp_add.h) with (W1[x1] + W2[x2]) >> 16 == TFLite's unclamped output
    minus act_min for all 65536 input pairs (checked here exhaustively), or None if no such tables.

    TFLite: out = RoundingDivideByPOT(SRDHM(l1[x1] + l2[x2], m), e) + off with l1, l2 the rescaled inputs.
    Without the sign dependence of the rounding, out - lo = floor((A[x1] + B[x2]) / D) exactly, with
    D = 2^(32+e), A = 2 l1 m + 2^31 + 2^(31+e) + (off - lo) D, B = 2 l2 m; so out - lo = q1 + q2 + carry
    with q = floor(A / D), floor(B / D) and carry = [r1 + r2 >= D] in {0, 1}, a threshold of the remainders:
    carry = [R1[x1] >= R2[x2]] for small ranks R. The ranks are derived from the exact carry matrix (so
    the sign term is included); the tables are W1 = q1 * 2^16 + R1, W2 = (q2 + 1) * 2^16 - R2."""
    l1 = np.array(quant.add_input_lut(a.zero_point, p["input1_multiplier"], p["input1_shift"]), np.int64)
    l2 = np.array(quant.add_input_lut(b.zero_point, p["input2_multiplier"], p["input2_shift"]), np.int64)
    m, e, off = p["output_multiplier"], -p["output_shift"], out.zero_point
    v = ((l1[:, None] + l2[None, :]) * m + (1 << 30)) >> 31            # SRDHM (m < 2^31, |sum| < 2^31)
    mask = (1 << e) - 1
    y = (v >> e) + ((v & mask) > (mask >> 1) + (v < 0)) + off - lo     # exact TFLite output - lo
    d = 1 << (32 + e)
    base = (1 << 31) + (off - lo) * d + ((1 << (31 + e)) if e else 0)
    q1 = np.array([(2 * int(x) * m + base) // d for x in l1], np.int64)
    q2 = np.array([(2 * int(x) * m) // d for x in l2], np.int64)
    carry = y - q1[:, None] - q2[None, :]
    if carry.min() < 0 or carry.max() > 1 or max(np.abs(q1).max(), np.abs(q2).max()) >= 2**14:
        return None
    r1 = carry.sum(axis=1)                                              # ranks in [0, 256]
    r2 = np.where(carry == 1, r1[:, None], 257).min(axis=0)            # smallest row rank with carry 1
    if not np.array_equal(r1[:, None] >= r2[None, :], carry == 1):     # not a threshold matrix
        return None
    return (q1 * 65536 + r1).astype(np.int32), ((q2 + 1) * 65536 - r2).astype(np.int32)


def _c_float(x: float) -> str:
    """A C float literal that round-trips the float32 value exactly."""
    return f"{float(np.float32(x)).hex()}f"


def lower_graph(graph: Graph, kernels: str = "m4") -> list[Layer]:
    lw = _Lowering(graph, kernels)
    return [lw.lower(op) for op in graph.operators]
