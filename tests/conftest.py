"""Shared fixtures: where the reference models and samples are, and the --port option for real boards."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def pytest_addoption(parser):
    parser.addoption("--port", default=None, help="serial port of a real NUCLEO-L4R5ZI for `board` tests")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--port"):
        return
    skip = pytest.mark.skip(reason="needs a real board: pass --port /dev/ttyACM0")
    for item in items:
        if "board" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def models_dir() -> Path:
    """The MLPerf Tiny reference models: $TINYPERF_MODELS, else ../shared/models beside the checkout."""
    path = Path(os.environ.get("TINYPERF_MODELS", REPO.parent / "shared" / "models"))
    if path.is_dir():
        return path
    # A fresh machine without ../shared (e.g. a GitHub runner): fetch the pinned, md5-checked models.
    from tinyperf.runner.models import reference_model
    from tinyperf.runner.tasks import TASKS

    os.environ.pop("TINYPERF_MODELS", None)
    fetched = {reference_model(name).parent for name in TASKS}
    assert len(fetched) == 1, fetched
    return fetched.pop()


@pytest.fixture(scope="session")
def samples_dir() -> Path:
    """Real benchmark inputs: $TINYPERF_SAMPLES, else ../shared/samples beside the checkout."""
    given = os.environ.get("TINYPERF_SAMPLES")
    path = Path(given or REPO.parent / "shared" / "samples")
    if not path.is_dir():
        if given:
            pytest.fail(f"samples not found at {path} ($TINYPERF_SAMPLES)")
        pytest.skip(f"no real samples here ({path}); set TINYPERF_SAMPLES to ../shared/samples")
    return path
