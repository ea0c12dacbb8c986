"""The whole bench procedure through the serial backend against the scripted device on a real pty:
performance math, accuracy scoring, division rules, failures leaving no complete-looking results, resume."""

from __future__ import annotations

import json

import numpy as np
import pytest

from test_serial_protocol import PtyDut, fake_output
from tinyperf.runner import report
from tinyperf.runner.bench import BenchConfig, run_bench
from tinyperf.runner.performance import choose_iterations

pytestmark = pytest.mark.unit


def config(port, tmp_path, **kw):
    base = dict(
        tasks=["kws01"],
        modes=["performance"],
        backend="serial",
        port=port,
        out=tmp_path / "out",
        division="open",
        min_seconds=1.0,
        progress=False,
        backend_options={"timeout_scale": 1.0, "boot_timeout_s": 0.1},
    )
    base.update(kw)
    return BenchConfig(**base)


def test_choose_iterations():
    assert choose_iterations(0.0434) == 260  # 10 s * 1.1 / 43.4 ms = 253.5 -> 260
    assert choose_iterations(0.00479) == 2300
    assert choose_iterations(5.0) == 10  # at least 10 iterations
    assert choose_iterations(0.1657) == 67


def test_performance_through_pty(tmp_path):
    us, overhead = 43_400, 120
    with PtyDut(us_per_inference=us, loop_overhead_us=overhead) as p:
        [entry] = run_bench(config(p.port, tmp_path))
    assert entry.status == "complete", entry.error
    s = entry.outcome["summary"]
    n = choose_iterations(us / 1e6, 1.0)
    assert s["iterations"] == n == 26
    assert s["median_ips"] == pytest.approx(n / ((n * us + overhead) / 1e6), rel=1e-12)
    assert s["latency_ms"] == pytest.approx(1000 / s["median_ips"])
    assert p.dut.infers == [(1, 0)] + [(n, 1)] * 5  # timing run, then five windows
    d = tmp_path / "out/open/tinyperf/results/NUCLEO_L4R5ZI/kws/performance"
    assert (d / "results.txt").read_text().count("Performance results for window") == 5
    doc = json.loads((d / "results.json").read_text())
    assert doc["status"] == "complete" and doc["valid"] is False  # 1 s windows: not compliant
    assert any("OPEN division" in n for n in entry.notes)
    assert "instead of the 10 s the rules require" in (d / "results.txt").read_text()
    assert (
        json.loads((tmp_path / "out/open/tinyperf/systems/NUCLEO_L4R5ZI.json").read_text())["Division"]
        == "Open"
    )
    assert "OPEN DIVISION" in report.table([entry], "open")
    # five windows, five different stimuli
    loads = [c for c in p.dut.commands if c.startswith("db load")]
    assert len(loads) == 6


def test_device_stopping_mid_run_leaves_a_failed_entry(tmp_path):
    with PtyDut(stop_after_bytes=490 * 3 + 10) as p:
        [entry] = run_bench(config(p.port, tmp_path, command_timeout_s=0.3))
    assert entry.status == "failed" and "stopped answering while loading" in entry.error
    d = tmp_path / "out/open/tinyperf/results/NUCLEO_L4R5ZI/kws/performance"
    assert not (d / "results.txt").exists()
    assert json.loads((d / "results.json").read_text())["status"] == "failed"
    assert "FAILED" in (d / "log.txt").read_text()
    assert "failed" in report.table([entry], "open")


@pytest.mark.parametrize(
    "options, message",
    [
        ({"model": "vww01"}, "firmware reports model 'vww01'.*but the benchmark is for kws01"),
        ({"placeholder": True}, "PLACEHOLDER model"),
        ({"error_on": "infer"}, r"e-\[Something went wrong"),
    ],
)
def test_wrong_firmware_is_a_clear_failure(tmp_path, options, message):
    with PtyDut(**options) as p:
        [entry] = run_bench(config(p.port, tmp_path))
    assert entry.status == "failed"
    assert __import__("re").search(message, entry.error)


