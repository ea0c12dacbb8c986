"""Summary table, JSON and PNG charts from bench entries; the shipped reference results."""

from __future__ import annotations

import json

import pytest

from tinyperf.runner.bench import Entry
from tinyperf.runner.charts import layer_chart, write_charts
from tinyperf.runner.reference_results import REFERENCE_RESULTS
from tinyperf.runner.report import table, to_json

pytestmark = pytest.mark.unit


def entries():
    return [
        Entry("kws01", "performance", "complete", {"summary": {"latency_ms": 40.0, "median_ips": 25.0}}),
        Entry(
            "kws01",
            "energy",
            "resumed",
            {"summary": {"energy_uJ_per_inference": 1800.0, "avg_power_mW": 45.0}},
            notes=["n1"],
        ),
        Entry("ad01", "performance", "failed", None, False, error="device stopped answering"),
    ]


def test_table_and_json():
    t = table(entries(), "open")
    assert t.startswith("OPEN DIVISION")
    assert "latency 40.000 ms" in t and "energy 1800.0 uJ/inf" in t and "valid (resumed)" in t
    assert "failed" in t and "device stopped answering" in t and "note: n1" in t
    doc = json.loads(to_json(entries(), "closed"))
    assert [e["status"] for e in doc["entries"]] == ["complete", "resumed", "failed"]


def test_charts_are_pngs(tmp_path):
    paths = write_charts(entries(), tmp_path)
    assert [p.name for p in paths] == ["latency.png", "energy.png"]
    assert all(p.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" for p in paths)
    p = layer_chart({"tp_layer_00_conv_2d": 1e6, "tp_layer_01_depthwise": 4e5}, tmp_path / "l.png", "kws01")
    assert p.read_bytes()[:4] == b"\x89PNG"


def test_reference_results_match_their_published_throughput():
    xcube = REFERENCE_RESULTS[0]["tasks"]
    # MLPerf Tiny v1.3, NUCLEO_L4R5ZI-P: KWS 43.4 ms, VWW 89.4 ms, IC 165.7 ms, AD 4.79 ms
    assert [round(xcube[t]["latency_ms"], 2) for t in ("kws01", "vww01", "ic01", "ad01")] == [
        43.42,
        89.44,
        165.67,
        4.79,
    ]
