"""Terminal summary table and machine-readable JSON of a bench run's entries."""

from __future__ import annotations

import json
from typing import Any, Sequence

from tinyperf.runner.bench import Entry

# (summary key, column label, format) per mode, first match wins
SCORES = {
    "performance": [("latency_ms", "latency", "{:.3f} ms"), ("median_ips", "throughput", "{:.3f} inf/s")],
    "energy": [
        ("energy_uJ_per_inference", "energy", "{:.1f} uJ/inf"),
        ("avg_power_mW", "power", "{:.2f} mW"),
    ],
    "accuracy": [("top1", "top-1", "{:.2%}"), ("auc", "AUC", "{:.4f}")],
    "single-stream": [("p90_latency_ms", "p90 latency", "{:.3f} ms")],
    "multi-stream": [("samples_per_query", "samples/query", "{}"), ("p99_latency_ms", "p99", "{:.3f} ms")],
    "server": [("max_rate_qps", "max rate", "{:.2f} q/s"), ("p99_latency_ms", "p99", "{:.3f} ms")],
    "offline": [("throughput_ips", "throughput", "{:.3f} inf/s")],
}


def score_cells(entry: Entry) -> list[str]:
    if not entry.outcome:
        return []
    summary = entry.outcome.get("summary", {})
    return [
        f"{label} {fmt.format(summary[key])}"
        for key, label, fmt in SCORES.get(entry.mode, [])
        if summary.get(key) is not None
    ]


def table(entries: Sequence[Entry], division: str) -> str:
    """A fixed-width table: task, mode, scores, status; then every note once."""
    rows = [("task", "mode", "result", "status")]
    for e in entries:
        status = (
            e.status
            if e.status == "failed"
            else (("valid" if e.valid else "NOT VALID") + (" (resumed)" if e.status == "resumed" else ""))
        )
        rows.append(
            (e.task, e.mode, ", ".join(score_cells(e)) or ("see error below" if e.error else ""), status)
        )
    widths = [max(len(r[i]) for r in rows) for i in range(4)]
    lines = ["  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    notes = []
    for e in entries:
        for n in e.notes:
            if n not in notes:
                notes.append(n)
    if division == "open":
        lines.insert(0, "OPEN DIVISION: any model; not comparable with closed-division results")
    errors = [f"error: {e.task} {e.mode}: {e.error}" for e in entries if e.error]
    return "\n".join(lines + [f"note: {n}" for n in notes] + errors) + "\n"


def to_json(entries: Sequence[Entry], division: str) -> str:
    doc: dict[str, Any] = {
        "division": division,
        "entries": [
            {
                "task": e.task,
                "mode": e.mode,
                "status": e.status,
                "valid": e.valid,
                "notes": e.notes,
                "summary": (e.outcome or {}).get("summary"),
                "path": str(e.path) if e.path else None,
                "error": e.error,
            }
            for e in entries
        ],
    }
    return json.dumps(doc, indent=2, default=str) + "\n"
