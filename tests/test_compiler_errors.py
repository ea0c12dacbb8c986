"""Bad input to the model compiler: unsupported operators, types and quantization give a CompileError that
names the operator, its index and the reason; nothing is written. Also the CLI and the arena size against
TFLite Micro's own planner."""

from __future__ import annotations

import re

import numpy as np
import pytest
from tinyperf.errors import CompileError
from tinyperf.firmware.compiler import compile_model
from tinyperf.firmware.compiler import tflite_builder as tb
from tinyperf.firmware.compiler.tflite_builder import TensorSpec

pytestmark = pytest.mark.unit


def _compile_bytes(data: bytes, tmp_path):
    path = tmp_path / "m.tflite"
    path.write_bytes(data)
    return compile_model(path, tmp_path / "out")


def _fc(in_type="int8", in_scale=0.1, w_const=True):
    x = TensorSpec((1, 8), in_type, in_scale, 0)
    w = TensorSpec((4, 8), "int8", 0.02, 0, data=np.ones((4, 8), np.int8) if w_const else None)
    y = TensorSpec((1, 4), "int8", 0.5, 0)
    return x, w, y


def test_unsupported_operator_named_with_index(tmp_path):
    x = TensorSpec((1, 8), "int8", 0.1, 0)
    tensors = [x, TensorSpec((1, 8), "int8", 0.1, 0), TensorSpec((1, 8), "int8", 1 / 128, 0)]
    data = tb.chain_model([("RESHAPE", [0], [1], tb.reshape_options((1, 8))),
                           ("TANH", [1], [2], None)], tensors, [0], [2])
    with pytest.raises(CompileError, match=r"operator 1 \(TANH\): operator not supported; supported"):
        _compile_bytes(data, tmp_path)
    assert not (tmp_path / "out" / "model.c").exists()


def test_unsupported_tensor_type(tmp_path):
    x, w, y = _fc()
    x = TensorSpec((1, 8), "int16", 0.1, 0)
    data = tb.single_op_model("FULLY_CONNECTED", [x, w, None], [y], tb.fc_options())
    with pytest.raises(CompileError, match=r"operator 0 \(FULLY_CONNECTED\): input tensor 0 .* type INT16; "
                                           r"only INT8"):
        _compile_bytes(data, tmp_path)


def test_missing_quantization(tmp_path):
    x, w, y = _fc(in_scale=None)
    data = tb.single_op_model("FULLY_CONNECTED", [x, w, None], [y], tb.fc_options())
    with pytest.raises(CompileError, match=r"operator 0 \(FULLY_CONNECTED\): input tensor 0 .*per-tensor "
                                           r"quantization \(found 0 scales\)"):
        _compile_bytes(data, tmp_path)


def test_runtime_weights_rejected(tmp_path):
    x, w, y = _fc(w_const=False)
    data = tb.chain_model([("FULLY_CONNECTED", [0, 1], [2], tb.fc_options())], [x, w, y], [0], [2])
    with pytest.raises(CompileError, match=r"operator 0 \(FULLY_CONNECTED\)"):
        _compile_bytes(data, tmp_path)


def test_unsupported_activation(tmp_path):
    x, w, y = _fc()
    opts = tb.fc_options()
    opts[1].fusedActivationFunction = 4  # TANH
    data = tb.single_op_model("FULLY_CONNECTED", [x, w, None], [y], opts)
    with pytest.raises(CompileError, match=r"operator 0 \(FULLY_CONNECTED\): fused activation 4 not supported"):
        _compile_bytes(data, tmp_path)


def test_softmax_output_quantization_checked(tmp_path):
    data = tb.single_op_model("SOFTMAX", [TensorSpec((1, 10), "int8", 0.1, 0)],
                              [TensorSpec((1, 10), "int8", 0.1, 0)], tb.softmax_options())
    with pytest.raises(CompileError, match=r"operator 0 \(SOFTMAX\): int8 softmax output must have scale 1/256"):
        _compile_bytes(data, tmp_path)


@pytest.mark.parametrize("payload", [b"", b"not a flatbuffer at all", b"\x00\x00\x00\x00TFL3garbage"])
def test_not_a_model(payload, tmp_path):
    with pytest.raises(CompileError):
        _compile_bytes(payload, tmp_path)


def test_cli_prints_layer_table(models_dir, tmp_path, capsys):
    from tinyperf.runner.cli import main
    rc = main(["compile", str(models_dir / "kws_ref_model.tflite"), "-o", str(tmp_path / "kws")])
    out = capsys.readouterr().out
    assert rc == 0
    assert re.search(r"^\s+0 CONV_2D\s+tp_conv_smallc_s8\s+320,000 ", out, re.MULTILINE)
    assert re.search(r"^\s+12 SOFTMAX\s+tp_softmax_ref_s8", out, re.MULTILINE)
    assert "RAM:" in out and (tmp_path / "kws" / "model.h").exists()
    header = (tmp_path / "kws" / "model.h").read_text()
    assert "#define MODEL_INPUT_BYTES  490" in header and "#define MODEL_OUTPUT_BYTES 12" in header
    assert '#define MODEL_HASH "618aeb155673dae92fa6a7f26608add5"' in header


def test_cli_error_exit_code(tmp_path, capsys):
    from tinyperf.runner.cli import main
    (tmp_path / "bad.tflite").write_bytes(b"garbage!")
    assert main(["compile", str(tmp_path / "bad.tflite"), "-o", str(tmp_path / "o")]) == 1
    assert "not a TFLite flatbuffer" in capsys.readouterr().err


@pytest.mark.parametrize("name", ["kws_ref_model", "vww_96_int8", "pretrainedResnet_quant", "ad01_int8"])
def test_arena_not_larger_than_tflm(name, models_dir, tmp_path, capfd):
    """Our compile-time plan needs no more tensor arena than TFLM's GreedyMemoryPlanner (the interpreter's
    'Arena allocation head'), with the reference kernels (no im2col scratch)."""
    runtime = pytest.importorskip("tflite_micro.python.tflite_micro.runtime")
    data = (models_dir / f"{name}.tflite").read_bytes()
    interp = runtime.Interpreter.from_bytes(data)
    capfd.readouterr()
    interp.print_allocations()
    err = capfd.readouterr().err
    head = int(re.search(r"Arena allocation head (\d+)", err).group(1))
    cm = compile_model(models_dir / f"{name}.tflite", tmp_path, kernels="ref")
    assert cm.arena_bytes <= head, f"arena {cm.arena_bytes} > TFLM {head}"
