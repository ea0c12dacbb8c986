"""The four MLPerf Tiny reference models compiled to C and built for the host give BIT-IDENTICAL outputs to
the tflite-micro interpreter, with the reference and with the Cortex-M4 kernel sets, on 50 random inputs
per model plus the real samples."""

from __future__ import annotations

import numpy as np
import pytest
from tinyperf.firmware.compiler import compile_model
from tinyperf.firmware.compiler.hostbuild import HostModel

runtime = pytest.importorskip("tflite_micro.python.tflite_micro.runtime")

pytestmark = pytest.mark.unit
MODELS = ("kws_ref_model", "vww_96_int8", "pretrainedResnet_quant", "ad01_int8")
RANDOM_INPUTS = 50
_compiled: dict = {}


def host_model(models_dir, tmp_path_factory, name: str, kernels: str) -> HostModel:
    key = (name, kernels)
    if key not in _compiled:
        out = tmp_path_factory.mktemp(f"{name}_{kernels}")
        _compiled[key] = HostModel(compile_model(models_dir / f"{name}.tflite", out, kernels=kernels))
    return _compiled[key]


def interpreter(models_dir, name: str):
    return runtime.Interpreter.from_bytes((models_dir / f"{name}.tflite").read_bytes())


def quantize_input(x: np.ndarray, scale: float, zero_point: int) -> np.ndarray:
    """float32 -> int8 as a benchmark host does: round half away from zero, clamp."""
    q = np.float32(x) / np.float32(scale)
    q = np.sign(q) * np.floor(np.abs(q) + np.float32(0.5))
    return np.clip(q + zero_point, -128, 127).astype(np.int8)


def assert_same(host: HostModel, interp, inputs) -> None:
    for i, x in enumerate(inputs):
        interp.set_input(x, 0)
        interp.invoke()
        want = interp.get_output(0)
        got = host.run(x)
        assert got.shape == tuple(want.shape) and got.dtype == want.dtype
        assert np.array_equal(got, want), (f"input {i}: {np.count_nonzero(got != want)} of {got.size} output "
                                           f"bytes differ: got {got.reshape(-1)[:12]}, tflm {want.reshape(-1)[:12]}")


@pytest.mark.parametrize("kernels", ["ref", "m4"])
@pytest.mark.parametrize("name", MODELS)
def test_random_inputs_bit_exact(name, kernels, models_dir, tmp_path_factory):
    host = host_model(models_dir, tmp_path_factory, name, kernels)
    rng = np.random.default_rng(MODELS.index(name))
    shape = host.cm.input_shape
    inputs = [np.full(shape, -128, np.int8), np.full(shape, 127, np.int8),
              np.full(shape, host.cm.input_zero_point, np.int8)]
    inputs += [rng.integers(-128, 128, size=shape, dtype=np.int8) for _ in range(RANDOM_INPUTS)]
    assert_same(host, interpreter(models_dir, name), inputs)


@pytest.mark.parametrize("kernels", ["ref", "m4"])
def test_kws_real_sample(kernels, models_dir, samples_dir, tmp_path_factory):
    host = host_model(models_dir, tmp_path_factory, "kws_ref_model", kernels)
    x = np.frombuffer((samples_dir / "kws01" / "sample_000.bin").read_bytes(), dtype=np.int8)
    x = x.reshape(host.cm.input_shape)
    assert_same(host, interpreter(models_dir, "kws_ref_model"), [x])
    y = host.run(x).reshape(-1)
    assert int(np.argmax(y)) == 5 and int(y[5]) == 127   # "on", per the reference submission


@pytest.mark.parametrize("kernels", ["ref", "m4"])
def test_ad01_real_windows(kernels, models_dir, samples_dir, tmp_path_factory):
    """Every 5-frame window of the real spectrogram (stride 1 frame), quantized with the input scale/zp."""
    host = host_model(models_dir, tmp_path_factory, "ad01_int8", kernels)
    frames = np.frombuffer((samples_dir / "ad01" / "normal_id_01_00000000_hist_librosa.bin").read_bytes(),
                           dtype="<f4").reshape(-1, 128)
    windows = [quantize_input(frames[i:i + 5].reshape(1, 640), host.cm.input_scale, host.cm.input_zero_point)
               for i in range(len(frames) - 4)]
    assert len(windows) == 196
    assert_same(host, interpreter(models_dir, "ad01_int8"), windows)