def test_closed_division_needs_a_verifiable_model(tmp_path, models_dir):
    with PtyDut() as p:
        [entry] = run_bench(config(p.port, tmp_path, division="closed"))
        assert entry.status == "failed" and "cannot be verified" in entry.error
        [entry] = run_bench(
            config(p.port, tmp_path, division="closed", model=models_dir / "ad01_int8.tflite")
        )
        assert entry.status == "failed" and "requires the kws01 reference model" in entry.error
        [entry] = run_bench(
            config(p.port, tmp_path, division="closed", model=models_dir / "kws_ref_model.tflite")
        )
        assert entry.status == "complete" and any("reference model verified" in n for n in entry.notes)


def make_dataset(root, n, classes, size, seed=0):
    rng = np.random.default_rng(seed)
    root.mkdir()
    lines = []
    for i in range(n):
        data = rng.integers(0, 256, size, dtype=np.uint8).tobytes()
        (root / f"s{i:03d}.bin").write_bytes(data)
        lines.append(f"s{i:03d}.bin,{classes},{int(np.argmax(fake_output(data, classes)))}")
    (root / "y_labels.csv").write_text("\n".join(lines) + "\n")
    return root


def test_accuracy_through_pty(tmp_path):
    ds = make_dataset(tmp_path / "kws", 6, 12, 490)
    with PtyDut() as p:
        [entry] = run_bench(config(p.port, tmp_path, modes=["accuracy"], dataset=ds))
    assert entry.status == "complete", entry.error
    assert entry.outcome["summary"]["top1"] == 1.0
    # a wrong label lowers it exactly
    lines = (ds / "y_labels.csv").read_text().splitlines()
    f, c, y = lines[0].split(",")
    lines[0] = f"{f},{c},{(int(y) + 1) % 12}"
    (ds / "y_labels.csv").write_text("\n".join(lines) + "\n")
    with PtyDut() as p:
        [entry] = run_bench(config(p.port, tmp_path, modes=["accuracy"], dataset=ds))
    assert entry.outcome["summary"]["top1"] == pytest.approx(5 / 6)
    assert entry.outcome["summary"]["quality_met"] is False


def test_ad01_accuracy_windows_and_auc(tmp_path):
    root = tmp_path / "ad"
    root.mkdir()
    rng = np.random.default_rng(1)
    expected_scores, labels, lines = [], [], []
    for i in range(4):
        data = rng.integers(0, 256, 512 * 7, dtype=np.uint8).tobytes()  # 7 frames -> 3 windows
        (root / f"f{i}.bin").write_bytes(data)
        ws = [data[k : k + 2560] for k in range(0, len(data) - 2560 + 1, 512)]
        expected_scores.append(np.mean([fake_output(w, 1)[0] for w in ws]))
        labels.append(i % 2)
        lines.append(f"f{i}.bin,2,{i % 2},2560,512")
    (root / "y_labels.csv").write_text("\n".join(lines) + "\n")
    with PtyDut(model="ad01", classes=1) as p:
        [entry] = run_bench(config(p.port, tmp_path, tasks=["ad01"], modes=["accuracy"], dataset=root))
    assert entry.status == "complete", entry.error
    got = [d["score"] for d in entry.outcome["details"]]
    assert got == pytest.approx(expected_scores)
    assert [d["windows"] for d in entry.outcome["details"]] == [3] * 4
    pos = [s for s, y in zip(expected_scores, labels) if y]
    neg = [s for s, y in zip(expected_scores, labels) if not y]
    auc = np.mean([(a > b) + 0.5 * (a == b) for a in pos for b in neg])
    assert entry.outcome["summary"]["auc"] == pytest.approx(auc)


def test_resume_skips_complete_entries_and_redoes_tampered_ones(tmp_path):
    with PtyDut() as p:
        run_bench(config(p.port, tmp_path))
        first = len(p.dut.infers)
        [entry] = run_bench(config(p.port, tmp_path, resume=True))
        assert entry.status == "resumed" and len(p.dut.infers) == first
        d = tmp_path / "out/open/tinyperf/results/NUCLEO_L4R5ZI/kws/performance"
        (d / "results.txt").write_text("Median throughput is 99999 inf./sec.\n")
        [entry] = run_bench(config(p.port, tmp_path, resume=True))
        assert entry.status == "complete" and len(p.dut.infers) == 2 * first
        assert "99999" not in (d / "results.txt").read_text()
