"""End to end through the benchmark protocol: the real firmware image on the simulated board receives the
input over the console (EEMBC `db` commands), runs `infer`, and its `results` (the dequantized output
tensor, 3 decimals) identify exactly the int8 output of the tflite-micro interpreter. With the softmax
outputs' scale of 1/256 two different int8 values are >= 0.0039 apart, so a match within 0.0005 means
the bytes are identical."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

runtime = pytest.importorskip("tflite_micro.python.tflite_micro.runtime")

pytestmark = [pytest.mark.sim,
              pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="needs arm-none-eabi-gcc")]


def _client(task):
    from tinyperf.firmware.build import build_firmware
    from tinyperf.runner.backends.sim import SimTransport
    from tinyperf.runner.protocol import DutClient
    from tinyperf.sim import SimBoard
    board = SimBoard.from_image(build_firmware(task).elf)
    client = DutClient(SimTransport(board, board.console, "sim:console"), command_timeout_s=5.0)
    client.sync(boot_timeout_s=2.0)
    return client


@pytest.mark.parametrize("task,model", [("kws01", "kws_ref_model"), ("ic01", "pretrainedResnet_quant")])
def test_protocol_results_match_interpreter(task, model, models_dir, samples_dir):
    interp = runtime.Interpreter.from_bytes((models_dir / f"{model}.tflite").read_bytes())
    client = _client(task)
    shape = (1, 49, 10, 1) if task == "kws01" else (1, 32, 32, 3)
    rng = np.random.default_rng(3)
    inputs = [rng.integers(-128, 128, size=shape, dtype=np.int8)]
    if task == "kws01":
        inputs.append(np.frombuffer((samples_dir / "kws01" / "sample_000.bin").read_bytes(), np.int8).reshape(shape))
    for x in inputs:
        # ic01's host sends uint8 pixels; the firmware subtracts 128 (input zero point -128, scale 1)
        payload = x.tobytes() if task == "kws01" else (x.astype(np.int16) + 128).astype(np.uint8).tobytes()
        client.load(payload)
        result = client.infer(1, 0, timeout_s=10.0)
        interp.set_input(x, 0)
        interp.invoke()
        want = (interp.get_output(0).astype(np.float64).reshape(-1) + 128) / 256
        assert result.results is not None and len(result.results) == want.size
        assert np.max(np.abs(np.array(result.results) - want)) <= 0.0005, (result.results, want)
