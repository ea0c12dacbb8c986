#!/usr/bin/env python3
"""Build an EEMBC-format dataset (y_labels.csv + one .bin per stimulus) labelled by the TensorFlow Lite Micro
reference interpreter, for accuracy-mode tests and for users without the real data.

    python scripts/make_dataset.py --task kws01 --out data/kws01 --count 50 --seed 1
    python scripts/make_dataset.py --task ic01 --out data/ic01 --inputs img0.bin img1.bin

Inputs are random (seeded) or the given .bin files. Each is converted to the model's int8 input the way
the firmware does (issue 4): kws01 bytes as int8; vww01/ic01 uint8 minus 128; ad01 float32 windows of 2560
bytes every 512 bytes quantized with the model's input scale and zero point (round half away from zero).
Labels: the interpreter's argmax (first index on ties) for kws01/vww01/ic01. For ad01 a file's score is the
mean over its windows of the mean squared error between the dequantized input and the dequantized
reconstruction, and the files scoring above the median are labelled 1 (anomaly), the rest 0. A
dataset.json beside y_labels.csv records how the set was generated (seed, model md5, tflite-micro version).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

import numpy as np

from tinyperf.runner.dataset import windows
from tinyperf.runner.models import reference_model
from tinyperf.runner.tasks import TASKS, get_task


def interpreter(model: Path):
    from tflite_micro.python.tflite_micro import runtime

    return runtime.Interpreter.from_bytes(model.read_bytes())


def quant(details) -> tuple[float, int]:
    q = details["quantization_parameters"]
    return float(q["scales"][0]), int(q["zero_points"][0])


def to_input(task, data: bytes, in_scale: float, in_zp: int) -> np.ndarray:
    """Device input conversion of issue 4 (int8 array in the model's input layout, flattened)."""
    if task.name == "kws01":
        return np.frombuffer(data, np.int8)
    if task.name in ("vww01", "ic01"):
        return (np.frombuffer(data, np.uint8).astype(np.int16) - 128).astype(np.int8)
    x = np.frombuffer(data, "<f4").astype(np.float32)
    q = x / np.float32(in_scale)
    q = np.sign(q) * np.floor(np.abs(q) + 0.5) + in_zp  # round half away from zero
    return np.clip(q, -128, 127).astype(np.int8)


def infer(it, task, data: bytes) -> np.ndarray:
    d_in = it.get_input_details(0)
    x = to_input(task, data, *quant(d_in)).reshape(d_in["shape"])
    it.set_input(x, 0)
    it.invoke()
    return np.array(it.get_output(0)).reshape(-1)


def ad_score(it, task, data: bytes) -> float:
    """Mean over the file's windows of the MSE between dequantized input and dequantized reconstruction."""
    in_scale, in_zp = quant(it.get_input_details(0))
    out_scale, out_zp = quant(it.get_output_details(0))
    errs = []
    for w in windows(data, task.window_bytes, task.window_stride):
        x = (to_input(task, w, in_scale, in_zp).astype(np.float32) - in_zp) * in_scale
        y = (infer(it, task, w).astype(np.float32) - out_zp) * out_scale
        errs.append(float(np.mean((x - y) ** 2)))
    return float(np.mean(errs))


def random_inputs(task, count: int, seed: int, frames: int) -> list[bytes]:
    rng = np.random.default_rng(seed)
    if task.name == "ad01":
        return [
            np.clip(rng.normal(-28.0, 11.0, frames * 128), -80.0, 14.0).astype("<f4").tobytes()
            for _ in range(count)
        ]
    return [rng.integers(0, 256, task.input_bytes, dtype=np.uint8).tobytes() for _ in range(count)]


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--task", required=True, choices=list(TASKS))
    p.add_argument("--out", required=True, type=Path)
    p.add_argument("--count", type=int, default=20, help="random stimuli (ignored with --inputs)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--frames", type=int, default=10, help="ad01: frames of 128 bins per random file")
    p.add_argument("--inputs", nargs="*", type=Path, help="use these .bin files as stimuli")
    p.add_argument("--model", type=Path, help="label with this model (default: the reference model)")
    args = p.parse_args(argv)
    task = get_task(args.task)
    model = args.model or reference_model(task.name)
    it = interpreter(model)
    if args.inputs:
        names = [f.name for f in args.inputs]
        blobs = [f.read_bytes() for f in args.inputs]
    else:
        blobs = random_inputs(task, args.count, args.seed, args.frames)
        names = [f"{task.folder}_{args.seed}_{i:05d}.bin" for i in range(len(blobs))]
    args.out.mkdir(parents=True, exist_ok=True)
    if task.metric == "auc":
        scores = [ad_score(it, task, b) for b in blobs]
        cut = float(np.median(scores))
        labels = [int(s > cut) for s in scores]
        rows = [f"{n},2,{y},{task.window_bytes},{task.window_stride}" for n, y in zip(names, labels)]
        extra = {"scores": dict(zip(names, scores)), "label_rule": "score > median -> 1"}
    else:
        outputs = [infer(it, task, b) for b in blobs]
        labels = [int(np.argmax(o)) for o in outputs]
        rows = [f"{n},{task.classes},{y}" for n, y in zip(names, labels)]
        extra = {"outputs_int8": {n: o.tolist() for n, o in zip(names, outputs)}}
    for n, b in zip(names, blobs):
        (args.out / n).write_bytes(b)
    (args.out / "y_labels.csv").write_text("\n".join(rows) + "\n")
    import tflite_micro

    meta = {
        "generated_by": "scripts/make_dataset.py",
        "task": task.name,
        "seed": args.seed,
        "inputs": "given" if args.inputs else "random",
        "model": str(model),
        "model_md5": hashlib.md5(model.read_bytes()).hexdigest(),
        "tflite_micro": getattr(tflite_micro, "__version__", "unknown"),
        **extra,
    }
    (args.out / "dataset.json").write_text(json.dumps(meta, indent=1) + "\n")
    print(f"{args.out}: {len(blobs)} stimuli for {task.name}")
    return 0


if __name__ == "__main__":
    from tinyperf.errors import TinyperfError

    try:
        sys.exit(main())
    except TinyperfError as e:
        print(f"make_dataset: error: {e}", file=sys.stderr)
        sys.exit(1)
