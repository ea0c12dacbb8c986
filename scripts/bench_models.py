#!/usr/bin/env python3
"""Latency and memory of the four MLPerf Tiny reference models with tinyperf's compiler and kernels.

For each model: build the firmware (tinyperf.firmware.build.build_firmware), run one inference on the
simulated NUCLEO-L4R5ZI at 120 MHz (tinyperf.sim.SimBoard, EEMBC protocol via runner.protocol.DutClient)
and print one table: simulated cycles per inference, milliseconds, MACs, cycles per MAC, the published
X-CUBE-AI 10.2 latency on silicon (MLPerf Tiny v1.3) and our ratio to it, flash (weights + model and
kernel code) and RAM (arena + stack). Per-layer cycles come from code hooks on the entry of every
tp_layer_NN_<op> function (layer i ends where layer i+1 starts; the last one at model_invoke's return).

The arena is compared with TFLite Micro's: the interpreter's RecordingMicroAllocator head (tensor arena
without TFLM's persistent structures) and total, from `print_allocations()`.

    python3 scripts/bench_models.py                 # all four, m4 kernels, simulated
    python3 scripts/bench_models.py --kernels ref --tasks kws01 ad01
    python3 scripts/bench_models.py --no-sim        # host-side figures only (MACs, memory)
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
TASKS = {  # task -> (model file, X-CUBE-AI 10.2 on NUCLEO-L4R5ZI, MLPerf Tiny v1.3 closed, ms)
    "kws01": ("kws_ref_model.tflite", 43.4),
    "vww01": ("vww_96_int8.tflite", 89.4),
    "ic01": ("pretrainedResnet_quant.tflite", 165.7),
    "ad01": ("ad01_int8.tflite", 4.79),
}
HCLK_HZ = 120_000_000


def models_dir() -> Path:
    return Path(os.environ.get("TINYPERF_MODELS", REPO.parent / "shared" / "models"))


def tflm_arena(model: Path) -> tuple[int, int]:
    """(head, total) bytes of the TFLM interpreter's arena for this model (RecordingMicroAllocator)."""
    code = ("import sys, numpy as np\n"
            "from tflite_micro.python.tflite_micro import runtime\n"
            f"it = runtime.Interpreter.from_bytes(open({str(model)!r}, 'rb').read())\n"
            "it.print_allocations()\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    text = r.stdout + r.stderr
    head = re.search(r"Arena allocation head (\d+)", text)
    total = re.search(r"Arena allocation total (\d+)", text)
    if not head or not total:
        raise RuntimeError(f"could not read TFLM allocations for {model}: {text[-400:]}")
    return int(head.group(1)), int(total.group(1))




def model_flash(symbols: dict) -> tuple[int, int]:
    """(const data, code) bytes of the model in the image: l<NN>_* arrays and structs, tp_* functions."""
    data = sum(size for name, (_, size, t) in symbols.items() if t == "STT_OBJECT" and re.match(r"l\d+(_|$)", name))
    code = sum(size for name, (_, size, t) in symbols.items()
               if t == "STT_FUNC" and (name.startswith("tp_") and not name.startswith("tp_fmt")
                                       and (name.startswith("tp_layer_") or name.endswith("_s8")
                                            or name.endswith("_f32") or name == "tp_conv_scratch_bytes"))
               or name in ("model_invoke", "model_input", "model_output"))
    return data, code


def stack_estimate(model_dir: Path, kernels: str) -> int:
    """Static worst-case stack of model_invoke (bytes) from arm-none-eabi-gcc -fstack-usage: invoke's frame
    + the deepest layer function + its kernel + the kernel file's largest helper."""
    from tinyperf.firmware.compiler import INCLUDE_DIR, kernel_sources
    flags = ["-mcpu=cortex-m4", "-mthumb", "-mfpu=fpv4-sp-d16", "-mfloat-abi=hard", "-O2", "-std=c11",
             "-ffunction-sections", "-fstack-usage", f"-I{INCLUDE_DIR}", f"-I{model_dir}"]
    usage: dict[str, int] = {}
    per_file_max: dict[str, int] = {}
    with tempfile.TemporaryDirectory() as tmp:
        for src in [model_dir / "model.c", *kernel_sources()]:
            obj = Path(tmp) / (src.parent.name + "_" + src.stem + ".o")
            subprocess.run(["arm-none-eabi-gcc", *flags, "-c", str(src), "-o", str(obj)], check=True,
                           capture_output=True)
            for line in obj.with_suffix(".su").read_text().splitlines():
                loc, n, _ = line.split("\t")
                fn = loc.rsplit(":", 1)[-1]
                usage[fn] = int(n)
                per_file_max[src.stem] = max(per_file_max.get(src.stem, 0), int(n))
    text = (model_dir / "model.c").read_text()
    deepest = 0
    for layer, kernel in re.findall(r"void (tp_layer_\w+)\(void\)\n\{\n\s+(?:\(void\))?(\w+)\(", text):
        k = usage.get(kernel, 0) + (per_file_max.get(kernel, 0) if kernel in per_file_max else 0)
        deepest = max(deepest, usage.get(layer, 0) + k)
    return usage.get("model_invoke", 0) + deepest


def simulate(task: str, model: Path, kernels: str) -> dict:
    """model_invoke on the simulated core (tinyperf.firmware.compiler.simrun.SimModel): cycles of the second
    of two inferences (warm caches) and per-layer cycles; output checked against the interpreter."""
    from tflite_micro.python.tflite_micro import runtime
    from tinyperf.firmware.compiler.simrun import SimModel

    sm = SimModel(task, model, kernels=kernels)
    rng = np.random.default_rng(0)
    x = rng.integers(-128, 128, size=sm.cm.input_shape, dtype=np.int8)
    sm.run(x)
    y, cycles = sm.run(x)
    interp = runtime.Interpreter.from_bytes(model.read_bytes())
    interp.set_input(x, 0)
    interp.invoke()
    data, code = model_flash(sm.symbols)
    return dict(cycles=cycles, layers=dict(sm.layer_cycles), exact=bool(np.array_equal(y, interp.get_output(0))),
                const_bytes=data, code_bytes=code, elf=sm.build.elf, stack=sm.stack_bytes)


def protocol_latency_us(task: str, model: Path, kernels: str) -> int | None:
    """Latency the firmware itself reports over the EEMBC protocol (`infer 1 1`, m-lap-us timestamps)."""
    from tinyperf.firmware.build import TASKS as FW_TASKS
    from tinyperf.firmware.build import build_firmware
    from tinyperf.runner.backends.sim import SimTransport
    from tinyperf.runner.protocol import DutClient
    from tinyperf.sim import SimBoard

    build = build_firmware(task, model=model, kernels=kernels)
    board = SimBoard.from_image(build.elf)
    client = DutClient(SimTransport(board, board.console, "sim:console"), command_timeout_s=5.0)
    client.sync(boot_timeout_s=2.0)
    rng = np.random.default_rng(0)
    client.load(rng.integers(0, 256, size=FW_TASKS[task].input_bytes, dtype=np.uint8).tobytes())
    return client.infer(1, 1, timeout_s=30.0).elapsed_us


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
    ap.add_argument("--kernels", default="m4", choices=("m4", "ref"))
    ap.add_argument("--no-sim", action="store_true", help="host-side figures only (MACs, memory)")
    ap.add_argument("--per-layer", action="store_true", help="print the per-layer cycle table")
    ap.add_argument("--baseline", action="store_true",
                    help="also simulate the reference kernels (firmware/kernels/ref) in the same run and print "
                         "the speed-up over them")
    ap.add_argument("--protocol", action="store_true",
                    help="also run the firmware over the EEMBC protocol and print the latency it reports")
    args = ap.parse_args(argv)

    from tinyperf.firmware.compiler import compile_model

    rows, per_layer = [], {}
    for task in args.tasks:
        file, target_ms = TASKS[task]
        model = models_dir() / file
        with tempfile.TemporaryDirectory() as tmp:
            cm = compile_model(model, tmp, kernels=args.kernels)
            # measured on the simulated core below; the static estimate only without it
            stack = stack_estimate(Path(tmp), args.kernels) if args.no_sim else 0
        head, total = tflm_arena(model)
        row = dict(task=task, macs=cm.macs, arena=cm.arena_bytes, weights=cm.weights_bytes, stack=stack,
                   tflm_head=head, tflm_total=total, target_ms=target_ms)
        if not args.no_sim:
            t0 = time.monotonic()
            sim = simulate(task, model, args.kernels)
            row.update(cycles=sim["cycles"], code=sim["code_bytes"], const=sim["const_bytes"],
                       exact=sim["exact"], host_s=time.monotonic() - t0, stack=sim["stack"])
            if args.protocol:
                try:
                    row["protocol_us"] = protocol_latency_us(task, model, args.kernels)
                except Exception as e:  # the firmware path belongs to other modules; report, continue
                    row["protocol_us"] = f"failed: {str(e).splitlines()[0][:80]}"
            if args.baseline:
                row["baseline_cycles"] = simulate(task, model, "ref")["cycles"]
            per_layer[task] = (cm, sim["layers"])
        rows.append(row)

    print(f"kernels: {args.kernels}; cycles of model_invoke on the simulated core (firmware image, flash "
          f"5 WS + ART); latency at {HCLK_HZ / 1e6:.0f} MHz; target = X-CUBE-AI 10.2 "
          "on NUCLEO-L4R5ZI (MLPerf Tiny v1.3)")
    hdr = (f"{'task':6} {'cycles':>10} {'ms':>8} {'target':>7} {'ratio':>6} {'MACs':>10} {'cyc/MAC':>7} "
           f"{'flash B':>8} {'(wts':>7} {'code)':>6} {'RAM B':>7} {'(arena':>7} {'stack)':>6} "
           f"{'TFLM head':>9} {'TFLM tot':>8} {'exact':>5}")
    print(hdr)
    for r in rows:
        if "cycles" in r:
            ms = r["cycles"] / HCLK_HZ * 1e3
            lat = f"{r['cycles']:>10} {ms:>8.2f} {r['target_ms']:>7.2f} {ms / r['target_ms']:>6.2f} "
            cpm = f"{r['cycles'] / r['macs']:>7.2f}"
            flash = r["const"] + r["code"]
            fl = f"{flash:>8} {r['const']:>7} {r['code']:>6}"
        else:
            lat = f"{'pending':>10} {'pending':>8} {r['target_ms']:>7.2f} {'-':>6} "
            cpm = f"{'-':>7}"
            fl = f"{r['weights']:>8} {r['weights']:>7} {'?':>6}"
        ram = r["arena"] + r["stack"]
        print(f"{r['task']:6} {lat}{r['macs']:>10} {cpm} {fl} {ram:>7} {r['arena']:>7} {r['stack']:>6} "
              f"{r['tflm_head']:>9} {r['tflm_total']:>8} {r.get('exact', '-')!s:>5}")
    if args.no_sim:
        print("simulated columns pending (--no-sim)")
    for r in rows:
        if "baseline_cycles" in r:
            print(f"{r['task']}: reference kernels {r['baseline_cycles']} cycles in this run; "
                  f"{args.kernels} kernels {r['baseline_cycles'] / r['cycles']:.2f}x faster")
    for r in rows:
        if "protocol_us" in r:
            print(f"{r['task']}: firmware-reported latency over the EEMBC protocol: {r['protocol_us']} us")
    stack_src = ("static estimate (-fstack-usage)" if args.no_sim
                 else "stack high-water mark of model_invoke on the simulated core")
    print("flash = model const data + model/kernel code (ELF symbols); RAM = arena + " + stack_src + "; TFLM head/total = tflite-micro interpreter arena (RecordingMicroAllocator); "
          "exact = simulated output == interpreter output")
    if args.per_layer:
        for task, (cm, layers) in per_layer.items():
            print(f"\n{task}: per-layer cycles")
            print(f"  {'layer':34} {'kernel':20} {'cycles':>9} {'%':>5} {'MACs':>9} {'cyc/MAC':>7}  detail")
            total = sum(layers.values())
            for info in cm.layers:
                c = layers.get(info.name, 0)
                cpm = f"{c / info.macs:7.2f}" if info.macs else f"{'-':>7}"
                print(f"  {info.name:34} {info.kernel or '(in place)':20} {c:>9} {100 * c / total:5.1f} "
                      f"{info.macs:>9} {cpm}  {info.detail}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
