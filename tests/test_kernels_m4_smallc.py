"""tp_conv_smallc_s8 (CONV_2D with C_IN <= 4) and tp_add_lut_s8 (ADD) checked bit for bit against the
tflite-micro interpreter on one-operator models, (a) with the kernels built for the host (portable C paths)
and (b) on the simulated board (inline assembly, -O2 firmware). Each case asserts that the kernel under test
is the one the compiler selected.
Conv cases cover C_IN 1..4, strides 1/2, SAME/VALID, odd output channel counts and odd pixel counts,
channel pairs and quads (C_OUT % 4 == 0; up to 10 tap groups), clamped and full-range outputs,
per-tensor and per-channel weight scales, RELU/RELU6/NONE, tail groups and border gathers; the models take
the input size of an existing firmware (kws01: 490 bytes, any zero point; ic01: 3072 bytes, zero point
-128). ADD cases: different input
scales and zero points, RELU/RELU6/NONE, a size that is not a multiple of 8 (the C tail)."""

from __future__ import annotations

import zlib

import numpy as np
import pytest
from kernel_cases import assert_same, reference_case
from tinyperf.firmware.compiler import compile_model
from tinyperf.firmware.compiler import tflite_builder as tb
from tinyperf.firmware.compiler.hostbuild import HostModel
from tinyperf.firmware.compiler.tflite_builder import TensorSpec

IN_SCALE = 0.02


def _conv(rng, in_shape, out_c, k, stride, padding, act, per_channel, in_zp):
    n, h, w, c = in_shape
    kh, kw = k
    oh = (h + stride - 1) // stride if padding == "SAME" else (h - kh) // stride + 1
    ow = (w + stride - 1) // stride if padding == "SAME" else (w - kw) // stride + 1
    k_taps = kh * kw * c
    base = 2.0 / k_taps                                      # effective scales around 1/K: outputs spread
    w_scales = (base * rng.uniform(0.5, 2.0, out_c if per_channel else 1)).astype(np.float32)
    weights = rng.integers(-127, 128, size=(out_c, kh, kw, c)).astype(np.int8)
    x = TensorSpec(in_shape, "int8", IN_SCALE, in_zp)
    wt = TensorSpec((out_c, kh, kw, c), "int8", [float(s) for s in w_scales], [0] * len(w_scales), data=weights)
    bt = TensorSpec((out_c,), "int32", [IN_SCALE * float(s) for s in w_scales], [0] * len(w_scales),
                    data=rng.integers(-2000, 2000, size=out_c).astype(np.int32))
    out_scale = 0.05 if act == "RELU6" else IN_SCALE * 127 * 0.5   # RELU6: [0, 6] must span many levels
    y = TensorSpec((n, oh, ow, out_c), "int8", out_scale, int(rng.integers(-20, 20)))
    return tb.single_op_model("CONV_2D", [x, wt, bt], [y], tb.conv2d_options(padding, (stride, stride), (1, 1), act))


def _add(rng, shape, act, z1):
    """x -> QUANTIZE (new scale and zero point) -> y; ADD(x, y)."""
    s1 = 0.05
    s2, z2 = float(s1 * 10 ** rng.uniform(-0.7, 0.7)), int(rng.integers(-100, 100))
    so = float(max(s1, s2) * 10 ** rng.uniform(0.0, 0.4))
    tensors = [TensorSpec(shape, "int8", s1, z1), TensorSpec(shape, "int8", s2, z2),
               TensorSpec(shape, "int8", so, int(rng.integers(-30, 30)))]
    return tb.chain_model([("QUANTIZE", [0], [1], None), ("ADD", [0, 1], [2], tb.add_options(act))],
                          tensors, [0], [2])


CASES = {   # name -> (firmware task, model factory(rng), kernel under test)
    "c1_10x4_s2_same_relu_odd": ("kws01", lambda r: _conv(r, (1, 49, 10, 1), 7, (10, 4), 2, "SAME", "RELU", True,
                                                         7), "tp_conv_smallc_s8"),
    "c1_10x4_s2_same_none_quad": ("kws01", lambda r: _conv(r, (1, 49, 10, 1), 12, (10, 4), 2, "SAME", "NONE",
                                                          True, 3), "tp_conv_smallc_s8"),
    "c1_5x5_s1_valid_none": ("kws01", lambda r: _conv(r, (1, 49, 10, 1), 4, (5, 5), 1, "VALID", "NONE", False, 5),
                             "tp_conv_smallc_s8"),
    "c1_3x3_s1_same_cout1": ("kws01", lambda r: _conv(r, (1, 49, 10, 1), 1, (3, 3), 1, "SAME", "NONE", False, -5),
                             "tp_conv_smallc_s8"),
    "c2_3x3_s1_same_relu6": ("ic01", lambda r: _conv(r, (1, 32, 48, 2), 5, (3, 3), 1, "SAME", "RELU6", True, -128),
                             "tp_conv_smallc_s8"),
    "c3_3x3_s2_same_relu": ("ic01", lambda r: _conv(r, (1, 32, 32, 3), 8, (3, 3), 2, "SAME", "RELU", True, -128),
                            "tp_conv_smallc_s8"),
    "c3_3x3_s1_same_quad": ("ic01", lambda r: _conv(r, (1, 32, 32, 3), 16, (3, 3), 1, "SAME", "RELU", True, -128),
                            "tp_conv_smallc_s8"),
    "c3_2x2_s1_valid_none_odd": ("ic01", lambda r: _conv(r, (1, 32, 32, 3), 3, (2, 2), 1, "VALID", "NONE", False, -128),
                                 "tp_conv_smallc_s8"),
    "c4_3x3_s2_valid_relu": ("ic01", lambda r: _conv(r, (1, 32, 24, 4), 9, (3, 3), 2, "VALID", "RELU", True, -128),
                             "tp_conv_smallc_s8"),
    "add_relu_tail": ("kws01", lambda r: _add(r, (1, 49, 10, 1), "RELU", 20), "tp_add_lut_s8"),
    "add_none": ("ic01", lambda r: _add(r, (1, 16, 16, 12), "NONE", -128), "tp_add_lut_s8"),
    "add_relu6": ("ic01", lambda r: _add(r, (1, 8, 8, 48), "RELU6", -128), "tp_add_lut_s8"),
}


@pytest.fixture(params=sorted(CASES), scope="module")
def case(request, tmp_path_factory):
    """(task, model path, kernel, [(input, interpreter output)])"""
    name = request.param
    task, factory, kernel = CASES[name]
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    path, pairs = reference_case(tmp_path_factory, name, factory(rng),
                                 lambda shape: [rng.integers(-128, 128, size=shape, dtype=np.int8) for _ in range(2)],
                                 arena_size=1 << 17)
    return task, path, kernel, pairs


@pytest.mark.unit
def test_host_smallc_and_add(case, tmp_path):
    task, path, kernel, pairs = case
    cm = compile_model(path, tmp_path / "m", kernels="m4")
    assert kernel in [layer.kernel for layer in cm.layers], [layer.kernel for layer in cm.layers]
    host = HostModel(cm)
    for x, want in pairs:
        assert_same(host.run(x), want, f"{path.name} host")


@pytest.mark.sim
def test_sim_smallc_and_add(case):
    from tinyperf.firmware.compiler.simrun import SimModel
    task, path, kernel, pairs = case
    sim = SimModel(task, model=path)
    assert kernel in [layer.kernel for layer in sim.cm.layers]
    for x, want in pairs:
        got, _cycles = sim.run(x)
        assert_same(got, want, f"{path.name} simulated board")
