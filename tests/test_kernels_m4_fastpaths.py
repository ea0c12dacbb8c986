"""Fast paths of the Cortex-M4 kernels that the random-shape tests rarely reach, checked bit for bit against
the tflite-micro interpreter on one-operator models, (a) with the kernels built for the host (portable C
paths) and (b) on the simulated board (the inline-assembly paths, -O2 firmware):
- the folded requantization (tp_requant_rs in the FC kernel, TP_DW_REQUANT4) at its edge, output shift -1
  (effective scale in [0.25, 0.5)), mixed with small scales; and the fallback when a channel has shift 0;
  the quad GEMM's "nosign" form (output zero point -128);
- the SRAM weight-cache load (int8 -> doubled int16), in several chunks, with a partial last channel quad;
- channels with all-zero weights: skipped (compacted blob, constant fill) or computed (constant form);
- the unfolded requantization (a live shift-0 channel) and the C recomputation of a shift > 0 channel;
- the quad GEMM's K % 16 == 8 loop entry, a lone last pixel (its own GEMM when folded, else a duplicated
  one), both im2col gathers;
- the 3x3 depthwise kernels with stride 1 and 2: tp_dw3x3_s8 (the NONE cases) and tp_dwconv_m4_s8's
  interior/border paths (the RELU cases, zero point above -128, and a shift-0 channel); more tp_dw3x3_s8
  shapes in test_kernels_m4_dwconv.py.
The models take the ic01 firmware's input (3072 bytes, any [1, H, W, C] with H*W*C = 3072, zero point -128);
inputs stay in [-128, -60] and weights are small so that most outputs are not clamped."""

from __future__ import annotations

import zlib

import numpy as np
import pytest
from kernel_cases import assert_same, reference_case
from tinyperf.firmware.compiler import compile_model
from tinyperf.firmware.compiler import tflite_builder as tb
from tinyperf.firmware.compiler.hostbuild import HostModel
from tinyperf.firmware.compiler.tflite_builder import TensorSpec

IN_SCALE = OUT_SCALE = 0.02   # effective scale of channel c = its weight scale


def _w_scales(rng, out_c: int, fallback: bool) -> list[float]:
    """Weight scales = effective output scales: shift -1 ([0.25, 0.5)) and shift <= -2 channels; with
    `fallback` one channel in [0.5, 1) (shift 0: the kernels' generic requantization)."""
    s = np.where(rng.random(out_c) < 0.5, rng.uniform(0.26, 0.49, out_c), rng.uniform(0.005, 0.2, out_c))
    if fallback:
        s[int(rng.integers(out_c))] = 0.7
    return [float(v) for v in s.astype(np.float32)]


def _conv(rng, in_shape, out_c, k, stride, padding, depthwise, fallback, act, dead=0, out_zp=None):
    """One CONV_2D / DEPTHWISE_CONV_2D; `dead` output channels get all-zero weights (with `fallback`, one
    of them shift 0, and one live channel shift 1: the C requantization of shift > 0); output zero point
    out_zp (default random in [-10, 10))."""
    n, h, w, c = in_shape
    if depthwise:
        out_c = c
    oh = (h + stride - 1) // stride if padding == "SAME" else (h - k) // stride + 1
    ow = (w + stride - 1) // stride if padding == "SAME" else (w - k) // stride + 1
    w_scales = _w_scales(rng, out_c, fallback)
    shape_w = (1, k, k, out_c) if depthwise else (out_c, k, k, c)
    weights = rng.integers(-1, 2, size=shape_w).astype(np.int8)
    if dead:
        dead_ch = rng.choice(out_c, dead, replace=False)
        weights[dead_ch] = 0
        if fallback:
            w_scales[int(dead_ch[0])] = 0.7
            w_scales[int(np.setdiff1d(np.arange(out_c), dead_ch)[0])] = 1.3
    x = TensorSpec(in_shape, "int8", IN_SCALE, -128)
    wt = TensorSpec(shape_w, "int8", w_scales, [0] * out_c, data=weights,
                    quantized_dimension=3 if depthwise else 0)
    bt = TensorSpec((out_c,), "int32", [IN_SCALE * s for s in w_scales], [0] * out_c,
                    data=rng.integers(-100, 100, size=out_c).astype(np.int32))
    zp = int(rng.integers(-10, 10))
    y = TensorSpec((n, oh, ow, out_c), "int8", OUT_SCALE, zp if out_zp is None else out_zp)
    if depthwise:
        return tb.single_op_model("DEPTHWISE_CONV_2D", [x, wt, bt], [y],
                                  tb.depthwise_options(padding, (stride, stride), (1, 1), 1, act))
    return tb.single_op_model("CONV_2D", [x, wt, bt], [y],
                              tb.conv2d_options(padding, (stride, stride), (1, 1), act))


