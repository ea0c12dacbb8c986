"""scripts/make_dataset.py: EEMBC-format output labelled by the tflite-micro reference interpreter."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tinyperf.runner.dataset import Dataset
from tinyperf.runner.tasks import get_task

pytestmark = pytest.mark.unit
SCRIPT = Path(__file__).resolve().parent.parent / "scripts" / "make_dataset.py"


def make(models_dir, *args):
    env = {**os.environ, "TINYPERF_MODELS": str(models_dir)}
    return subprocess.run(
        [sys.executable, str(SCRIPT), *map(str, args)], env=env, capture_output=True, text=True, timeout=120
    )


def test_real_kws_sample_gets_its_published_label(models_dir, samples_dir, tmp_path):
    r = make(
        models_dir,
        "--task",
        "kws01",
        "--out",
        tmp_path / "d",
        "--inputs",
        samples_dir / "kws01" / "sample_000.bin",
    )
    assert r.returncode == 0, r.stderr
    assert (tmp_path / "d/y_labels.csv").read_text() == "sample_000.bin,12,5\n"  # "on", per samples README
    meta = json.loads((tmp_path / "d/dataset.json").read_text())
    assert meta["outputs_int8"]["sample_000.bin"][5] == 127
    assert meta["model_md5"] == get_task("kws01").model_md5


def test_random_sets_are_seeded_and_valid(models_dir, tmp_path):
    for name in ("a", "b"):
        assert (
            make(models_dir, "--task", "ic01", "--out", tmp_path / name, "--count", 4, "--seed", 3).returncode
            == 0
        )
    assert (tmp_path / "a/y_labels.csv").read_text() == (tmp_path / "b/y_labels.csv").read_text()
    ds = Dataset(tmp_path / "a", get_task("ic01"))
    assert len(ds) == 4 and all(0 <= y < 10 for y in ds.labels)


def test_ad01_labels_split_at_the_median_score(models_dir, tmp_path):
    assert (
        make(models_dir, "--task", "ad01", "--out", tmp_path / "ad", "--count", 4, "--frames", 6).returncode
        == 0
    )
    ds = Dataset(tmp_path / "ad", get_task("ad01"))
    assert sorted(ds.labels) == [0, 0, 1, 1] and len(ds.inputs(0)) == 2  # 6 frames -> 2 windows
    scores = json.loads((tmp_path / "ad/dataset.json").read_text())["scores"]
    by_label = {y: [scores[e.file] for e in ds.entries if e.label == y] for y in (0, 1)}
    assert max(by_label[0]) < min(by_label[1])


def test_missing_model_is_a_clear_error(tmp_path):
    env = {
        **os.environ,
        "TINYPERF_MODELS": str(tmp_path),
        "TINYPERF_CACHE": str(tmp_path / "c"),
        "TINYPERF_MODELS_URL": "http://127.0.0.1:9/",
    }
    r = subprocess.run(
        [sys.executable, str(SCRIPT), "--task", "kws01", "--out", str(tmp_path / "x")],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 1 and "cannot download the kws01 reference model" in r.stderr
