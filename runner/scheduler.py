"""Scenario arrival schedules and their replay on a single device (FIFO, one query at a time).

Definitions follow MLPerf Inference LoadGen, with times in device seconds:
- single-stream: the next query is issued when the previous one completes; score: p90 latency.
- multi-stream: a query of N samples every `interval_s`; a query completes when its last sample does;
  score: the largest N whose p99 query latency stays within the interval.
- server: Poisson arrivals (exponential gaps from a seeded PCG64 generator) at a target rate; score: the
  highest rate whose p99 latency stays within the task's bound.
- offline: every sample issued at t = 0; score: samples / time to complete them all.
Latency = completion - arrival, so queueing delay counts. Service times come from the device (measured per
sample); the replay here only orders them in time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Sequence

import numpy as np

from tinyperf.errors import RunnerError
from tinyperf.runner.metrics import percentile

EPS = 1e-9  # relative slack when comparing sums of float service times with a bound


@dataclass(frozen=True)
class Query:
    """A query: issued at `arrival_s` (None: when the previous query completes), made of sample indices."""

    arrival_s: float | None
    samples: tuple[int, ...]


@dataclass(frozen=True)
class Completed:
    arrival_s: float
    start_s: float
    end_s: float

    @property
    def latency_s(self) -> float:
        return self.end_s - self.arrival_s


def _pick(rng: np.random.Generator, n_samples: int, k: int) -> tuple[int, ...]:
    return tuple(int(x) for x in rng.integers(0, n_samples, size=k))


def single_stream(n_queries: int, n_samples: int, seed: int = 0) -> list[Query]:
    return [
        Query(None, s) for s in (_pick(np.random.default_rng(seed), n_samples, 1) for _ in range(n_queries))
    ]


def multi_stream(
    n_queries: int, samples_per_query: int, interval_s: float, n_samples: int, seed: int = 0
) -> list[Query]:
    rng = np.random.default_rng(seed)
    return [Query(i * interval_s, _pick(rng, n_samples, samples_per_query)) for i in range(n_queries)]


def poisson(
    rate_hz: float, duration_s: float, n_samples: int, seed: int = 0, min_queries: int = 100
) -> list[Query]:
    """Poisson arrivals at `rate_hz` for `duration_s` device seconds (at least `min_queries` queries)."""
    if rate_hz <= 0:
        raise RunnerError(f"server rate must be > 0 queries/s, got {rate_hz}")
    rng = np.random.default_rng(seed)
    queries, t = [], 0.0
    while t < duration_s or len(queries) < min_queries:
        t += float(rng.exponential(1.0 / rate_hz))
        queries.append(Query(t, _pick(rng, n_samples, 1)))
    return queries


def offline(n_queries: int, n_samples: int, seed: int = 0) -> list[Query]:
    rng = np.random.default_rng(seed)
    return [Query(0.0, _pick(rng, n_samples, 1)) for _ in range(n_queries)]


def replay(queries: Sequence[Query], service_s: Callable[[int], float]) -> list[Completed]:
    """Run the queries in arrival order on one device: a query starts at max(arrival, device free) and holds
    the device for the sum of its samples' service times (seconds)."""
    free = 0.0
    done = []
    for q in queries:
        arrival = free if q.arrival_s is None else q.arrival_s
        start = max(arrival, free)
        free = start + sum(service_s(s) for s in q.samples)
        done.append(Completed(arrival, start, free))
    return done


def latencies(done: Sequence[Completed]) -> list[float]:
    return [c.latency_s for c in done]


def max_rate_under_bound(
    service_s: Callable[[int], float],
    n_samples: int,
    bound_s: float,
    duration_s: float = 60.0,
    p: float = 99.0,
    seed: int = 0,
    iterations: int = 40,
) -> tuple[float, float]:
    """Server scenario: bisection for the highest Poisson rate (queries/s) whose p-th percentile latency is
    <= `bound_s`. Returns (rate, its p-th percentile latency). The rate is bracketed by 0 and the
    device's saturation rate 1 / mean service time."""
    mean_service = float(np.mean([service_s(i) for i in range(n_samples)]))
    if mean_service > bound_s:
        raise RunnerError(
            f"a single inference ({mean_service * 1e3:.2f} ms) already exceeds the latency "
            f"bound ({bound_s * 1e3:.2f} ms); raise --latency-bound-ms"
        )
    lo, hi = 0.0, 1.0 / mean_service
    lo_lat = mean_service
    for _ in range(iterations):
        mid = (lo + hi) / 2
        lat = percentile(latencies(replay(poisson(mid, duration_s, n_samples, seed), service_s)), p)
        if lat <= bound_s * (1 + EPS):
            lo, lo_lat = mid, lat
        else:
            hi = mid
        if hi - lo < 1e-3 * hi:
            break
    return lo, lo_lat


def max_streams(
    service_s: Callable[[int], float],
    n_samples: int,
    interval_s: float,
    duration_s: float = 60.0,
    p: float = 99.0,
    seed: int = 0,
) -> tuple[int, float]:
    """Multi-stream: the largest samples-per-query N whose p-th percentile query latency <= interval.
    Returns (N, its latency); N = 0 when even one sample per query misses the interval."""
    n_queries = max(1, int(duration_s / interval_s))
    best, best_lat, n = 0, 0.0, 1
    while True:
        lat = percentile(
            latencies(replay(multi_stream(n_queries, n, interval_s, n_samples, seed), service_s)), p
        )
        if lat > interval_s * (1 + EPS):
            return best, best_lat
        best, best_lat, n = n, lat, n + 1
