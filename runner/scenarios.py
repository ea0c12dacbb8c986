"""LoadGen-style scenarios on the device (single-stream, multi-stream, server, offline).

1. Service times: each of up to `pool` stimuli is loaded and inferred once on the device (`infer 1 0`,
   m-lap-us timestamps), giving its latency in device seconds.
2. The arrival schedule of the scenario (runner/scheduler.py; fixed seed, `duration_s` device seconds) is
   replayed on one FIFO device with those service times, so queueing delay counts toward latency.
3. Scores: single-stream p90 latency; multi-stream the largest samples-per-query whose p99 latency meets the
   interval; server the highest Poisson rate whose p99 latency meets the bound; offline samples per second.
Input transfer over the UART is not part of a query's latency (the sample is taken to be in device memory,
as in MLPerf Tiny's own latency figures).
"""

from __future__ import annotations

import math
from typing import Callable, Sequence

from tinyperf.errors import ProtocolError, RunnerError
from tinyperf.runner import scheduler as S
from tinyperf.runner.metrics import percentile
from tinyperf.runner.outcome import RULE, Outcome
from tinyperf.runner.session import Session
from tinyperf.runner.tasks import SCENARIOS

DURATION_S = 60.0
SEED = 0


def service_times(
    session: Session, stimuli: Sequence[bytes], progress: Callable[[int], None] | None = None
) -> list[float]:
    """Device seconds of one inference for each stimulus."""
    out = []
    for data in stimuli:
        session.client.load(data)
        r = session.client.infer(1, 0, timeout_s=20.0 * session.timeout_scale)
        if r.elapsed_us is None:
            raise ProtocolError("scenarios need m-lap-us timestamps (a performance-mode build)")
        out.append(r.elapsed_us / 1e6)
        if progress:
            progress(1)
    return out


def evaluate(
    scenario: str,
    service: Sequence[float],
    *,
    duration_s: float = DURATION_S,
    seed: int = SEED,
    latency_bound_s: float = 0.1,
    interval_s: float = 0.1,
) -> dict:
    """Replay one scenario over measured per-sample service times (seconds); returns its summary."""
    n = len(service)
    if n == 0:
        raise RunnerError("no service times measured")
    fn = service.__getitem__
    mean = sum(service) / n
    if scenario == "single-stream":
        done = S.replay(S.single_stream(max(1, math.ceil(duration_s / mean)), n, seed), fn)
        lat = S.latencies(done)
        return {
            "queries": len(done),
            "p90_latency_ms": percentile(lat, 90) * 1e3,
            "mean_latency_ms": sum(lat) / len(lat) * 1e3,
        }
    if scenario == "multi-stream":
        streams, lat = S.max_streams(fn, n, interval_s, duration_s, 99.0, seed)
        return {"interval_ms": interval_s * 1e3, "samples_per_query": streams, "p99_latency_ms": lat * 1e3}
    if scenario == "server":
        rate, lat = S.max_rate_under_bound(fn, n, latency_bound_s, duration_s, 99.0, seed)
        return {"latency_bound_ms": latency_bound_s * 1e3, "max_rate_qps": rate, "p99_latency_ms": lat * 1e3}
    if scenario == "offline":
        done = S.replay(S.offline(max(1, math.ceil(duration_s / mean)), n, seed), fn)
        return {
            "samples": len(done),
            "throughput_ips": len(done) / done[-1].end_s,
            "makespan_s": done[-1].end_s,
        }
    raise RunnerError(f"unknown scenario {scenario!r}; choose one of {', '.join(SCENARIOS)}")


def run(
    session: Session,
    scenario: str,
    stimuli: Sequence[bytes],
    *,
    duration_s: float = DURATION_S,
    seed: int = SEED,
    latency_bound_ms: float | None = None,
    interval_ms: float | None = None,
    progress: Callable[[int], None] | None = None,
) -> Outcome:
    task = session.task
    bound = (latency_bound_ms or task.latency_bound_ms) / 1e3
    interval = (interval_ms or task.latency_bound_ms) / 1e3
    service = service_times(session, stimuli, progress)
    summary = evaluate(
        scenario, service, duration_s=duration_s, seed=seed, latency_bound_s=bound, interval_s=interval
    )
    summary.update({"duration_s": duration_s, "seed": seed, "samples_measured": len(service)})
    details = [{"sample": i, "service_ms": s * 1e3} for i, s in enumerate(service)]
    text = (
        "\n".join(
            [
                f"Scenario {scenario} ({duration_s:g} s of device time, seed {seed}, "
                f"{len(service)} measured samples)",
                RULE,
                *(f"{k}: {v:.6g}" if isinstance(v, float) else f"{k}: {v}" for k, v in summary.items()),
                RULE,
            ]
        )
        + "\n"
    )
    return Outcome(
        task.name,
        scenario,
        summary,
        details,
        text,
        True,
        ["service times measured on the device; queueing replayed in device time"],
    )