def _fc(rng, fallback, act):
    batches, depth, out_depth = 4, 768, 9
    w_scale = 0.7 if fallback else 0.3   # shift 0 (generic path) / shift -1 (the folded form's edge)
    weights = (rng.integers(-1, 2, size=(out_depth, depth)) * (rng.random((out_depth, depth)) < 0.08))
    weights = weights.astype(np.int8)
    x = TensorSpec((batches, depth), "int8", IN_SCALE, -128)
    wt = TensorSpec((out_depth, depth), "int8", [w_scale], [0], data=weights)
    bt = TensorSpec((out_depth,), "int32", IN_SCALE * w_scale, 0,
                    data=rng.integers(-100, 100, size=out_depth).astype(np.int32))
    y = TensorSpec((batches, out_depth), "int8", OUT_SCALE, 3)
    return tb.single_op_model("FULLY_CONNECTED", [x, wt, bt], [y], tb.fc_options(act))


CASES = {   # name -> model factory(rng, fallback, act)
    "conv1x1_c6_odd_out": lambda r, f, a: _conv(r, (1, 16, 32, 6), 7, 1, 1, "VALID", False, f, a),
    # one dead channel, computed (no compaction): the folded requantization's constant form
    "conv1x1_c16_s2": lambda r, f, a: _conv(r, (1, 16, 12, 16), 10, 1, 2, "VALID", False, f, a, 1),
    "conv3x3_c3_s2_same": lambda r, f, a: _conv(r, (1, 32, 32, 3), 5, 3, 2, "SAME", False, f, a),
    "conv3x3_c12_same": lambda r, f, a: _conv(r, (1, 16, 16, 12), 9, 3, 1, "SAME", False, f, a),
    # quad GEMM: K = 8 (the 8-step loop entered half way), 3 quads
    "conv1x1_c8_k8": lambda r, f, a: _conv(r, (1, 16, 24, 8), 12, 1, 1, "VALID", False, f, a),
    # quad GEMM: 10 quads of K = 288 (> the 16 KB weight cache: two chunks, a partial last quad), 15 pixels
    # (the last pair duplicates its pixel)
    "conv3x3_c32_s2_chunks": lambda r, f, a: _conv(r, (1, 8, 12, 32), 38, 3, 2, "VALID", False, f, a),
    # im2col_any (C % 4 != 0, C > 4)
    "conv3x3_c6_same": lambda r, f, a: _conv(r, (1, 16, 32, 6), 5, 3, 1, "SAME", False, f, a),
    # dead channels skipped (see DEAD): 50 live of 200 in two chunks, partial last quad, 15 pixels; K = 8
    "conv3x3_c32_dead_chunks": lambda r, f, a: _conv(r, (1, 8, 12, 32), 200, 3, 2, "VALID", False, f, a, 150),
    "conv1x1_c8_dead": lambda r, f, a: _conv(r, (1, 16, 24, 8), 60, 1, 1, "VALID", False, f, a, 50),
    # 1x1 with an odd pixel count: the lone last pixel's GEMM (tp_gemm_quads1, folded layers) after one
    # pixel pair; K = 256, 6 quads
    "conv1x1_c256_s2_3px": lambda r, f, a: _conv(r, (1, 6, 2, 256), 24, 1, 2, "VALID", False, f, a),
    # output zero point -128 (without a shift-0 channel: the "nosign" requantization): a computed dead
    # channel (its constant form), the lone last pixel; compacted dead channels in chunks (im2col, 15 px)
    "conv1x1_c16_s2_zp128": lambda r, f, a: _conv(r, (1, 16, 12, 16), 10, 1, 2, "VALID", False, f, a, 1, -128),
    "conv1x1_c256_s2_3px_zp128": lambda r, f, a: _conv(r, (1, 6, 2, 256), 24, 1, 2, "VALID", False, f, a, 0,
                                                       -128),
    "conv3x3_c32_dead_zp128": lambda r, f, a: _conv(r, (1, 8, 12, 32), 200, 3, 2, "VALID", False, f, a, 150,
                                                    -128),
    "dw3x3_c48_same": lambda r, f, a: _conv(r, (1, 8, 8, 48), 0, 3, 1, "SAME", True, f, a),
    "dw3x3_c12_s2_same": lambda r, f, a: _conv(r, (1, 16, 16, 12), 0, 3, 2, "SAME", True, f, a),
    "fc_4x768": lambda r, f, a: _fc(r, f, a),
}


