"""Per-operator bit-exactness: random one-operator models (random shapes, strides, paddings, dilations,
quantization) compiled to C, built for the host with the ref and the m4 kernels, compared byte for byte
with the tflite-micro interpreter on random inputs."""

from __future__ import annotations

import numpy as np
import pytest
from tinyperf.firmware.compiler import compile_model
from tinyperf.firmware.compiler import tflite_builder as tb
from tinyperf.firmware.compiler.hostbuild import HostModel
from tinyperf.firmware.compiler.tflite_builder import TensorSpec

runtime = pytest.importorskip("tflite_micro.python.tflite_micro.runtime")

pytestmark = pytest.mark.unit
KERNELS = ("ref", "m4")
ACTS = ("NONE", "RELU", "RELU6", "NONE", "RELU_N1_TO_1")


def check_against_tflm(data: bytes, tmp_path, kernels: str, rng, n_inputs: int = 3) -> None:
    path = tmp_path / "op.tflite"
    path.write_bytes(data)
    cm = compile_model(path, tmp_path / kernels, kernels=kernels)
    host = HostModel(cm)
    interp = runtime.Interpreter.from_bytes(data)
    for i in range(n_inputs):
        if cm.input_dtype == np.float32:
            x = (rng.standard_normal(cm.input_shape) * 3).astype(np.float32)
        elif i == 0:
            x = np.full(cm.input_shape, 127, dtype=np.int8)       # saturation corner
        else:
            x = rng.integers(-128, 128, size=cm.input_shape, dtype=np.int8)
        interp.set_input(x, 0)
        interp.invoke()
        want = interp.get_output(0)
        got = host.run(x)
        assert got.dtype == want.dtype and got.shape == tuple(want.shape)
        bad = np.flatnonzero(got.reshape(-1) != want.reshape(-1))
        assert bad.size == 0, (f"{bad.size} of {got.size} outputs differ (first at {bad[:5]}: got "
                               f"{got.reshape(-1)[bad[:5]]}, tflm {want.reshape(-1)[bad[:5]]})")


def _in_quant(rng):
    return float(10 ** rng.uniform(-2.5, 0)), int(rng.integers(-128, 128))


def _out_scale(rng, in_scale, w_scale, k):
    return float(in_scale * w_scale * np.sqrt(k) * 74 * 74 / 60 * 10 ** rng.uniform(-0.7, 0.3))


def _bias(rng, channels, in_scale, w_scales):
    if rng.random() < 0.2:
        return None
    return rng.integers(-(1 << 14), 1 << 14, size=channels).astype(np.int32)


def _conv_like(rng, depthwise: bool):
    n = 1 if rng.random() < 0.8 else 2
    h, w = (int(v) for v in rng.integers(1, 11, size=2))
    in_c = int(rng.integers(1, 9 if depthwise else 21))
    dm = int(rng.choice([1, 1, 2, 3])) if depthwise else 1
    out_c = in_c * dm if depthwise else int(rng.integers(1, 21))
    kh, kw = (int(v) for v in rng.choice([1, 1, 2, 3, 3, 5], size=2))
    if rng.random() < 0.3:
        kh = kw = 1
    sh, sw = (int(v) for v in rng.integers(1, 4, size=2))
    dh, dw = (int(v) for v in rng.choice([1, 1, 1, 2], size=2))
    padding = "SAME" if rng.random() < 0.5 else "VALID"
    if padding == "VALID":
        h, w = max(h, (kh - 1) * dh + 1), max(w, (kw - 1) * dw + 1)
    oh = (h + sh - 1) // sh if padding == "SAME" else (h - (kh - 1) * dh - 1) // sh + 1
    ow = (w + sw - 1) // sw if padding == "SAME" else (w - (kw - 1) * dw - 1) // sw + 1
    in_scale, in_zp = _in_quant(rng)
    w_scales = (10 ** rng.uniform(-3, -1.5, size=out_c)).astype(np.float32)
    shape_w = (1, kh, kw, out_c) if depthwise else (out_c, kh, kw, in_c)
    weights = rng.integers(-127, 128, size=shape_w).astype(np.int8)
    k = kh * kw * (1 if depthwise else in_c)
    out_scale = _out_scale(rng, in_scale, float(np.mean(w_scales)), k)
    bias = _bias(rng, out_c, in_scale, w_scales)
    act = str(rng.choice(ACTS))
    x = TensorSpec((n, h, w, in_c), "int8", in_scale, in_zp)
    wt = TensorSpec(shape_w, "int8", list(w_scales), [0] * out_c, data=weights,
                    quantized_dimension=3 if depthwise else 0)
    bt = None if bias is None else TensorSpec((out_c,), "int32", list(in_scale * w_scales), [0] * out_c,
                                              data=bias)
    y = TensorSpec((n, oh, ow, out_c), "int8", out_scale, int(rng.integers(-128, 128)))
    if depthwise:
        opts = tb.depthwise_options(padding, (sh, sw), (dh, dw), dm, act)
        # no bias: omit the input (the interpreter crashes on an explicit -1 bias for DEPTHWISE_CONV_2D)
        return tb.single_op_model("DEPTHWISE_CONV_2D", [x, wt] + ([bt] if bt else []), [y], opts)
    return tb.single_op_model("CONV_2D", [x, wt, bt], [y], tb.conv2d_options(padding, (sh, sw), (dh, dw), act))


