"""End to end on the simulated board: `tinyperf bench` with our firmware built from the reference models.

Windows are shortened (--min-seconds 0.5) so the suite stays fast: the procedure is the same, the results are
marked non-compliant. Figures are checked against references independent of the code under test: the
board's cycle counter (not the firmware's m-lap-us timestamps) and the tflite-micro interpreter's labels.
Expensive runs are module fixtures shared by several tests.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.sim

sim = pytest.importorskip("tinyperf.sim")
build = pytest.importorskip("tinyperf.firmware.build")

from tinyperf.runner.backends.sim import SimTransport  # noqa: E402
from tinyperf.runner.bench import BenchConfig, run_bench  # noqa: E402
from tinyperf.runner.cli import main  # noqa: E402
from tinyperf.runner.dataset import random_stimuli  # noqa: E402
from tinyperf.runner.protocol import DutClient  # noqa: E402
from tinyperf.runner.tasks import get_task  # noqa: E402

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "make_dataset.py"
MIN_SECONDS = 0.5
RESULTS = "closed/tinyperf/results/NUCLEO_L4R5ZI_tinyperf_sim/kws"


@pytest.fixture(scope="module", autouse=True)
def reference_models(models_dir):
    old = os.environ.get("TINYPERF_MODELS")
    os.environ["TINYPERF_MODELS"] = str(models_dir)
    yield
    if old is None:
        del os.environ["TINYPERF_MODELS"]
    else:
        os.environ["TINYPERF_MODELS"] = old


@pytest.fixture(scope="module")
def kws_image(models_dir):
    return Path(build.build_firmware("kws01", model=str(models_dir / "kws_ref_model.tflite")).elf)


@pytest.fixture(scope="module")
def kws_dataset(models_dir, samples_dir, tmp_path_factory):
    """Three random inputs labelled by the tflite-micro interpreter plus the real sample (class 5)."""
    out = tmp_path_factory.mktemp("kws_ds")
    env = {**os.environ, "TINYPERF_MODELS": str(models_dir)}
    r = subprocess.run(
        [sys.executable, str(SCRIPT), "--task", "kws01", "--out", str(out), "--count", "3", "--seed", "5"],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    (out / "sample_000.bin").write_bytes((samples_dir / "kws01" / "sample_000.bin").read_bytes())
    with (out / "y_labels.csv").open("a") as f:
        f.write("sample_000.bin,12,5\n")
    return out


def bench(out, **kw):
    base = dict(tasks=["kws01"], modes=["performance"], out=out, min_seconds=MIN_SECONDS, progress=False)
    base.update(kw)
    return run_bench(BenchConfig(**base))


def cli(out, *extra):
    return main(
        [
            "bench",
            "--task",
            "kws01",
            "--mode",
            "performance",
            "--min-seconds",
            str(MIN_SECONDS),
            "--out",
            str(out),
            "--json",
            *extra,
        ]
    )


@pytest.fixture(scope="module")
def perf_run(kws_image, tmp_path_factory):
    """`tinyperf bench --task kws01 --mode performance` through the CLI (JSON output)."""
    import contextlib
    import io

    out = tmp_path_factory.mktemp("perf")
    buf = io.StringIO()
    with contextlib.redirect_stdout(buf):
        rc = cli(out, "--firmware", str(kws_image))
    return rc, json.loads(buf.getvalue()), out


@pytest.fixture(scope="module")
def accuracy_run(kws_image, kws_dataset, tmp_path_factory):
    [entry] = bench(
        tmp_path_factory.mktemp("acc1"), modes=["accuracy"], dataset=kws_dataset, firmware=kws_image
    )
    return entry


def cycles_per_inference(image: Path, data: bytes) -> float:
    """From the board's cycle counter, not the firmware's timestamps: cycles of `infer 3 0` minus cycles of
    `infer 1 0`, halved (the difference cancels the command's own overhead)."""
    board = sim.SimBoard.from_image(str(image), board="nucleo_l4r5zi")
    dut = DutClient(SimTransport(board, board.console, "sim"))
    dut.sync()
    dut.load(data)
    spent = []
    for n in (1, 3):
        c0 = board.cycles
        dut.infer(n, 0, timeout_s=30.0)
        spent.append(board.cycles - c0)
    return (spent[1] - spent[0]) / 2


def test_cli_performance_matches_cycle_counter(perf_run, kws_image):
    rc, doc, out = perf_run
    [entry] = doc["entries"]
    assert entry["status"] == "complete", entry
    assert rc == 1  # shortened windows: not valid for publishing, and the exit code says so
    stimuli = random_stimuli(get_task("kws01"), 5, seed=0)  # what bench sends without a dataset
    d = out / RESULTS / "performance"
    windows = json.loads((d / "results.json").read_text())["outcome"]["details"]
    expected = [120e6 / cycles_per_inference(kws_image, data) for data in stimuli]
    for w, ips in zip(windows, expected):
        assert w["ips"] == pytest.approx(ips, rel=1e-3)
    assert entry["summary"]["median_ips"] == pytest.approx(float(np.median(expected)), rel=1e-3)
    assert entry["summary"]["latency_ms"] == pytest.approx(1e3 / entry["summary"]["median_ips"])
    assert {p.name for p in d.iterdir()} >= {"results.txt", "log.txt", "results.json"}
    assert "Median throughput is" in (d / "results.txt").read_text()
    system = json.loads((out / "closed/tinyperf/systems/NUCLEO_L4R5ZI_tinyperf_sim.json").read_text())
    assert system["tinyperf"]["simulated"] is True
    assert (out / "charts" / "latency.png").read_bytes()[:4] == b"\x89PNG"


def test_layer_breakdown_adds_up(perf_run, kws_image):
    _, doc, out = perf_run
    layers = doc["entries"][0]["summary"]["layer_cycles"]
    assert len(layers) == 13 and all(v > 0 for v in layers.values())
    # one inference = the sum of its layers (the last one also carries the loop overhead)
    assert sum(layers.values()) == pytest.approx(120e6 / doc["entries"][0]["summary"]["median_ips"], rel=0.02)
    assert (out / "charts" / "layers_kws01.png").exists()


def test_resume_skips_done_work(perf_run, kws_image, capsys):
    _, doc, out = perf_run
    t0 = time.monotonic()
    cli(out, "--resume", "--firmware", str(kws_image))
    again = json.loads(capsys.readouterr().out)
    assert time.monotonic() - t0 < 20
    assert again["entries"][0]["status"] == "resumed"
    assert again["entries"][0]["summary"] == doc["entries"][0]["summary"]


def test_energy_mode_gives_uj(tmp_path, kws_image):
    [e] = bench(tmp_path, modes=["energy"])
    assert e.status == "complete", e.error
    s = e.outcome["summary"]
    assert s["energy_uJ_per_inference"] > 0
    assert 5.0 < s["avg_power_mW"] < 300.0
    for w in e.outcome["details"]:
        assert w["energy_uJ_per_inference"] == pytest.approx(
            w["avg_power_mW"] * 1e3 * w["seconds"] / w["iterations"]
        )


def test_accuracy_agrees_with_interpreter(accuracy_run):
    assert accuracy_run.status == "complete", accuracy_run.error
    assert accuracy_run.outcome["summary"]["top1"] == 1.0
    assert all(d["predicted"] == d["label"] for d in accuracy_run.outcome["details"])
    # the real sample: int8 output 127 for class 5 (samples README) = (127 + 128) / 256 = 0.996
    assert accuracy_run.outcome["details"][-1]["results"][5] == 0.996


def test_two_workers_give_identical_results(accuracy_run, kws_dataset, kws_image, tmp_path):
    [two] = bench(tmp_path, modes=["accuracy"], dataset=kws_dataset, workers=2, firmware=kws_image)
    assert two.status == "complete", two.error
    assert two.outcome == accuracy_run.outcome


def test_missing_dataset_file_is_named(tmp_path, kws_dataset):
    import shutil

    ds = tmp_path / "ds"
    shutil.copytree(kws_dataset, ds)
    (ds / "sample_000.bin").unlink()
    [e] = bench(tmp_path / "out", modes=["accuracy"], dataset=ds)
    assert e.status == "failed" and "sample_000.bin is missing" in e.error


def test_pty_gives_the_same_results(
    tmp_path, kws_image, kws_dataset, perf_run, accuracy_run, models_dir, capsys
):
    proc = subprocess.Popen(
        [sys.executable, "-m", "tinyperf", "sim", str(kws_image), "--pty", "--max-seconds", "100000"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        port = None
        deadline = time.monotonic() + 60
        while port is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            m = re.search(r"/dev/pts/\d+", line or "")
            port = m.group(0) if m else None
        assert port, "tinyperf sim --pty printed no pty path"
        serial = dict(
            backend="serial",
            port=port,
            model=models_dir / "kws_ref_model.tflite",
            backend_options={"timeout_scale": 50},
        )
        [perf] = bench(tmp_path / "perf", **serial)  # same random stimuli as perf_run
        [acc] = bench(tmp_path / "acc", modes=["accuracy"], dataset=kws_dataset, **serial)
        # tinyperf validate: the same image in-process and behind the pty (standing in for the board)
        rc = main(
            [
                "validate",
                "--port",
                port,
                "--task",
                "kws01",
                "--firmware",
                str(kws_image),
                "--stimuli",
                "2",
                "--window",
                "0.3",
                "--timeout-scale",
                "50",
            ]
        )
        report = capsys.readouterr().out
    finally:
        proc.terminate()
        proc.wait(10)
    assert perf.status == acc.status == "complete", (perf.error, acc.error)
    in_proc = dict(perf_run[1]["entries"][0]["summary"])
    in_proc.pop("layer_cycles")
    assert perf.outcome["summary"] == in_proc
    assert acc.outcome == accuracy_run.outcome
    assert rc == 0 and "outputs bit-identical: yes (2 stimuli)" in report
    # same device time on both sides; the pty board ran the benches before (warm ART caches): within 1e-4
    ratio = float(re.search(r"simulated/measured (\d+\.\d+)", report).group(1))
    assert abs(ratio - 1.0) < 1e-4


def test_ray_local_cluster_matches_one_worker(tmp_path, kws_dataset, kws_image, accuracy_run):
    pytest.importorskip("ray")
    [on_ray] = bench(
        tmp_path, modes=["accuracy"], dataset=kws_dataset, ray="local", workers=2, firmware=kws_image
    )
    assert on_ray.status == "complete", on_ray.error
    assert on_ray.outcome == accuracy_run.outcome


def test_ad01_scores_and_auc_match_interpreter(tmp_path, models_dir):
    env = {**os.environ, "TINYPERF_MODELS": str(models_dir)}
    ds = tmp_path / "ad"
    r = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            "--task",
            "ad01",
            "--out",
            str(ds),
            "--count",
            "4",
            "--frames",
            "6",
            "--seed",
            "2",
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert r.returncode == 0, r.stderr
    expected = json.loads((ds / "dataset.json").read_text())["scores"]
    [e] = bench(tmp_path / "out", tasks=["ad01"], modes=["accuracy"], dataset=ds)
    assert e.status == "complete", e.error
    for d in e.outcome["details"]:
        assert d["windows"] == 2
        assert d["score"] == pytest.approx(expected[d["file"]], abs=1e-3)  # the device prints 3 decimals
    assert e.outcome["summary"]["auc"] == 1.0  # labels split the interpreter's scores at the median


def test_placeholder_firmware_is_refused(tmp_path):
    image = build.build_firmware("kws01", model="placeholder").elf
    [e] = bench(tmp_path, firmware=Path(image), division="open")
    assert e.status == "failed" and "PLACEHOLDER" in e.error
    assert not (
        tmp_path / "open/tinyperf/results/NUCLEO_L4R5ZI_tinyperf_sim/kws/performance/results.txt"
    ).exists()
