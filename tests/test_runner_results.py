"""Results folder: submission layout, atomic writes, resume integrity checks; model download and md5."""

from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import threading
from pathlib import Path

import pytest

from tinyperf.errors import RunnerError
from tinyperf.runner import models
from tinyperf.runner.results import ResultsTree, atomic_write, config_key
from tinyperf.runner.tasks import TASKS

pytestmark = pytest.mark.unit


def test_layout_and_complete_entry(tmp_path):
    tree = ResultsTree(tmp_path, "closed", "tinyperf", "NUCLEO_L4R5ZI_sim")
    key = config_key({"fw": "abc", "runs": 5})
    d = tree.write_entry(
        "kws",
        "performance",
        results_txt="Median throughput is 23.0 inf./sec.\n",
        log_txt="log\n",
        record={"score": 23.0},
        key=key,
    )
    assert d == tmp_path / "closed/tinyperf/results/NUCLEO_L4R5ZI_sim/kws/performance"
    assert {p.name for p in d.iterdir()} == {"results.txt", "log.txt", "results.json"}
    tree.write_system({"Board Name": "NUCLEO-L4R5ZI"})
    assert json.loads((tmp_path / "closed/tinyperf/systems/NUCLEO_L4R5ZI_sim.json").read_text())
    assert tree.completed("kws", "performance", key)["score"] == 23.0
    assert tree.completed("kws", "performance", config_key({"fw": "other"})) is None


def test_resume_rejects_tampered_or_failed_entries(tmp_path):
    tree = ResultsTree(tmp_path, "open", "me", "sys")
    key = "k"
    d = tree.write_entry("ic", "accuracy", results_txt="top-1 0.9\n", log_txt="x", record={}, key=key)
    (d / "results.txt").write_text("top-1 0.99\n")  # edited by hand
    assert tree.completed("ic", "accuracy", key) is None
    tree.write_entry("ic", "accuracy", results_txt="top-1 0.9\n", log_txt="x", record={}, key=key)
    (d / "results.json").write_text('{"status": "compl')  # torn write from an older tool
    assert tree.completed("ic", "accuracy", key) is None
    tree.write_entry("ic", "accuracy", results_txt="top-1 0.9\n", log_txt="x", record={}, key=key)
    tree.mark_running("ic", "accuracy", key)  # a run that is interrupted after this point
    assert tree.completed("ic", "accuracy", key) is None and not (d / "results.txt").exists()
    tree.write_failure("ic", "accuracy", log_txt="boom", error="device stopped", key=key)
    assert tree.completed("ic", "accuracy", key) is None
    assert not (d / "results.txt").exists()


def test_atomic_write_leaves_old_file_on_failure(tmp_path, monkeypatch):
    p = tmp_path / "r.txt"
    atomic_write(p, "old")

    def broken_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", broken_replace)
    with pytest.raises(OSError):
        atomic_write(p, "new")
    assert p.read_text() == "old"
    assert [x.name for x in tmp_path.iterdir()] == ["r.txt"]  # no temporary file left behind


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture
def model_server(tmp_path, models_dir):
    """An HTTP server on 127.0.0.1 serving the models under their mlcommons/tiny paths."""
    root = tmp_path / "www"
    for t in TASKS.values():
        dst = root / t.model_source
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(models_dir / t.model_file, dst)
    handler = functools.partial(QuietHandler, directory=str(root))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield root, f"http://127.0.0.1:{server.server_address[1]}/"
    server.shutdown()
    server.server_close()


def test_download_verifies_md5(model_server, tmp_path, monkeypatch):
    root, url = model_server
    monkeypatch.delenv("TINYPERF_MODELS", raising=False)
    monkeypatch.setenv("TINYPERF_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("TINYPERF_MODELS_URL", url)
    path = models.reference_model("kws01")
    assert path == tmp_path / "cache/models/kws_ref_model.tflite"
    assert models.md5(path) == TASKS["kws01"].model_md5
    # second call is served from the cache: works with the server's copy gone
    (root / TASKS["kws01"].model_source).unlink()
    assert models.reference_model("kws01") == path
    # a corrupted download is refused and not cached
    src = root / TASKS["ad01"].model_source
    blob = bytearray(src.read_bytes())
    blob[1000] ^= 0xFF
    src.write_bytes(bytes(blob))
    with pytest.raises(RunnerError, match=r"md5 [0-9a-f]{32}, expected 361fa1b1b871e2068b2ab38d9805ef56"):
        models.reference_model("ad01")
    assert not (tmp_path / "cache/models/ad01_int8.tflite").exists()
    # a failed download names the URL
    monkeypatch.setenv("TINYPERF_MODELS_URL", url + "nothing-here/")
    with pytest.raises(RunnerError, match="cannot download the vww01 reference model from http"):
        models.reference_model("vww01")


def test_models_env_dir_is_verified(tmp_path, monkeypatch, models_dir):
    monkeypatch.setenv("TINYPERF_MODELS", str(models_dir))
    assert models.reference_model("ic01") == Path(models_dir) / "pretrainedResnet_quant.tflite"
    bad = tmp_path / "bad"
    bad.mkdir()
    (bad / "kws_ref_model.tflite").write_bytes(b"not a model")
    monkeypatch.setenv("TINYPERF_MODELS", str(bad))
    with pytest.raises(RunnerError, match="is not the kws01 reference model"):
        models.reference_model("kws01")
