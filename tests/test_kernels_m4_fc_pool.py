"""The Cortex-M4 FULLY_CONNECTED (tp_fc_m4_s8: packed row pairs h = p + 256 q, four rows per pass) and
AVERAGE_POOL_2D (tp_avgpool_m4_s8: int16 SXTAB16 lanes, 8/4/1-channel blocks) kernels, checked bit for bit
against the tflite-micro interpreter on one-operator models, (a) built for the host (portable C paths) and
(b) on the simulated board (inline assembly, -O2 firmware; the models take the ic01 firmware's 3072-byte
input). FC shapes cover K % 4 tails, K < 16 (single-group loop), output rows not a multiple of 4, batches,
per-tensor and per-channel quantization (with a shift-0 channel: generic requantization), RELU/NONE; and the
layout's fallback to the reference kernel. Pool shapes cover global and windowed, SAME/VALID, strides,
channel counts not a multiple of 8 or 4, and windows over 256 taps (reference fallback inside the kernel)."""

from __future__ import annotations

import zlib

import numpy as np
import pytest
from kernel_cases import assert_same, reference_case
from tinyperf.firmware.compiler import compile_model
from tinyperf.firmware.compiler import tflite_builder as tb
from tinyperf.firmware.compiler.hostbuild import HostModel
from tinyperf.firmware.compiler.tflite_builder import TensorSpec


def _fc(rng, batches, depth, out_depth, act="NONE", per_channel=False, wmax=127, shift0=False, in_zp=None):
    """FC with weights in [-wmax, wmax], the output scale fitted to the accumulators of random inputs (about
    40 int8 steps per standard deviation); `shift0`: channel 0 gets an effective scale of 0.7 (shift 0, the
    generic requantization) and small sparse weights so that it does not saturate."""
    in_scale = 0.05
    in_zp = int(rng.integers(-100, 100)) if in_zp is None else in_zp
    weights = rng.integers(-wmax, wmax + 1, size=(out_depth, depth))
    w_scales = 10 ** rng.uniform(-0.3, 0.3, size=out_depth if per_channel else 1)
    xs = rng.integers(-128, 128, size=(64, depth)) - in_zp
    real = (xs @ weights.T) * in_scale * (w_scales if per_channel else w_scales[0])
    out_scale = float(real.std()) / 40
    if shift0:
        weights[0] = rng.integers(-1, 2, size=depth) * (rng.random(depth) < 0.1)
        w_scales[0] = 0.7 * out_scale / in_scale
    w_scales = w_scales.astype(np.float32)
    x = TensorSpec((batches, depth), "int8", in_scale, in_zp)
    wt = TensorSpec((out_depth, depth), "int8", [float(s) for s in w_scales], [0] * len(w_scales),
                    data=weights.astype(np.int8))
    bias = rng.integers(-3000, 3000, size=out_depth).astype(np.int32)
    bt = TensorSpec((out_depth,), "int32", float(in_scale * w_scales[0]), 0, data=bias)
    y = TensorSpec((batches, out_depth), "int8", out_scale, int(rng.integers(-20, 20)))
    return tb.single_op_model("FULLY_CONNECTED", [x, wt, bt], [y], tb.fc_options(act))


def _pool(rng, shape, window, stride, padding, act="NONE", zp=None):
    n, h, w, c = shape
    oh = (h + stride - 1) // stride if padding == "SAME" else (h - window[0]) // stride + 1
    ow = (w + stride - 1) // stride if padding == "SAME" else (w - window[1]) // stride + 1
    scale, zp = 0.03, int(rng.integers(-30, 30)) if zp is None else zp
    return tb.single_op_model("AVERAGE_POOL_2D", [TensorSpec(shape, "int8", scale, zp)],
                              [TensorSpec((n, oh, ow, c), "int8", scale, zp)],
                              tb.pool_options(window, (stride, stride), padding, act))


