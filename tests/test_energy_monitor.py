"""Energy monitor (runner/energy_monitor.py): energy between IN0 falling edges of a Joulescope capture.

The synthetic capture is written with pyjls: piecewise-constant current per window, a 3.3 V supply with a
ripple of whole periods in every window, and IN0 pulled low at each timestamp (one sample, or 5 ms) with a 2-sample bounce. The expected
energies are computed here from the waveform definition (I * V0 * T per window), not by the code under test.
"""

from __future__ import annotations

import sys

import numpy as np
import pytest
from tinyperf.errors import RunnerError
from tinyperf.runner import energy_monitor as em

pytestmark = pytest.mark.unit

FS = 10_000  # Hz
V0, RIPPLE, RIPPLE_PERIOD = 3.3, 0.1, 100  # V, V, samples
EDGES_S = (0.10, 0.35, 0.60)  # falling edges of IN0, s
CURRENT_A = (12e-3, 30e-3)  # during each window; 1 mA outside
IDLE_A = 1e-3
TOTAL = 8000  # samples (multiple of 8: pyjls packs u1 data by bytes)


def synthetic(bounce: bool = True):
    n = np.arange(TOTAL)
    v = V0 + RIPPLE * np.sin(2 * np.pi * n / RIPPLE_PERIOD)
    i = np.full(TOTAL, IDLE_A)
    edges = [round(t * FS) for t in EDGES_S]
    for k, a in enumerate(CURRENT_A):
        i[edges[k] : edges[k + 1]] = a
    in0 = np.ones(TOTAL, dtype=np.uint8)
    in0[edges[0]] = 0  # a timestamp as short as one sample (the firmware's pulse lasts 1-2 µs)
    for e in edges[1:]:
        in0[e : e + 50] = 0  # 5 ms low pulse
    if bounce:  # the pin rings: low, high for 2 samples, low again (must stay one edge)
        for e in edges:
            in0[e + 1 : e + 3] = 1
            in0[e + 3] = 0
    return i, v, in0


def expected_windows():
    """(t_start, t_end, J, W) from the waveform definition: the ripple integrates to 0 over whole periods."""
    out = []
    for k, a in enumerate(CURRENT_A):
        t0, t1 = EDGES_S[k], EDGES_S[k + 1]
        out.append((t0, t1, a * V0 * (t1 - t0), a * V0))
    return out


def write_jls(path, i, v, in0, in0_name="gpi[0]", power=False):
    pyjls = pytest.importorskip("pyjls")
    with pyjls.Writer(str(path)) as w:
        w.source_def(1, name="JS220-test", vendor="Jetperch", model="JS220", version="1", serial_number="000")
        sigs = [("power", i * v, "W")] if power else [("current", i, "A"), ("voltage", v, "V")]
        for sid, (name, data, units) in enumerate(sigs, 1):
            w.signal_def(sid, 1, pyjls.SignalType.FSR, pyjls.DataType.F32, FS, name=name, units=units)
            w.fsr_f32(sid, 0, data.astype(np.float32))
        gid = len(sigs) + 1
        w.signal_def(gid, 1, pyjls.SignalType.FSR, pyjls.DataType.U1, FS, name=in0_name, units="")
        w.fsr(gid, 0, np.packbits(in0, bitorder="little"))
    return path


def check(windows, rel=1e-5):
    exp = expected_windows()
    assert len(windows) == len(exp)
    for w, (t0, t1, e, p) in zip(windows, exp):
        assert w.t_start_s == pytest.approx(t0, abs=0.5 / FS)
        assert w.t_end_s == pytest.approx(t1, abs=0.5 / FS)
        assert w.energy_J == pytest.approx(e, rel=rel)
        assert w.avg_power_W == pytest.approx(p, rel=rel)


@pytest.mark.parametrize("chunk", [1 << 20, 1000, 8])
def test_capture_energy_per_window(tmp_path, chunk):
    path = write_jls(tmp_path / "cap.jls", *synthetic())
    integ = em.read_capture(path, chunk=chunk)
    assert integ.fs == FS and integ.samples == TOTAL
    check(integ.windows())
    # whole-capture energy against the waveform: idle + windows
    i, v, _ = synthetic()
    assert integ.energy_J == pytest.approx(float(np.sum(i * v)) / FS, rel=1e-6)


def test_capture_power_signal_and_in0_name(tmp_path):
    path = write_jls(tmp_path / "p.jls", *synthetic(), in0_name="in0", power=True)
    check(em.read_capture(path).windows())


def test_glitch_shorter_than_debounce_is_ignored():
    """A high glitch of 2 samples (< debounce 4) after each falling edge: still one edge per timestamp."""
    i, v, in0 = synthetic(bounce=True)
    check(em.energy_windows(i, v, in0, FS, debounce=4))
    # the glitches are really there: with a debounce of 1 sample each timestamp counts twice
    assert len(em.energy_windows(i, v, in0, FS, debounce=1)) == 5


