"""bench/flash/validate command options, optional extras named when missing, scenarios and energy mode
through the scripted pty device, progress bar."""

from __future__ import annotations

import argparse
import importlib.util
import io

import pytest

from test_serial_protocol import PtyDut
from tinyperf.errors import RunnerError
from tinyperf.runner.bench import BenchConfig, run_bench
from tinyperf.runner.cli import bench_cmd, flash_cmd
from tinyperf.runner.progress import Progress

pytestmark = pytest.mark.unit


def parse(*argv):
    p = argparse.ArgumentParser()
    bench_cmd.add_arguments(p)
    return bench_cmd.config_from_args(p.parse_args(list(argv)))


def test_plain_bench_defaults():
    cfg = parse()
    assert cfg.tasks == ["kws01", "vww01", "ic01", "ad01"]
    assert cfg.modes == ["performance", "energy"]
    assert (cfg.backend, cfg.division, cfg.min_seconds, cfg.runs) == ("sim", "closed", 10.0, 5)
    assert cfg.firmware is None and cfg.model is None


def test_bench_options():
    cfg = parse("--task", "ad01", "--mode", "all", "--dataset", "d", "--workers", "3", "--division", "open")
    assert cfg.tasks == ["ad01"] and cfg.modes == ["performance", "energy", "accuracy"] and cfg.workers == 3
    with pytest.raises(RunnerError, match="--workers must be >= 1"):
        parse("--workers", "0")
    with pytest.raises(RunnerError, match="tinyperf flash"):
        parse("--backend", "serial", "--firmware", "x.elf")


@pytest.mark.skipif(importlib.util.find_spec("pyocd") is not None, reason="pyocd is installed")
def test_flash_names_the_missing_extra(tmp_path):
    img = tmp_path / "fw.elf"
    img.write_bytes(b"\x7fELF")
    with pytest.raises(RunnerError, match=r"pip install 'tinyperf\[flash\]'"):
        flash_cmd.flash(img)


def test_flash_rejects_bad_paths(tmp_path):
    with pytest.raises(RunnerError, match="does not exist"):
        flash_cmd.flash(tmp_path / "missing.elf")
    (tmp_path / "fw.txt").write_text("x")
    with pytest.raises(RunnerError, match="unknown image format"):
        flash_cmd.flash(tmp_path / "fw.txt")


@pytest.mark.skipif(importlib.util.find_spec("ray") is not None, reason="ray is installed")
def test_ray_names_the_missing_extra():
    from tinyperf.runner.distributed import _import_ray

    with pytest.raises(RunnerError, match=r"pip install 'tinyperf\[ray\]'"):
        _import_ray()


def cfg(port, tmp_path, **kw):
    base = dict(
        tasks=["kws01"],
        modes=["performance"],
        backend="serial",
        port=port,
        out=tmp_path / "out",
        division="open",
        progress=False,
        backend_options={"timeout_scale": 1.0, "boot_timeout_s": 0.1},
    )
    base.update(kw)
    return BenchConfig(**base)


def test_scenarios_through_pty(tmp_path):
    us = 20_000  # 20 ms per inference, every sample alike
    with PtyDut(us_per_inference=us) as p:
        entries = {}
        for sc in ("single-stream", "offline", "server", "multi-stream"):
            [e] = run_bench(
                cfg(p.port, tmp_path, scenario=sc, duration_s=5.0, latency_bound_ms=60.0, interval_ms=100.0)
            )
            assert e.status == "complete", e.error
            entries[sc] = e.outcome["summary"]
    assert entries["single-stream"]["p90_latency_ms"] == pytest.approx(20.0)
    assert entries["offline"]["throughput_ips"] == pytest.approx(50.0)
    assert entries["multi-stream"]["samples_per_query"] == 5  # 5 x 20 ms fit a 100 ms interval
    assert 0 < entries["server"]["max_rate_qps"] < 50.0
    assert entries["server"]["p99_latency_ms"] <= 60.0


def test_energy_mode_without_a_monitor_is_a_clear_error(tmp_path):
    with PtyDut() as p:
        [e] = run_bench(cfg(p.port, tmp_path, modes=["energy"]))
    assert e.status == "failed" and "energy mode needs an energy measurement" in e.error


def test_progress_bar_with_eta():
    class Tty(io.StringIO):
        def isatty(self):
            return True

    out = Tty()
    bar = Progress(4, "kws01 accuracy", stream=out)
    for _ in range(4):
        bar.advance()
    bar.close()
    text = out.getvalue()
    assert "kws01 accuracy" in text and "4/4" in text and "ETA" in text and text.endswith("\n")
    quiet = Tty()
    bar = Progress(4, "x", enabled=False, stream=quiet)
    bar.advance()
    bar.close()
    assert quiet.getvalue() == ""
