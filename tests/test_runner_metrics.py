"""Scores and the scenario scheduler against hand-computed values."""

from __future__ import annotations

import numpy as np
import pytest

from tinyperf.errors import RunnerError
from tinyperf.runner import scheduler as S
from tinyperf.runner.metrics import median, percentile, roc_auc, top1

pytestmark = pytest.mark.unit


def test_nearest_rank_percentiles_on_known_sequences():
    values = list(np.random.default_rng(3).permutation(np.arange(1, 101)))  # 1..100 shuffled
    assert percentile(values, 90) == 90
    assert percentile(values, 99) == 99
    assert percentile(values, 100) == 100
    assert percentile(values, 50) == 50
    assert percentile([5.0, 1.0, 3.0], 90) == 5.0  # ceil(2.7) = 3rd smallest
    assert percentile([7.0], 99) == 7.0
    with pytest.raises(RunnerError):
        percentile([], 90)


def test_median():
    assert median([3, 1, 2]) == 2
    assert median([4, 1, 2, 3]) == 2.5


def test_auc_hand_computed():
    # positives 0.35 and 0.8 against negatives 0.1 and 0.4: 0.35 beats 0.1 only, 0.8 beats both -> 3/4
    assert roc_auc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) == pytest.approx(0.75)
    # a tie counts one half: pos 0.5 vs neg 0.5 (1/2) and vs 0.2 (1); pos 0.9 beats both (2) -> 3.5/4
    assert roc_auc([0.5, 0.5, 0.2, 0.9], [1, 0, 0, 1]) == pytest.approx(0.875)
    assert roc_auc([1, 2, 3, 4], [0, 0, 1, 1]) == 1.0
    assert roc_auc([4, 3, 2, 1], [0, 0, 1, 1]) == 0.0
    with pytest.raises(RunnerError, match="both classes"):
        roc_auc([1, 2], [1, 1])


def test_top1_first_index_on_ties():
    assert top1([[0.1, 0.9], [0.5, 0.5], [0.7, 0.3]], [1, 0, 1]) == pytest.approx(2 / 3)


def test_single_stream_latency_is_service_time():
    done = S.replay(S.single_stream(50, 4, seed=1), lambda i: 0.01 * (i + 1))
    lat = S.latencies(done)
    assert all(
        abs(x - 0.01 * (q.samples[0] + 1)) < 1e-12 for x, q in zip(lat, S.single_stream(50, 4, seed=1))
    )
    assert done[1].arrival_s == done[0].end_s  # issued when the previous completes


def test_offline_queueing_counts():
    done = S.replay(S.offline(100, 1), lambda i: 1.0)
    lat = sorted(S.latencies(done))
    assert lat == [float(k) for k in range(1, 101)]  # the k-th waits for k-1 before it
    assert percentile(lat, 90) == 90.0
    assert 100 / done[-1].end_s == 1.0  # throughput, samples per second


def test_poisson_arrivals_are_seeded_and_have_the_rate():
    a = S.poisson(50.0, 60.0, 5, seed=7)
    assert a == S.poisson(50.0, 60.0, 5, seed=7)
    assert a != S.poisson(50.0, 60.0, 5, seed=8)
    gaps = np.diff([0.0] + [q.arrival_s for q in a])
    assert abs(gaps.mean() - 1 / 50.0) < 0.1 / 50.0  # 3000 samples: within 10 %
    assert a[-1].arrival_s >= 60.0


def test_server_bisection_meets_bound_and_is_tight():
    service = lambda i: 0.010  # noqa: E731  10 ms per inference, saturation at 100 q/s
    rate, p99 = S.max_rate_under_bound(service, 4, bound_s=0.030, duration_s=60.0, seed=0)
    assert p99 <= 0.030 and 0 < rate < 100
    above = percentile(S.latencies(S.replay(S.poisson(rate * 1.05, 60.0, 4, seed=0), service)), 99)
    assert above > 0.030


def test_multi_stream_largest_n_within_interval():
    n, lat = S.max_streams(lambda i: 0.011, 4, interval_s=0.1, duration_s=10.0)
    assert (n, lat) == (9, pytest.approx(0.099))