@pytest.mark.parametrize("kernels", KERNELS)
@pytest.mark.parametrize("seed", range(20))
def test_conv_2d(seed, kernels, tmp_path):
    rng = np.random.default_rng(1000 + seed)
    check_against_tflm(_conv_like(rng, depthwise=False), tmp_path, kernels, rng)


@pytest.mark.parametrize("kernels", KERNELS)
@pytest.mark.parametrize("seed", range(20))
def test_depthwise_conv_2d(seed, kernels, tmp_path):
    rng = np.random.default_rng(2000 + seed)
    check_against_tflm(_conv_like(rng, depthwise=True), tmp_path, kernels, rng)


@pytest.mark.parametrize("kernels", KERNELS)
@pytest.mark.parametrize("seed", range(12))
def test_fully_connected(seed, kernels, tmp_path):
    rng = np.random.default_rng(3000 + seed)
    batches, depth, out_depth = int(rng.integers(1, 4)), int(rng.integers(1, 80)), int(rng.integers(1, 40))
    in_scale, in_zp = _in_quant(rng)
    per_channel = rng.random() < 0.3
    w_scales = (10 ** rng.uniform(-3, -1.5, size=out_depth if per_channel else 1)).astype(np.float32)
    weights = rng.integers(-127, 128, size=(out_depth, depth)).astype(np.int8)
    bias = _bias(rng, out_depth, in_scale, w_scales)
    x = TensorSpec((batches, depth), "int8", in_scale, in_zp)
    wt = TensorSpec((out_depth, depth), "int8", list(w_scales), [0] * len(w_scales), data=weights)
    bt = None if bias is None else TensorSpec((out_depth,), "int32", float(in_scale * w_scales[0]), 0, data=bias)
    y = TensorSpec((batches, out_depth), "int8", _out_scale(rng, in_scale, float(w_scales.mean()), depth),
                   int(rng.integers(-128, 128)))
    data = tb.single_op_model("FULLY_CONNECTED", [x, wt, bt], [y], tb.fc_options(str(rng.choice(ACTS))))
    check_against_tflm(data, tmp_path, kernels, rng)


@pytest.mark.parametrize("op", ["AVERAGE_POOL_2D", "MAX_POOL_2D"])
@pytest.mark.parametrize("seed", range(10))
def test_pooling(seed, op, tmp_path):
    rng = np.random.default_rng(4000 + seed)
    n, h, w, c = 1, int(rng.integers(1, 13)), int(rng.integers(1, 13)), int(rng.integers(1, 17))
    fh, fw = int(rng.integers(1, 5)), int(rng.integers(1, 5))
    sh, sw = int(rng.integers(1, 4)), int(rng.integers(1, 4))
    padding = "SAME" if rng.random() < 0.5 else "VALID"
    if padding == "VALID":
        h, w = max(h, fh), max(w, fw)
    oh = (h + sh - 1) // sh if padding == "SAME" else (h - fh) // sh + 1
    ow = (w + sw - 1) // sw if padding == "SAME" else (w - fw) // sw + 1
    scale, zp = _in_quant(rng)
    act = str(rng.choice(ACTS))
    data = tb.single_op_model(op, [TensorSpec((n, h, w, c), "int8", scale, zp)],
                              [TensorSpec((n, oh, ow, c), "int8", scale, zp)],
                              tb.pool_options((fh, fw), (sh, sw), padding, act))
    check_against_tflm(data, tmp_path, "m4", rng)


