"""PNG charts (matplotlib, Agg backend): latency and energy per task against the published NUCLEO-L4R5ZI
results (runner/reference_results.py), and a per-layer cycle breakdown when a profile is available."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Mapping, Sequence

from tinyperf.runner.bench import Entry
from tinyperf.runner.reference_results import REFERENCE_RESULTS
from tinyperf.runner.results import atomic_write
from tinyperf.runner.tasks import TASKS

METRICS = {
    "latency": ("performance", "latency_ms", "latency (ms)"),
    "energy": ("energy", "energy_uJ_per_inference", "energy per inference (µJ)"),
}


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def _save(fig, path: Path) -> Path:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    atomic_write(path, buf.getvalue())
    return path


def comparison_chart(
    entries: Sequence[Entry], metric: str, path: Path, label: str = "tinyperf"
) -> Path | None:
    """Grouped bars per task: ours and each published reference that has a value. None when we have no
    value for the metric."""
    mode, key, ylabel = METRICS[metric]
    ours = {
        e.task: e.outcome["summary"][key]
        for e in entries
        if e.mode == mode and e.outcome and e.outcome["summary"].get(key) is not None
    }
    if not ours:
        return None
    plt = _pyplot()
    tasks = [t for t in TASKS if t in ours]
    series = [(label, [ours[t] for t in tasks])]
    for ref in REFERENCE_RESULTS:
        vals = [ref["tasks"].get(t, {}).get(key) for t in tasks]
        if any(v is not None for v in vals):
            series.append((ref["label"] + ("" if ref["verified"] else " (unverified)"), vals))
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    width = 0.8 / len(series)
    for k, (name, vals) in enumerate(series):
        xs = [i + (k - (len(series) - 1) / 2) * width for i in range(len(tasks))]
        bars = ax.bar(xs, [v or 0 for v in vals], width, label=name)
        for b, v in zip(bars, vals):
            if v is not None:
                ax.annotate(
                    f"{v:.4g}",
                    (b.get_x() + b.get_width() / 2, b.get_height()),
                    ha="center",
                    va="bottom",
                    fontsize=7,
                )
    ax.set_xticks(range(len(tasks)), tasks)
    values = [v for _, vals in series for v in vals if v]
    if max(values) / min(values) > 20:  # tasks span orders of magnitude (ad01 ~5 ms, ic01 ~170 ms)
        ax.set_yscale("log")
    ax.set_ylabel(ylabel)
    ax.set_title(f"MLPerf Tiny {metric} per task, NUCLEO-L4R5ZI")
    ax.legend(fontsize=7, loc="upper center", bbox_to_anchor=(0.5, -0.08), ncol=2, frameon=False)
    try:
        return _save(fig, path)
    finally:
        plt.close(fig)


def layer_chart(layers: Mapping[str, float], path: Path, title: str) -> Path:
    """Horizontal bars: cycles per layer (name -> cycles), largest first."""
    plt = _pyplot()
    items = sorted(layers.items(), key=lambda kv: kv[1], reverse=True)
    fig, ax = plt.subplots(figsize=(7.5, 0.25 * len(items) + 1.2))
    ax.barh([k for k, _ in items][::-1], [v for _, v in items][::-1])
    ax.set_xlabel("cycles per inference")
    ax.set_title(title)
    ax.tick_params(axis="y", labelsize=7)
    try:
        return _save(fig, path)
    finally:
        plt.close(fig)


def write_charts(entries: Sequence[Entry], out_dir: Path) -> list[Path]:
    paths = []
    for metric in METRICS:
        p = comparison_chart(entries, metric, Path(out_dir) / f"{metric}.png")
        if p:
            paths.append(p)
    for e in entries:
        layers = (e.outcome or {}).get("summary", {}).get("layer_cycles")
        if e.mode == "performance" and layers:
            paths.append(
                layer_chart(
                    layers,
                    Path(out_dir) / f"layers_{e.task}.png",
                    f"{e.task}: cycles per layer, one inference (simulated)",
                )
            )
    return paths