DEAD = {"conv3x3_c32_dead_chunks": (200, 288, 50), "conv3x3_c32_dead_zp128": (200, 288, 50),
        "conv1x1_c8_dead": (60, 8, 10)}   # out_c, K, live


def _conv_weight_bytes(out_c: int, k: int, live: int) -> int:
    """Const bytes of an M4 convolution whose blob holds only the live channels (tp_conv.h): header (count,
    mode, fill pattern, channel map), live quads of int8 weights, multiplier and shift arrays."""
    kq = (k + 7) // 8 * 8
    return 8 + (out_c + 3) // 4 * 4 + (live + 1) // 2 * 4 + (live + 3) // 4 * (64 + 4 * kq) + 8 * out_c


def _inputs(rng, shape):
    return [rng.integers(-128, -60, size=shape, dtype=np.int8) for _ in range(2)]


@pytest.fixture(params=sorted(CASES), scope="module")
def case(request, tmp_path_factory):
    """(model path, [(input, interpreter output)]) for the case, with and without a shift-0 channel."""
    name = request.param
    out = []
    for fallback in (False, True):
        rng = np.random.default_rng(zlib.crc32(f"{name}/{fallback}".encode()))
        data = CASES[name](rng, fallback, "RELU" if fallback else "NONE")
        path, pairs = reference_case(tmp_path_factory, f"{name}_{int(fallback)}", data,
                                     lambda shape, rng=rng: _inputs(rng, shape))
        out.append((path, pairs))
    return out


@pytest.mark.unit
def test_host_m4_kernels(case, tmp_path):
    for i, (path, pairs) in enumerate(case):
        cm = compile_model(path, tmp_path / f"m{i}", kernels="m4")
        assert "tp_conv_ref_s8" not in [layer.kernel for layer in cm.layers], "M4 convolution not selected"
        dead = DEAD.get(path.stem.rsplit("_", 1)[0])
        if dead:   # the blob holds only the live channels (the kernel's compacted path)
            conv = [layer for layer in cm.layers if layer.kernel.startswith("tp_conv_")]
            assert [layer.weight_bytes for layer in conv] == [_conv_weight_bytes(*dead)]
        host = HostModel(cm)
        for x, want in pairs:
            assert_same(host.run(x), want, f"{path.name} host")


@pytest.mark.sim
def test_sim_m4_kernels(case):
    from tinyperf.firmware.compiler.simrun import SimModel
    for path, pairs in case:
        sim = SimModel("ic01", model=path)
        for x, want in pairs:
            got, _cycles = sim.run(x)
            assert_same(got, want, f"{path.name} simulated board")
