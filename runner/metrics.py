"""Benchmark scores: median, nearest-rank percentiles, top-1 accuracy and ROC AUC (numpy only)."""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from tinyperf.errors import RunnerError


def median(values: Sequence[float]) -> float:
    """Median (mean of the two middle values for an even count)."""
    if not len(values):
        raise RunnerError("median of no values")
    return float(np.median(np.asarray(values, dtype=np.float64)))


def percentile(values: Sequence[float], p: float) -> float:
    """Nearest-rank percentile, as MLPerf LoadGen reports latencies: the smallest value such that at least
    p % of the values are <= it, i.e. sorted[ceil(p/100 * n) - 1] (p in (0, 100])."""
    n = len(values)
    if n == 0:
        raise RunnerError("percentile of no values")
    if not 0 < p <= 100:
        raise RunnerError(f"percentile must be in (0, 100], got {p}")
    rank = max(1, math.ceil(p / 100.0 * n - 1e-9))
    return float(np.sort(np.asarray(values, dtype=np.float64))[rank - 1])


def top1(outputs: Sequence[Sequence[float]], labels: Sequence[int]) -> float:
    """Fraction of outputs whose argmax (first index on ties) equals the label."""
    if len(outputs) != len(labels) or not len(labels):
        raise RunnerError(f"top-1 needs as many outputs as labels (got {len(outputs)} and {len(labels)})")
    hits = sum(int(np.argmax(np.asarray(o))) == int(y) for o, y in zip(outputs, labels))
    return hits / len(labels)


def roc_auc(scores: Sequence[float], labels: Sequence[int]) -> float:
    """Area under the ROC curve for binary labels (1 = positive/anomaly), higher score = more positive.
    Computed as the Mann-Whitney U statistic with average ranks for ties: the probability that a random
    positive scores higher than a random negative, ties counting one half."""
    s = np.asarray(scores, dtype=np.float64)
    y = np.asarray(labels, dtype=np.int64)
    if s.shape != y.shape or s.ndim != 1:
        raise RunnerError(f"AUC needs one score per label (got {s.shape} and {y.shape})")
    if not np.isin(y, (0, 1)).all():
        raise RunnerError("AUC labels must be 0 (normal) or 1 (anomaly)")
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    if n_pos == 0 or n_neg == 0:
        raise RunnerError(f"AUC needs both classes (got {n_pos} anomalies and {n_neg} normal files)")
    order = np.argsort(s, kind="mergesort")
    ranks = np.empty(len(s), dtype=np.float64)
    sorted_s = s[order]
    i = 0
    while i < len(s):  # average ranks over runs of equal scores
        j = i
        while j + 1 < len(s) and sorted_s[j + 1] == sorted_s[i]:
            j += 1
        ranks[order[i : j + 1]] = (i + j) / 2.0 + 1.0
        i = j + 1
    u = ranks[y == 1].sum() - n_pos * (n_pos + 1) / 2.0
    return float(u / (n_pos * n_neg))