@pytest.mark.parametrize("chunk", [3, 5, 50])
def test_runs_spanning_chunks(chunk):
    """Debounce runs and edges that straddle chunk boundaries give the same windows as one chunk."""
    i, v, in0 = synthetic()
    integ = em.EdgeEnergyIntegrator(FS, debounce=4)
    for a in range(0, TOTAL, chunk):
        integ.feed(i[a : a + chunk], v[a : a + chunk], in0[a : a + chunk])
    check(integ.windows())


def test_edge_is_dated_at_first_low_sample_and_array_api_matches():
    i, v, in0 = synthetic(bounce=False)
    wins = em.energy_windows(i, v, in0, FS)
    assert [w.as_tuple()[:2] for w in wins] == [(0.1, 0.35), (0.35, 0.6)]
    check(wins)


def test_no_edges_is_a_clear_error(tmp_path):
    i, v, _ = synthetic()
    flat = np.ones(TOTAL, dtype=np.uint8)
    with pytest.raises(RunnerError, match="0 falling edge.*IN0"):
        em.energy_windows(i, v, flat, FS)
    path = write_jls(tmp_path / "flat.jls", i, v, flat)
    with pytest.raises(RunnerError, match="PF13"):
        em.capture_report(path)


def test_capture_without_in0_or_missing_file(tmp_path):
    pyjls = pytest.importorskip("pyjls")
    path = tmp_path / "noin0.jls"
    with pyjls.Writer(str(path)) as w:
        w.source_def(1, name="js", vendor="v", model="m", version="1", serial_number="1")
        w.signal_def(1, 1, pyjls.SignalType.FSR, pyjls.DataType.F32, FS, name="current", units="A")
        w.fsr_f32(1, 0, np.zeros(80, dtype=np.float32))
    with pytest.raises(RunnerError, match="IN0"):
        em.read_capture(path)
    with pytest.raises(RunnerError, match="does not exist"):
        em.read_capture(tmp_path / "nope.jls")
    bad = tmp_path / "bad.jls"
    bad.write_bytes(b"not a jls file" * 10)
    with pytest.raises(RunnerError, match="not a readable JLS"):
        em.read_capture(bad)


def test_missing_package_names_the_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "pyjls", None)  # import pyjls -> ImportError
    monkeypatch.setitem(sys.modules, "joulescope", None)
    with pytest.raises(RunnerError, match=r"tinyperf\[joulescope\]"):
        em.read_capture(tmp_path / "x.jls")
    with pytest.raises(RunnerError, match=r"tinyperf\[joulescope\]"):
        em.make_monitor("joulescope")
    from tinyperf.runner.backends.base import BackendSpec, make_backend

    with pytest.raises(RunnerError, match=r"tinyperf\[joulescope\]"):
        make_backend(BackendSpec("serial", mode="energy", options={"energy_monitor": "joulescope"}))


def test_serial_backend_uses_the_monitor_in_energy_mode_only():
    pytest.importorskip("joulescope")
    from tinyperf.runner.backends.base import BackendSpec, make_backend

    opts = {"energy_monitor": "joulescope", "joulescope_serial": "001234"}
    b = make_backend(BackendSpec("serial", mode="energy", port="/dev/null", options=opts))
    assert isinstance(b.monitor, em.JoulescopeMonitor) and b.monitor.serial_number == "001234"
    assert b.measures_energy
    perf = make_backend(BackendSpec("serial", mode="performance", port="/dev/null", options=opts))
    assert perf.monitor is None and not perf.measures_energy
    with pytest.raises(RunnerError, match="unknown energy monitor"):
        em.make_monitor("otii")


def test_cli_energy_capture_and_option_checks(tmp_path, capsys):
    from tinyperf.runner.cli import main

    path = write_jls(tmp_path / "cap.jls", *synthetic())
    assert main(["bench", "--energy-capture", str(path)]) == 0
    out = capsys.readouterr().out
    assert "3 timestamp edges" in out
    assert f"{CURRENT_A[0] * V0 * 0.25 * 1e6:.3f} uJ" in out  # 9900.000 uJ
    rc = main(["bench", "--backend", "sim", "--energy-monitor", "joulescope", "--task", "kws01"])
    assert rc != 0
    assert "--backend serial" in capsys.readouterr().err


def test_no_joulescope_connected_is_a_clear_error():
    joulescope = pytest.importorskip("joulescope")
    if joulescope.scan(config="off"):
        pytest.skip("a Joulescope is connected")
    with pytest.raises(RunnerError, match="no Joulescope found"):
        em.JoulescopeMonitor().start()


