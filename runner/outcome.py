"""What one task/mode run produced: the score, per-window or per-stimulus details, notes, and the
results.txt text in the MLPerf Tiny reference runner's wording."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

RULE = "---------------------------------------------------------"


@dataclass
class Outcome:
    """`summary` holds the scores with their units in the key names (median_ips, latency_ms,
    energy_uJ_per_inference, avg_power_mW, top1, auc, p90_latency_ms, ...); `compliant` is False when a
    rule of the procedure was not met (the notes say which)."""

    task: str
    mode: str
    summary: dict[str, Any]
    details: list[dict[str, Any]] = field(default_factory=list)
    results_txt: str = ""
    compliant: bool = True
    notes: list[str] = field(default_factory=list)

    def record(self) -> dict[str, Any]:
        return {
            "task": self.task,
            "mode": self.mode,
            "summary": self.summary,
            "compliant": self.compliant,
            "notes": self.notes,
            "details": self.details,
        }
