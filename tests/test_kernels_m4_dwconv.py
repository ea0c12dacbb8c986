"""tp_dw3x3_s8 (3x3 depthwise on channel-planar int16 bands, firmware/kernels/m4/tp_dw3x3_m4_s8.c) checked bit
for bit against the tflite-micro interpreter on one-operator models, (a) with the kernels built for the host
(portable C paths) and (b) on the simulated board (the inline-assembly paths, -O2 firmware). The shapes cover
both strides, SAME and VALID padding, both orientations (pairs along W, or along H when OH > OW), odd output
rows and columns (the 1x2 tail loop, the single requantization tail), several bands, a channel count that is
not a multiple of 4, the 64-output limit of the pair axis, output shift -1 and both requantization variants
(RELU with the zero point at -128: no sign correction; NONE with another zero point: with it), odd and even
block counts per row (the unrolled requantization loop), small images filled in batches of channel groups
(several batches, a last partial one). Each case asserts that the layer really uses tp_dw3x3_s8. The simulated
cases take the ic01 firmware's input (3072 bytes, any [1, H, W, C] with H*W*C = 3072, zero point -128)."""

from __future__ import annotations

import zlib

import numpy as np
import pytest
from kernel_cases import assert_same, reference_case
from tinyperf.firmware.compiler import compile_model
from tinyperf.firmware.compiler import tflite_builder as tb
from tinyperf.firmware.compiler.hostbuild import HostModel
from tinyperf.firmware.compiler.tflite_builder import TensorSpec

IN_SCALE = OUT_SCALE = 0.02


def _model(rng, in_shape, stride, padding, act):
    """3x3 depthwise, effective output scales in [0.25, 0.5) (shift -1) and below; RELU -> output zero point
    -128 (act_min = zero point), NONE -> a zero point near 0 (act_min -128 below it)."""
    n, h, w, c = in_shape
    oh = (h + stride - 1) // stride if padding == "SAME" else (h - 3) // stride + 1
    ow = (w + stride - 1) // stride if padding == "SAME" else (w - 3) // stride + 1
    s = np.where(rng.random(c) < 0.5, rng.uniform(0.26, 0.49, c), rng.uniform(0.005, 0.2, c))
    w_scales = [float(v) for v in s.astype(np.float32)]
    weights = rng.integers(-3, 4, size=(1, 3, 3, c)).astype(np.int8)
    x = TensorSpec(in_shape, "int8", IN_SCALE, -128)
    wt = TensorSpec((1, 3, 3, c), "int8", w_scales, [0] * c, data=weights, quantized_dimension=3)
    bt = TensorSpec((c,), "int32", [IN_SCALE * v for v in w_scales], [0] * c,
                    data=rng.integers(-300, 300, size=c).astype(np.int32))
    zp = -128 if act == "RELU" else int(rng.integers(-10, 10))
    y = TensorSpec((n, oh, ow, c), "int8", OUT_SCALE, zp)
    return tb.single_op_model("DEPTHWISE_CONV_2D", [x, wt, bt], [y],
                              tb.depthwise_options(padding, (stride, stride), (1, 1), 1, act))


HOST_CASES = {   # name -> (input shape, stride, padding, activation)
    "s1_same_transposed_odd": ((1, 25, 5, 8), 1, "SAME", "RELU"),      # KWS-like: pairs along H, 5 rows
    "s1_same_odd_both": ((1, 7, 9, 12), 1, "SAME", "NONE"),            # odd rows and columns, W pairs
    "s1_valid_bands": ((2, 21, 11, 8), 1, "VALID", "RELU"),            # 19 rows: three bands, batch 2
    "s1_same_c6": ((1, 6, 6, 6), 1, "SAME", "NONE"),                   # channel tail group of 2
    "s1_same_3x3": ((1, 3, 3, 16), 1, "SAME", "RELU"),
    "s1_same_64_wide": ((1, 3, 64, 4), 1, "SAME", "NONE"),             # 32 pairs: the accumulator row limit
    "s2_same_even": ((1, 12, 12, 8), 2, "SAME", "RELU"),               # pad 0 (right/bottom only)
    "s2_same_odd": ((1, 13, 11, 4), 2, "SAME", "NONE"),                # pad 1, odd output
    "s2_valid_transposed": ((1, 23, 9, 8), 2, "VALID", "RELU"),        # 11x4: pairs along H, bands
    "s2_same_c5": ((1, 6, 6, 5), 2, "SAME", "RELU"),                   # 3x3 output, tail group of 1
}

