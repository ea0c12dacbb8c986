"""Real NUCLEO-L4R5ZI over its ST-LINK virtual COM port (skipped unless pytest is given --port PATH).
The board must run our kws01 performance firmware (`tinyperf build --task kws01`, `tinyperf flash`)."""

from __future__ import annotations

import pytest

from tinyperf.runner.backends.base import BackendSpec, make_backend
from tinyperf.runner.bench import BenchConfig, run_bench
from tinyperf.runner.session import open_session
from tinyperf.runner.tasks import get_task

pytestmark = pytest.mark.board


@pytest.fixture
def port(request):
    return request.config.getoption("--port")


def test_board_handshake_and_profile(port):
    s = open_session(make_backend(BackendSpec("serial", port=port)), get_task("kws01"))
    try:
        assert s.profile.model == "kws01" and not s.profile.placeholder
        assert s.client.name()
    finally:
        s.close()


def test_board_performance_window(port, tmp_path, models_dir):
    [e] = run_bench(
        BenchConfig(
            tasks=["kws01"],
            modes=["performance"],
            backend="serial",
            port=port,
            out=tmp_path,
            min_seconds=2.0,
            progress=False,
            model=models_dir / "kws_ref_model.tflite",
        )
    )
    assert e.status == "complete", e.error
    assert 1.0 < e.outcome["summary"]["latency_ms"] < 1000.0
