"""The real firmware image (arm-none-eabi build, M4 kernels with inline SMLAD/SXTB16 assembly) running
model_invoke() on the simulated Cortex-M4 gives BIT-IDENTICAL outputs to the tflite-micro interpreter,
for the four reference models on random inputs and the real samples."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

runtime = pytest.importorskip("tflite_micro.python.tflite_micro.runtime")

pytestmark = [pytest.mark.sim,
              pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="needs arm-none-eabi-gcc")]
TASKS = {"kws01": "kws_ref_model", "vww01": "vww_96_int8", "ic01": "pretrainedResnet_quant", "ad01": "ad01_int8"}
RANDOM_INPUTS = 6


@pytest.fixture(scope="module")
def sim_models(models_dir):
    from tinyperf.firmware.compiler.simrun import SimModel
    cache = {}

    def get(task):
        if task not in cache:
            cache[task] = SimModel(task, models_dir / f"{TASKS[task]}.tflite", kernels="m4")
        return cache[task]
    return get


def _check(sm, interp, inputs):
    for i, x in enumerate(inputs):
        interp.set_input(x, 0)
        interp.invoke()
        want = interp.get_output(0)
        got, cycles = sm.run(x)
        assert cycles > 0
        assert np.array_equal(got, want), f"input {i}: simulated {got.reshape(-1)[:10]} tflm {want.reshape(-1)[:10]}"


@pytest.mark.parametrize("task", list(TASKS))
def test_simulated_core_bit_exact(task, sim_models, models_dir):
    sm = sim_models(task)
    rng = np.random.default_rng(42)
    inputs = [np.full(sm.cm.input_shape, 127, np.int8)]
    inputs += [rng.integers(-128, 128, size=sm.cm.input_shape, dtype=np.int8) for _ in range(RANDOM_INPUTS)]
    _check(sm, runtime.Interpreter.from_bytes((models_dir / f"{TASKS[task]}.tflite").read_bytes()), inputs)


def test_simulated_core_real_samples(sim_models, models_dir, samples_dir):
    sm = sim_models("kws01")
    x = np.frombuffer((samples_dir / "kws01" / "sample_000.bin").read_bytes(), np.int8).reshape(sm.cm.input_shape)
    _check(sm, runtime.Interpreter.from_bytes((models_dir / "kws_ref_model.tflite").read_bytes()), [x])
    y, _ = sm.run(x)
    assert int(np.argmax(y)) == 5
    ad = sim_models("ad01")
    frames = np.frombuffer((samples_dir / "ad01" / "normal_id_01_00000000_hist_librosa.bin").read_bytes(),
                           "<f4").reshape(-1, 128)
    windows = []
    for start in (0, 97, 195):
        q = np.float32(frames[start:start + 5].reshape(1, 640)) / np.float32(ad.cm.input_scale)
        q = np.sign(q) * np.floor(np.abs(q) + np.float32(0.5))
        windows.append(np.clip(q + ad.cm.input_zero_point, -128, 127).astype(np.int8))
    _check(ad, runtime.Interpreter.from_bytes((models_dir / "ad01_int8.tflite").read_bytes()), windows)


def test_per_layer_cycles_add_up(sim_models):
    sm = sim_models("kws01")
    _, total = sm.run(np.zeros(sm.cm.input_shape, np.int8))
    assert set(sm.layer_cycles) == {layer.name for layer in sm.cm.layers}
    assert 0.99 * total <= sum(sm.layer_cycles.values()) <= total