@pytest.mark.parametrize("seed", range(8))
def test_add_and_requantize(seed, tmp_path):
    """x -> QUANTIZE (int8 -> int8, new scale) -> y; ADD(x, y) with a fused activation."""
    rng = np.random.default_rng(5000 + seed)
    shape = tuple(int(v) for v in rng.integers(1, 9, size=4))
    s1, z1 = _in_quant(rng)
    s2, z2 = float(s1 * 10 ** rng.uniform(-1, 1)), int(rng.integers(-128, 128))
    so = float(max(s1, s2) * 10 ** rng.uniform(-0.3, 0.6))
    tensors = [TensorSpec(shape, "int8", s1, z1), TensorSpec(shape, "int8", s2, z2),
               TensorSpec(shape, "int8", so, int(rng.integers(-128, 128)))]
    data = tb.chain_model([("QUANTIZE", [0], [1], None),
                           ("ADD", [0, 1], [2], tb.add_options(str(rng.choice(ACTS))))], tensors, [0], [2])
    check_against_tflm(data, tmp_path, "m4", rng)


@pytest.mark.parametrize("seed", range(4))
def test_add_broadcast_constant(seed, tmp_path):
    rng = np.random.default_rng(5500 + seed)
    shape = (1, int(rng.integers(1, 6)), int(rng.integers(1, 6)), int(rng.integers(1, 9)))
    cshape = (1, 1, 1, shape[3]) if seed % 2 else (1, shape[1], 1, 1)
    s1, z1 = _in_quant(rng)
    const = rng.integers(-128, 128, size=cshape).astype(np.int8)
    data = tb.single_op_model("ADD", [TensorSpec(shape, "int8", s1, z1),
                                      TensorSpec(cshape, "int8", s1 * 2, 3, data=const)],
                              [TensorSpec(shape, "int8", s1 * 2.5, -7)], tb.add_options("RELU"))
    check_against_tflm(data, tmp_path, "m4", rng)


@pytest.mark.parametrize("seed", range(10))
def test_softmax(seed, tmp_path):
    rng = np.random.default_rng(6000 + seed)
    rows, depth = int(rng.integers(1, 5)), int(rng.integers(1, 40))
    scale, zp = float(10 ** rng.uniform(-2, 0.5)), int(rng.integers(-128, 128))
    beta = float(rng.choice([1.0, 1.0, 0.5, 2.0]))
    data = tb.single_op_model("SOFTMAX", [TensorSpec((rows, depth), "int8", scale, zp)],
                              [TensorSpec((rows, depth), "int8", 1.0 / 256, -128)], tb.softmax_options(beta))
    check_against_tflm(data, tmp_path, "m4", rng, n_inputs=6)


@pytest.mark.parametrize("seed", range(4))
def test_quantize_dequantize_reshape(seed, tmp_path):
    """float32 -> QUANTIZE -> RESHAPE -> DEQUANTIZE -> float32."""
    rng = np.random.default_rng(7000 + seed)
    shape = tuple(int(v) for v in rng.integers(1, 7, size=4))
    scale, zp = _in_quant(rng)
    flat = (1, int(np.prod(shape)))
    tensors = [TensorSpec(shape, "float32", None), TensorSpec(shape, "int8", scale, zp),
               TensorSpec(flat, "int8", scale, zp), TensorSpec(flat, "float32", None),
               TensorSpec((2,), "int32", None, data=np.array(flat, dtype=np.int32))]
    data = tb.chain_model([("QUANTIZE", [0], [1], None),
                           ("RESHAPE", [1, 4], [2], tb.reshape_options(flat)),
                           ("DEQUANTIZE", [2], [3], None)], tensors, [0], [3])
    check_against_tflm(data, tmp_path, "m4", rng)
