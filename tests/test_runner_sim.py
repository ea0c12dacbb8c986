"""End to end on the simulated board: `tinyperf bench` with our firmware built from the reference models.

Windows are shortened (--min-seconds) so the suite stays fast: the procedure is the same, the results are
marked non-compliant. Figures are checked against references independent of the code under test: the
board's cycle counter (not the firmware's m-lap-us timestamps), and the tflite-micro interpreter's labels.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytestmark = pytest.mark.sim

sim = pytest.importorskip("tinyperf.sim")
if not hasattr(sim, "SimBoard"):
    pytest.skip("the simulated board (tinyperf.sim.SimBoard) is not available yet", allow_module_level=True)
build = pytest.importorskip("tinyperf.firmware.build")

from tinyperf.runner.bench import BenchConfig, run_bench  # noqa: E402
from tinyperf.runner.cli import main  # noqa: E402
from tinyperf.runner.protocol import DutClient  # noqa: E402
from tinyperf.runner.backends.sim import SimTransport  # noqa: E402

SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "make_dataset.py"
MIN_SECONDS = 0.5


@pytest.fixture(autouse=True)
def reference_models(models_dir, monkeypatch):
    monkeypatch.setenv("TINYPERF_MODELS", str(models_dir))


@pytest.fixture(scope="session")
def kws_image(models_dir):
    return Path(build.build_firmware("kws01", model=str(models_dir / "kws_ref_model.tflite")).elf)


@pytest.fixture(scope="session")
def kws_dataset(models_dir, samples_dir, tmp_path_factory):
    out = tmp_path_factory.mktemp("kws_ds")
    env = {**os.environ, "TINYPERF_MODELS": str(models_dir)}
    r = subprocess.run([sys.executable, str(SCRIPT), "--task", "kws01", "--out", str(out), "--count", "6",
                        "--seed", "5"], env=env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    (out / "sample_000.bin").write_bytes((samples_dir / "kws01" / "sample_000.bin").read_bytes())
    with (out / "y_labels.csv").open("a") as f:
        f.write("sample_000.bin,12,5\n")
    return out


def cycles_per_inference(image: Path) -> float:
    """From the board's cycle counter: (cycles of `infer 11 0`) - (cycles of `infer 1 0`), / 10."""
    board = sim.SimBoard.from_image(str(image), board="nucleo_l4r5zi")
    dut = DutClient(SimTransport(board, board.console, "sim"))
    dut.sync()
    dut.load(bytes(490))
    spent = []
    for n in (1, 11):
        dut._send(f"infer {n} 0")
        c0 = board.cycles
        dut._collect(f"infer {n} 0", 30.0)
        spent.append(board.cycles - c0)
    return (spent[1] - spent[0]) / 10


def bench(tmp_path, **kw):
    base = dict(tasks=["kws01"], modes=["performance"], out=tmp_path / "out", min_seconds=MIN_SECONDS,
                progress=False)
    base.update(kw)
    return run_bench(BenchConfig(**base))


def test_cli_performance_median_matches_cycle_counter(tmp_path, kws_image, capsys):
    rc = main(["bench", "--task", "kws01", "--mode", "performance", "--min-seconds", str(MIN_SECONDS),
               "--out", str(tmp_path / "out"), "--json", "--no-charts"])
    doc = json.loads(capsys.readouterr().out)
    [entry] = doc["entries"]
    assert entry["status"] == "complete", entry
    assert rc == 1      # shortened windows: not valid for publishing, and the exit code says so
    ips = entry["summary"]["median_ips"]
    cpi = cycles_per_inference(kws_image)
    assert ips == pytest.approx(120e6 / cpi, rel=1e-3)
    d = tmp_path / "out/closed/tinyperf/results/NUCLEO_L4R5ZI_tinyperf_sim/kws/performance"
    assert {p.name for p in d.iterdir()} >= {"results.txt", "log.txt", "results.json"}
    assert (tmp_path / "out/closed/tinyperf/systems/NUCLEO_L4R5ZI_tinyperf_sim.json").exists()


def test_energy_mode_gives_uj(tmp_path):
    [e] = bench(tmp_path, modes=["energy"])
    assert e.status == "complete", e.error
    s = e.outcome["summary"]
    assert s["energy_uJ_per_inference"] > 0
    assert 5.0 < s["avg_power_mW"] < 300.0
    # energy per inference = power x time per inference, per window
    for w in e.outcome["details"]:
        assert w["energy_uJ_per_inference"] == pytest.approx(w["avg_power_mW"] * 1e3 * w["seconds"] / w["iterations"])


def test_accuracy_agrees_with_interpreter_and_workers(tmp_path, kws_dataset):
    [one] = bench(tmp_path / "w1", modes=["accuracy"], dataset=kws_dataset)
    assert one.status == "complete", one.error
    assert one.outcome["summary"]["top1"] == 1.0
    assert all(d["predicted"] == d["label"] for d in one.outcome["details"])
    [two] = bench(tmp_path / "w2", modes=["accuracy"], dataset=kws_dataset, workers=2)
    assert two.status == "complete", two.error
    assert two.outcome == one.outcome


def test_resume_skips_done_work(tmp_path):
    [a] = bench(tmp_path)
    t0 = time.monotonic()
    [b] = bench(tmp_path, resume=True)
    assert b.status == "resumed" and b.outcome == a.outcome
    assert time.monotonic() - t0 < 10


def test_pty_gives_the_same_results(tmp_path, kws_image, kws_dataset):
    proc = subprocess.Popen([sys.executable, "-m", "tinyperf", "sim", str(kws_image), "--pty"],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        port = None
        deadline = time.monotonic() + 30
        while port is None and time.monotonic() < deadline:
            line = proc.stdout.readline()
            m = re.search(r"/dev/pts/\d+", line or "")
            port = m.group(0) if m else None
        assert port, "tinyperf sim --pty printed no pty path"
        over_pty = bench(tmp_path / "pty", backend="serial", port=port, modes=["performance", "accuracy"],
                         dataset=kws_dataset, division="open", backend_options={"timeout_scale": 50})
    finally:
        proc.terminate()
        proc.wait(10)
    in_proc = bench(tmp_path / "sim", modes=["performance", "accuracy"], dataset=kws_dataset, division="open")
    for a, b in zip(over_pty, in_proc):
        assert a.status == b.status == "complete", (a.error, b.error)
        assert a.outcome["summary"] == b.outcome["summary"]
        assert [d.get("results") for d in a.outcome["details"]] == [d.get("results") for d in b.outcome["details"]]