HOST_CASES = {   # name -> (model factory(rng), kernel that must be selected)
    "fc_1x4_n1": (lambda r: _fc(r, 1, 4, 1), "tp_fc_m4_s8"),
    "fc_2x7_n9_relu": (lambda r: _fc(r, 2, 7, 9, "RELU"), "tp_fc_m4_s8"),
    "fc_1x13_n6_pc": (lambda r: _fc(r, 1, 13, 6, per_channel=True), "tp_fc_m4_s8"),
    "fc_3x30_n5_pc_shift0": (lambda r: _fc(r, 3, 30, 5, "RELU", per_channel=True, shift0=True), "tp_fc_m4_s8"),
    "fc_1x67_n17": (lambda r: _fc(r, 1, 67, 17), "tp_fc_m4_s8"),
    "fc_2x128_n8_relu": (lambda r: _fc(r, 2, 128, 8, "RELU"), "tp_fc_m4_s8"),
    "fc_1x640_n12": (lambda r: _fc(r, 1, 640, 12, wmax=60), "tp_fc_m4_s8"),
    "fc_1x3_n4_k_lt_4": (lambda r: _fc(r, 1, 3, 4), "tp_fc_ref_s8"),
    "fc_1x1200_n4_q_bound": (lambda r: _fc(r, 1, 1200, 4), "tp_fc_ref_s8"),   # sum |q| * 128 >= 2^23
    "pool_global_25x5_c64": (lambda r: _pool(r, (1, 25, 5, 64), (25, 5), 25, "VALID"), "tp_avgpool_m4_s8"),
    "pool_3x3_s2_same_c12": (lambda r: _pool(r, (1, 9, 7, 12), (3, 3), 2, "SAME", "RELU"), "tp_avgpool_m4_s8"),
    "pool_2x3_s1_same_c6": (lambda r: _pool(r, (2, 5, 6, 6), (2, 3), 1, "SAME"), "tp_avgpool_m4_s8"),
    "pool_3x3_s3_valid_c21": (lambda r: _pool(r, (1, 7, 9, 21), (3, 3), 3, "VALID", "RELU6"),
                              "tp_avgpool_m4_s8"),
    "pool_4x4_s2_same_c3": (lambda r: _pool(r, (1, 6, 6, 3), (4, 4), 2, "SAME"), "tp_avgpool_m4_s8"),
    "pool_global_17x16_c5_over_256": (lambda r: _pool(r, (1, 17, 16, 5), (17, 16), 1, "VALID"),
                                      "tp_avgpool_m4_s8"),
}

SIM_CASES = {   # ic01 firmware input: 3072 int8 values, zero point -128
    "fc_512x6_n5_pc_shift0": (lambda r: _fc(r, 512, 6, 5, "RELU", per_channel=True, shift0=True, in_zp=-128),
                              "tp_fc_m4_s8"),
    "fc_4x768_n14_relu": (lambda r: _fc(r, 4, 768, 14, "RELU", wmax=80, in_zp=-128), "tp_fc_m4_s8"),
    "fc_128x24_n7": (lambda r: _fc(r, 128, 24, 7, in_zp=-128), "tp_fc_m4_s8"),
    "fc_8x384_n9_pc": (lambda r: _fc(r, 8, 384, 9, per_channel=True, wmax=100, in_zp=-128), "tp_fc_m4_s8"),
    "pool_global_8x8_c48": (lambda r: _pool(r, (1, 8, 8, 48), (8, 8), 8, "VALID", zp=-128), "tp_avgpool_m4_s8"),
    "pool_3x3_s2_same_c12": (lambda r: _pool(r, (1, 16, 16, 12), (3, 3), 2, "SAME", "RELU", zp=-128),
                             "tp_avgpool_m4_s8"),
}


def _build(name, factory, tmp_path_factory):
    """(model path, [(input, interpreter output)]) for one case: a saturating and two random inputs."""
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    return reference_case(tmp_path_factory, name, factory(rng),
                          lambda shape: [np.full(shape, 127, np.int8)]
                          + [rng.integers(-128, 128, size=shape, dtype=np.int8) for _ in range(2)],
                          arena_size=1 << 16)


def _kernel(cm):
    (layer,) = [layer for layer in cm.layers if layer.op in ("FULLY_CONNECTED", "AVERAGE_POOL_2D")]
    return layer.kernel


@pytest.mark.unit
@pytest.mark.parametrize("name", sorted(HOST_CASES))
def test_host_fc_pool(name, tmp_path, tmp_path_factory):
    factory, kernel = HOST_CASES[name]
    path, pairs = _build(name, factory, tmp_path_factory)
    cm = compile_model(path, tmp_path / "m4", kernels="m4")
    assert _kernel(cm) == kernel
    host = HostModel(cm)
    for x, want in pairs:
        assert_same(host.run(x), want, f"{name} host", varied=False)
    # the requantization must be exercised: most outputs of the random inputs are not saturated
    rand = np.concatenate([want.reshape(-1) for _, want in pairs[1:]]).astype(int)
    assert np.mean((rand > -128) & (rand < 127)) > 0.5, f"{name}: degenerate test model ({np.unique(rand)})"


@pytest.mark.sim
@pytest.mark.parametrize("name", sorted(SIM_CASES))
def test_sim_fc_pool(name, tmp_path, tmp_path_factory):
    from tinyperf.firmware.compiler.simrun import SimModel
    factory, kernel = SIM_CASES[name]
    path, pairs = _build(name, factory, tmp_path_factory)
    assert _kernel(compile_model(path, tmp_path / "m4", kernels="m4")) == kernel
    sim = SimModel("ic01", model=path)
    for x, want in pairs:
        got, _cycles = sim.run(x)
        assert_same(got, want, f"{name} simulated board", varied=False)