SIM_CASES = {    # 3072-byte inputs
    "s1_same_16x16x12": ((1, 16, 16, 12), 1, "SAME", "RELU"),
    "s1_same_transposed_48x8x8": ((1, 48, 8, 8), 1, "SAME", "NONE"),
    "s1_same_odd_3x4x256": ((1, 3, 4, 256), 1, "SAME", "RELU"),
    "s2_same_32x24x4": ((1, 32, 24, 4), 2, "SAME", "NONE"),
    "s2_same_transposed_6x4x128": ((1, 6, 4, 128), 2, "SAME", "RELU"),
}


def _case(name, spec, tmp_path_factory):
    rng = np.random.default_rng(zlib.crc32(name.encode()))
    return reference_case(tmp_path_factory, name, _model(rng, *spec),
                          lambda shape: [rng.integers(-128, -40, size=shape, dtype=np.int8) for _ in range(2)])


@pytest.mark.unit
def test_dw3x3_scratch_batches():
    """Small images get the planes of several channel groups (filled together, up to 8 KB; groups up to
    1280 bytes, 2240 at stride 1), larger ones one group; plus the accumulators of the band's row pairs (512
    bytes each, + 512 alignment). The sim cases
    3x4x256 (17 groups a batch, 4 batches) and 6x4x128 stride 2 (10 a batch) run the batched path."""
    from tinyperf.firmware.compiler.lower import dw3x3_scratch_bytes
    assert dw3x3_scratch_bytes((1, 3, 4, 256), 1) == 17 * 480 + 512 * 3      # words 3, 2 row pairs
    assert dw3x3_scratch_bytes((1, 3, 2, 128), 2) == 10 * 800 + 512 * 2      # transposed: words 5, 1 pair
    assert dw3x3_scratch_bytes((1, 6, 6, 6), 1) == 2 * 640 + 512 * 4         # two groups (the second of 2)
    assert dw3x3_scratch_bytes((1, 25, 5, 64), 1) == 3 * 2240 + 512 * 4      # KWS: three groups (14 words)
    assert dw3x3_scratch_bytes((1, 16, 16, 12), 1) == 3 * 1440 + 512 * 5     # sim case: 3 groups (9 words)
    assert dw3x3_scratch_bytes((1, 12, 12, 32), 2) == 2080 + 512 * 3         # stride 2: one group (13 words)


@pytest.mark.unit
@pytest.mark.parametrize("name", sorted(HOST_CASES))
def test_host_dw3x3(name, tmp_path_factory, tmp_path):
    path, pairs = _case(name, HOST_CASES[name], tmp_path_factory)
    cm = compile_model(path, tmp_path / "m", kernels="m4")
    assert [layer.kernel for layer in cm.layers] == ["tp_dw3x3_s8"], name
    host = HostModel(cm)
    for x, want in pairs:
        assert_same(host.run(x), want, f"{name} host")


@pytest.mark.sim
@pytest.mark.parametrize("name", sorted(SIM_CASES))
def test_sim_dw3x3(name, tmp_path_factory, tmp_path):
    from tinyperf.firmware.compiler.simrun import SimModel
    path, pairs = _case(name, SIM_CASES[name], tmp_path_factory)
    cm = compile_model(path, tmp_path / "m", kernels="m4")
    assert [layer.kernel for layer in cm.layers] == ["tp_dw3x3_s8"], name
    sim = SimModel("ic01", model=path)
    for x, want in pairs:
        got, _cycles = sim.run(x)
        assert_same(got, want, f"{name} simulated board")
