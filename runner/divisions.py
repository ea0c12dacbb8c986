"""MLPerf Tiny divisions. Closed: the task's reference model (verified by md5) and its quality target.
Open: any model; every report says so."""

from __future__ import annotations

from tinyperf.errors import RunnerError
from tinyperf.runner.tasks import Task

DIVISIONS = ("closed", "open")


def model_notes(division: str, task: Task, model_md5: str | None, source: str) -> list[str]:
    """Check the model for the division; returns notes for the report, raises RunnerError when the closed
    division's rule is broken. `source` says where the hash came from (file, firmware profile)."""
    if division not in DIVISIONS:
        raise RunnerError(f"unknown division {division!r}; choose closed or open")
    if division == "closed":
        if model_md5 is None:
            raise RunnerError(
                f"closed division: the model inside the firmware cannot be verified ({source}); "
                f"pass --model with the .tflite it was built from, or use --division open"
            )
        if model_md5 != task.model_md5:
            raise RunnerError(
                f"closed division requires the {task.name} reference model (md5 "
                f"{task.model_md5}); {source} has md5 {model_md5}. Use --division open for other "
                f"models"
            )
        return [f"closed division: reference model verified (md5 {model_md5}, {source})"]
    ref = model_md5 == task.model_md5
    return [
        f"OPEN division: any model allowed; this one is {'the' if ref else 'not the'} reference model"
        f" (md5 {model_md5 or 'unknown'}, {source}); not comparable with closed-division results"
    ]


def quality_valid(division: str, task: Task, met: bool | None) -> tuple[bool, str | None]:
    """(valid, note) for the division given whether the quality target was met (None: not measured)."""
    if division != "closed":
        return True, None
    if met is None:
        return True, (
            f"closed division: quality target ({task.metric} >= {task.quality_target}) not measured "
            f"in this run (run --mode accuracy with a dataset)"
        )
    if not met:
        return (
            False,
            f"INVALID for the closed division: {task.metric} below the quality target {task.quality_target}",
        )
    return True, None
