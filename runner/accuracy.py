"""Accuracy mode: one inference per stimulus of a dataset (per window for ad01), scored with top-1 accuracy
(kws01, vww01, ic01) or the ROC AUC of per-file mean anomaly scores (ad01), against the quality target.

Stimuli can be sharded over N local worker processes (each opens its own backend from a BackendSpec, so
each has its own simulated board) or over a Ray cluster; shards are merged by stimulus index, so the result
is identical to a single-worker run.
"""

from __future__ import annotations

import logging
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from typing import Callable, Sequence

import numpy as np

from tinyperf.errors import RunnerError
from tinyperf.runner.backends.base import BackendSpec, make_backend
from tinyperf.runner.dataset import Dataset
from tinyperf.runner.metrics import roc_auc, top1
from tinyperf.runner.outcome import RULE, Outcome
from tinyperf.runner.session import Session, open_session
from tinyperf.runner.tasks import Task, get_task

log = logging.getLogger("tinyperf.runner.accuracy")

INFER_TIMEOUT_S = 20.0  # device seconds for one inference (ic01 takes about 0.2 s)


def infer_stimulus(session: Session, inputs: Sequence[bytes]) -> list[list[float]]:
    """Load and infer each device input of one stimulus; the result vectors in order."""
    out = []
    for data in inputs:
        session.client.load(data)
        r = session.client.infer(1, 0, timeout_s=INFER_TIMEOUT_S * session.timeout_scale)
        if r.results is None:
            raise RunnerError(f"`infer 1 0` printed no m-results line ({r.lines[-4:]})")
        out.append(r.results)
    return out


def _run_indices(
    session: Session, ds: Dataset, indices: Sequence[int], done: Callable[[int], None] | None = None
) -> dict[int, list[list[float]]]:
    res = {}
    for i in indices:
        res[i] = infer_stimulus(session, ds.inputs(i))
        if done:
            done(1)
    return res


# -- worker processes --------------------------------------------------------------------------------------
_worker: dict = {}


def _worker_init(spec: BackendSpec, task_name: str, dataset_dir: str, allow_placeholder: bool) -> None:
    task = get_task(task_name)
    _worker["session"] = open_session(make_backend(spec), task, allow_placeholder=allow_placeholder)
    _worker["dataset"] = Dataset(dataset_dir, task)


def _worker_run(indices: list[int]) -> dict[int, list[list[float]]]:
    return _run_indices(_worker["session"], _worker["dataset"], indices)


def _chunks(n: int, parts: int) -> list[list[int]]:
    size = max(1, min(16, -(-n // (parts * 4))))
    return [list(range(i, min(n, i + size))) for i in range(0, n, size)]


def collect_outputs(
    ds: Dataset,
    *,
    session: Session | None = None,
    spec: BackendSpec | None = None,
    workers: int = 1,
    ray_address: str | None = None,
    allow_placeholder: bool = False,
    progress: Callable[[int], None] | None = None,
) -> dict[int, list[list[float]]]:
    """Result vectors for every stimulus: in-process on `session` (workers == 1), over `workers` local
    processes, or over Ray. `progress(k)` is called with the number of stimuli just finished."""
    n = len(ds)
    if ray_address:
        from tinyperf.runner.distributed import run_on_ray

        return run_on_ray(ray_address, spec, ds, allow_placeholder, _chunks(n, workers), progress)
    if workers <= 1:
        if session is None:
            raise RunnerError("accuracy mode needs an open session for a single-worker run")
        return _run_indices(session, ds, range(n), progress)
    if spec is None:
        raise RunnerError("accuracy mode needs a backend spec to start worker processes")
    if spec.kind == "serial":
        raise RunnerError("--workers > 1 needs one device per worker; with a serial port use --workers 1")
    outputs: dict[int, list[list[float]]] = {}
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        max_workers=workers,
        mp_context=ctx,
        initializer=_worker_init,
        initargs=(spec, ds.task.name, str(ds.root), allow_placeholder),
    ) as pool:
        for part in pool.map(_worker_run, _chunks(n, workers)):
            outputs.update(part)
            if progress:
                progress(len(part))
    return outputs


def score(task: Task, ds: Dataset, outputs: dict[int, list[list[float]]]) -> Outcome:
    """Top-1 or AUC over the dataset, with per-stimulus details, checked against the quality target."""
    labels = ds.labels
    details = []
    if task.metric == "auc":
        scores = []
        for i, e in enumerate(ds.entries):
            window_scores = [v[0] for v in outputs[i]]
            scores.append(float(np.mean(window_scores)))
            details.append(
                {"file": e.file, "label": e.label, "score": scores[-1], "windows": len(window_scores)}
            )
        value = roc_auc(scores, labels)
        summary = {"auc": value, "files": len(ds), "windows": sum(len(v) for v in outputs.values())}
        line = f"AUC is {value:.4f} (target {task.quality_target})."
    else:
        vectors = [outputs[i][0] for i in range(len(ds))]
        value = top1(vectors, labels)
        for e, v in zip(ds.entries, vectors):
            details.append({"file": e.file, "label": e.label, "predicted": int(np.argmax(v)), "results": v})
        summary = {"top1": value, "stimuli": len(ds)}
        line = f"Top-1 accuracy is {100 * value:.3f}% (target {100 * task.quality_target:g}%)."
    met = value >= task.quality_target
    summary["quality_target"] = task.quality_target
    summary["quality_met"] = met
    notes = [] if met else [f"quality target not met: {task.metric} {value:.4f} < {task.quality_target}"]
    text = (
        "\n".join(
            [
                f"Accuracy results for {len(ds)} stimuli of {ds.root}",
                RULE,
                line,
                "Quality target met." if met else "Quality target NOT met.",
                RULE,
            ]
        )
        + "\n"
    )
    return Outcome(task.name, "accuracy", summary, details, text, True, notes)
