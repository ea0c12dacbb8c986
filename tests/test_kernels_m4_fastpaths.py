"""Fast paths of the Cortex-M4 kernels that the random-shape tests rarely reach, checked bit for bit against
the tflite-micro interpreter on one-operator models, (a) with the kernels built for the host (portable C
paths) and (b) on the simulated board (the inline-assembly paths, -O2 firmware):
- the folded requantization (tp_requant_rs / TP_RQ_PAIR / TP_DW_REQUANT4) at its edge, output shift -1
  (effective scale in [0.25, 0.5)), mixed with small scales; and the fallback when a channel has shift 0;
- the SRAM weight-cache copy (tp_copy_words) with an odd channel count and K % 4 != 0 (byte tail);
- the 3x3 depthwise interior/border paths with stride 1 and 2.
The models take the ic01 firmware's input (3072 bytes, any [1, H, W, C] with H*W*C = 3072, zero point -128);
inputs stay in [-128, -60] and weights are small so that most outputs are not clamped."""

from __future__ import annotations

import zlib

import numpy as np
import pytest
from tinyperf.firmware.compiler import compile_model
from tinyperf.firmware.compiler import tflite_builder as tb
from tinyperf.firmware.compiler.hostbuild import HostModel
from tinyperf.firmware.compiler.tflite_builder import TensorSpec

runtime = pytest.importorskip("tflite_micro.python.tflite_micro.runtime")

IN_SCALE = OUT_SCALE = 0.02   # effective scale of channel c = its weight scale


def _w_scales(rng, out_c: int, fallback: bool) -> list[float]:
    """Weight scales = effective output scales: shift -1 ([0.25, 0.5)) and shift <= -2 channels; with
    `fallback` one channel in [0.5, 1) (shift 0: the kernels' generic requantization)."""
    s = np.where(rng.random(out_c) < 0.5, rng.uniform(0.26, 0.49, out_c), rng.uniform(0.005, 0.2, out_c))
    if fallback:
        s[int(rng.integers(out_c))] = 0.7
    return [float(v) for v in s.astype(np.float32)]


def _conv(rng, in_shape, out_c, k, stride, padding, depthwise, fallback, act):
    n, h, w, c = in_shape
    if depthwise:
        out_c = c
    oh = (h + stride - 1) // stride if padding == "SAME" else (h - k) // stride + 1
    ow = (w + stride - 1) // stride if padding == "SAME" else (w - k) // stride + 1
    w_scales = _w_scales(rng, out_c, fallback)
    shape_w = (1, k, k, out_c) if depthwise else (out_c, k, k, c)
    weights = rng.integers(-1, 2, size=shape_w).astype(np.int8)
    x = TensorSpec(in_shape, "int8", IN_SCALE, -128)
    wt = TensorSpec(shape_w, "int8", w_scales, [0] * out_c, data=weights,
                    quantized_dimension=3 if depthwise else 0)
    bt = TensorSpec((out_c,), "int32", [IN_SCALE * s for s in w_scales], [0] * out_c,
                    data=rng.integers(-100, 100, size=out_c).astype(np.int32))
    y = TensorSpec((n, oh, ow, out_c), "int8", OUT_SCALE, int(rng.integers(-10, 10)))
    if depthwise:
        return tb.single_op_model("DEPTHWISE_CONV_2D", [x, wt, bt], [y],
                                  tb.depthwise_options(padding, (stride, stride), (1, 1), 1, act))
    return tb.single_op_model("CONV_2D", [x, wt, bt], [y],
                              tb.conv2d_options(padding, (stride, stride), (1, 1), act))


def _fc(rng, fallback, act):
    batches, depth, out_depth = 4, 768, 9
    w_scale = 0.7 if fallback else 0.3   # shift 0 (generic path) / shift -1 (TP_RQ_PAIR's edge)
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
    "conv1x1_c16_s2": lambda r, f, a: _conv(r, (1, 16, 12, 16), 10, 1, 2, "VALID", False, f, a),
    "conv3x3_c3_s2_same": lambda r, f, a: _conv(r, (1, 32, 32, 3), 5, 3, 2, "SAME", False, f, a),
    "conv3x3_c12_same": lambda r, f, a: _conv(r, (1, 16, 16, 12), 9, 3, 1, "SAME", False, f, a),
    "dw3x3_c48_same": lambda r, f, a: _conv(r, (1, 8, 8, 48), 0, 3, 1, "SAME", True, f, a),
    "dw3x3_c12_s2_same": lambda r, f, a: _conv(r, (1, 16, 16, 12), 0, 3, 2, "SAME", True, f, a),
    "fc_4x768": lambda r, f, a: _fc(r, f, a),
}


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
        path = tmp_path_factory.mktemp(name) / f"{name}_{int(fallback)}.tflite"
        path.write_bytes(data)
        interp = runtime.Interpreter.from_bytes(data)
        pairs = []
        for x in _inputs(rng, interp.get_input_details(0)["shape"]):
            interp.set_input(x, 0)
            interp.invoke()
            pairs.append((x, interp.get_output(0).copy()))
        out.append((path, pairs))
    return out


def _assert_same(got, want, label):
    bad = np.flatnonzero(got.reshape(-1) != want.reshape(-1))
    assert bad.size == 0, (f"{label}: {bad.size} of {got.size} outputs differ (first at {bad[:5]}: got "
                           f"{got.reshape(-1)[bad[:5]]}, tflm {want.reshape(-1)[bad[:5]]})")
    # the outputs must not be all clamped, or the requantization would go untested
    assert len(np.unique(want)) > 8, f"{label}: degenerate test model (outputs {np.unique(want)})"


@pytest.mark.unit
def test_host_m4_kernels(case, tmp_path):
    for i, (path, pairs) in enumerate(case):
        cm = compile_model(path, tmp_path / f"m{i}", kernels="m4")
        host = HostModel(cm)
        for x, want in pairs:
            _assert_same(host.run(x), want, f"{path.name} host")


@pytest.mark.sim
def test_sim_m4_kernels(case):
    from tinyperf.firmware.compiler.simrun import SimModel
    for path, pairs in case:
        sim = SimModel("ic01", model=path)
        for x, want in pairs:
            got, _cycles = sim.run(x)
            _assert_same(got, want, f"{path.name} simulated board")