@pytest.mark.board
def test_board_energy_mode_with_joulescope(request, tmp_path):
    """The board runs the kws01 ENERGY build, its USART3 on --port, PF13 wired to IN0 (runner/README.md)."""
    joulescope = pytest.importorskip("joulescope")
    if not joulescope.scan(config="off"):
        pytest.skip("no Joulescope connected")
    from tinyperf.runner.bench import BenchConfig, run_bench

    [e] = run_bench(
        BenchConfig(
            tasks=["kws01"],
            modes=["energy"],
            backend="serial",
            port=request.config.getoption("--port"),
            out=tmp_path,
            min_seconds=2.0,
            progress=False,
            division="open",
            backend_options={"energy_monitor": "joulescope"},
        )
    )
    assert e.status == "complete", e.error
    assert 5.0 < e.outcome["summary"]["avg_power_mW"] < 300.0  # MLPerf Tiny published ~40 mW (FACTS.md)


@pytest.mark.board
def test_joulescope_live_edges(request):
    """A live Joulescope: streams for 1 s and integrates (needs --port; skipped if no Joulescope)."""
    joulescope = pytest.importorskip("joulescope")
    if not joulescope.scan(config="off"):
        pytest.skip("no Joulescope connected")
    mon = em.JoulescopeMonitor()
    mon.start()
    try:
        mon.edges(settle_s=1.0)
        integ = mon.integrator
        assert integ.seconds >= 1.0 and integ.energy_J >= 0.0
    finally:
        mon.close()


@pytest.mark.sim
def test_validate_energy_side_by_side_on_two_simulated_boards(models_dir):
    """compare_energy's plumbing with the simulated board on both sides: the figures must agree (same
    firmware and model; the "sim" side ran one extra timing inference before, hence not bit-equal) and be
    self-consistent (µJ/inference = mW x ms)."""
    pytest.importorskip("tinyperf.sim")
    from tinyperf.runner.backends.base import BackendSpec, make_backend
    from tinyperf.runner.dataset import random_stimuli
    from tinyperf.runner.firmware_source import provide
    from tinyperf.runner.session import open_session
    from tinyperf.runner.tasks import get_task
    from tinyperf.runner.validate import compare_energy

    task = get_task("kws01")
    fw = provide(task, "energy", model=models_dir / "kws_ref_model.tflite")
    a, b = (
        open_session(make_backend(BackendSpec("sim", mode="energy", image=str(fw.image))), task)
        for _ in range(2)
    )
    try:
        c = compare_energy(a, b, random_stimuli(task, 1), ["r0"], window_s=0.3)
    finally:
        a.close()
        b.close()
    assert c.identical and c.iterations >= 10
    assert c.board_energy_uJ > 0 and c.sim_energy_uJ == pytest.approx(c.board_energy_uJ, rel=1e-5)
    assert c.sim_energy_uJ == pytest.approx(c.sim_power_mW * c.sim_latency_ms, rel=1e-9)
    assert "energy per inference: simulated" in c.text() and "1.0000" in c.text()


@pytest.mark.parametrize("notify_every", [1, 3])
def test_live_stream_processor_on_joulescope_stream_buffer(notify_every):
    """The live path without hardware: the synthetic waveform inserted into joulescope's own StreamBuffer
    in the driver's message format; the monitor's stream processor must give the analytic windows."""
    sbmod = pytest.importorskip("joulescope.v1.stream_buffer")
    sb = sbmod.StreamBuffer(1.0, frequency=FS, device="js220", output_frequency=FS)
    for key, buf in sb.buffers.items():  # Device.start() activates the streamed signals
        buf.active = key in ((1, 0), (2, 0), (5, 0))
    proc = em._StreamProcessor(em.EdgeEnergyIntegrator(FS))
    i, v, in0 = synthetic()
    chunk = 800
    for k, a in enumerate(range(0, TOTAL, chunk)):
        for fid, data in ((1, i[a : a + chunk]), (2, v[a : a + chunk])):
            sb.insert(
                "s/x/!data",
                {
                    "field_id": fid,
                    "index": 0,
                    "sample_id": a,
                    "sample_rate": FS,
                    "decimate_factor": 1,
                    "data": data.astype(np.float32),
                },
            )
        sb.insert(
            "s/gpi/0/!data",
            {
                "field_id": 5,
                "index": 0,
                "sample_id": a,
                "sample_rate": FS,
                "decimate_factor": 1,
                "data": np.packbits(in0[a : a + chunk], bitorder="little"),
            },
        )
        if k % notify_every == notify_every - 1 or a + chunk >= TOTAL:
            assert proc.stream_notify(sb) is False
    assert proc.error is None and proc.integ.samples == TOTAL
    check(proc.integ.windows())
