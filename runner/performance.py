"""Performance and energy mode, as the MLPerf Tiny rules define them.

1. Timing run: load the first stimulus, `infer 1 0`, time it (m-lap-us timestamps in performance mode, the
   timestamp GPIO edges in energy mode).
2. Iteration count: enough for `min_seconds` (10 s by the rules) with 10 % margin, at least
   `min_iterations` (10), rounded up to two significant digits (the reference runner's counts look alike:
   250 for KWS at 43 ms, 2200 for AD at 4.8 ms).
3. Five windows, each with a different stimulus: load, `infer N 1`, device time between the two timestamps.
   A window shorter than `min_seconds` is repeated once with a count scaled from its own timing; if it is
   still short the run is marked non-compliant.
4. Score: median inferences per second (latency = 1 / median IPS); energy mode: median µJ per inference
   from the energy between the edges, and the average power in mW.
Times are the device's: simulated seconds on the simulated board.
"""

from __future__ import annotations

import logging
import math
from typing import Callable, Sequence

from tinyperf.errors import ProtocolError, RunnerError
from tinyperf.runner.backends.base import energy_between
from tinyperf.runner.metrics import median
from tinyperf.runner.outcome import RULE, Outcome
from tinyperf.runner.session import Session

log = logging.getLogger("tinyperf.runner.performance")

RUNS = 5
MIN_SECONDS = 10.0
MIN_ITERATIONS = 10
WARMUPS = 1


def choose_iterations(
    seconds_per_inference: float, min_seconds: float = MIN_SECONDS, min_iterations: int = MIN_ITERATIONS
) -> int:
    """Inferences per window so that it lasts >= min_seconds (10 % margin), >= min_iterations, rounded up
    to two significant digits."""
    if seconds_per_inference <= 0:
        raise ProtocolError(
            f"the timing run measured {seconds_per_inference} s per inference; the device "
            f"timestamps are broken"
        )
    n = max(min_iterations, math.ceil(min_seconds * 1.1 / seconds_per_inference))
    mag = 10 ** max(0, len(str(n)) - 2)
    return max(min_iterations, math.ceil(n / mag) * mag)


def timed_infer(session: Session, iterations: int, warmups: int, mode: str, estimate_s: float | None) -> dict:
    """One `infer` with device-time measurement: {'iterations','seconds','energy_uJ','results'}."""
    per = estimate_s if estimate_s is not None else 5.0
    timeout = ((iterations + warmups) * per * 2.0 + 10.0) * session.timeout_scale
    session.backend.clear_edges()
    r = session.client.infer(iterations, warmups, timeout_s=timeout)
    out = {"iterations": iterations, "results": r.results, "energy_uJ": None}
    if mode == "performance":
        if r.elapsed_us is None:
            raise ProtocolError(
                f"`infer {iterations} {warmups}` printed {len(r.lap_us)} m-lap-us timestamps, "
                f"2 needed; is this an energy-mode build? (use the performance build)"
            )
        out["seconds"] = r.elapsed_us / 1e6
        return out
    edges = session.backend.timestamp_edges()
    if len(edges) < 2:
        raise ProtocolError(
            f"energy mode: {len(edges)} timestamp edges during `infer {iterations} "
            f"{warmups}`, 2 needed; is this an energy-mode build (GPIO timestamps)?"
        )
    if len(edges) > 2:
        log.warning("energy mode: %d timestamp edges during one infer; using the last two", len(edges))
    a, b = edges[-2], edges[-1]
    window = energy_between(a, b)
    out["seconds"] = b.seconds - a.seconds
    out["energy_uJ"] = window.energy_uJ if window else None
    return out


def run(
    session: Session,
    stimuli: Sequence[bytes],
    mode: str = "performance",
    *,
    runs: int = RUNS,
    min_seconds: float = MIN_SECONDS,
    min_iterations: int = MIN_ITERATIONS,
    progress: Callable[[int], None] | None = None,
    stimulus_names: Sequence[str] | None = None,
) -> Outcome:
    """Performance or energy mode on an open session (see module docstring). `progress(k)` is called after
    the timing run (k=0) and after each window."""
    if mode not in ("performance", "energy"):
        raise RunnerError(f"mode {mode!r} is not performance or energy")
    if mode == "energy" and not session.backend.measures_energy:
        raise RunnerError(
            f"energy mode needs an energy measurement; {session.backend.transport.name} has none "
            f"(run energy mode on the simulated board, or measure the board with --energy-monitor joulescope)"
        )
    if not stimuli:
        raise RunnerError("performance mode needs at least one stimulus")
    names = list(stimulus_names) if stimulus_names else [f"stimulus_{i}" for i in range(len(stimuli))]
    if len(stimuli) < runs:
        log.warning("only %d stimuli for %d windows: reusing them", len(stimuli), runs)
    session.client.load(stimuli[0])
    timing = timed_infer(session, 1, 0, mode, None)
    iterations = choose_iterations(timing["seconds"], min_seconds, min_iterations)
    log.info(
        "%s: timing run %.3f ms per inference -> %d iterations per window",
        session.task.name,
        timing["seconds"] * 1e3,
        iterations,
    )
    if progress:
        progress(0)
    windows = []
    compliant = True
    for k in range(runs):
        data = stimuli[k % len(stimuli)]
        session.client.load(data)
        n = iterations
        w = timed_infer(session, n, WARMUPS, mode, timing["seconds"])
        if w["seconds"] < min_seconds:
            n = choose_iterations(w["seconds"] / n, min_seconds, min_iterations)
            log.warning(
                "window %d lasted %.3f s < %.1f s; repeating it with %d iterations",
                k + 1,
                w["seconds"],
                min_seconds,
                n,
            )
            w = timed_infer(session, n, WARMUPS, mode, w["seconds"] / w["iterations"])
        w["met"] = w["seconds"] >= min_seconds and n >= min_iterations
        compliant &= w["met"]
        w["ips"] = n / w["seconds"]
        w["file"] = names[k % len(names)]
        if w["energy_uJ"] is not None:
            w["energy_uJ_per_inference"] = w["energy_uJ"] / n
            w["avg_power_mW"] = w["energy_uJ"] / w["seconds"] / 1000.0
        windows.append(w)
        if progress:
            progress(k + 1)
    ips = median([w["ips"] for w in windows])
    summary = {
        "median_ips": ips,
        "latency_ms": 1000.0 / ips,
        "iterations": iterations,
        "windows": runs,
        "min_seconds": min_seconds,
    }
    notes = (
        []
        if compliant
        else [
            f"runtime requirement not met (a window shorter than {min_seconds} s or "
            f"fewer than {min_iterations} inferences)"
        ]
    )
    if min_seconds < MIN_SECONDS:
        compliant = False
        notes.append(f"windows of {min_seconds} s instead of the {MIN_SECONDS:g} s the rules require")
    if mode == "energy":
        if any(w["energy_uJ"] is None for w in windows):
            raise RunnerError("energy mode: the backend recorded edges but no energy")
        summary["energy_uJ_per_inference"] = median([w["energy_uJ_per_inference"] for w in windows])
        summary["avg_power_mW"] = median([w["avg_power_mW"] for w in windows])
    text = energy_text(windows, summary) if mode == "energy" else performance_text(windows, summary)
    return Outcome(session.task.name, mode, summary, windows, text, compliant, notes)


def performance_text(windows: list[dict], summary: dict) -> str:
    lines = []
    for k, w in enumerate(windows, 1):
        lines += [
            f"Performance results for window {k}",
            f"    # Inferences : {w['iterations']}",
            f"    Runtime: {w['seconds']:.6f} sec.",
            f"    Throughput: {w['ips']!r} inf./sec.",
            "    Runtime requirements have been met."
            if w["met"]
            else "    Runtime requirements have NOT been met.",
        ]
    lines += [
        RULE,
        f"Median throughput is {summary['median_ips']:10.3f} inf./sec.",
        f"Latency is {summary['latency_ms']:.4f} ms.",
        RULE,
    ]
    return "\n".join(lines) + "\n"


def energy_text(windows: list[dict], summary: dict) -> str:
    lines = ["Power Edition Output"]
    for k, w in enumerate(windows):
        lines += [
            f"Energy data for trial {k}",
            f"  Elapsed time  : {w['seconds']!r}",
            f"  Inferences    : {w['iterations']}",
            f"  Power         : {w['avg_power_mW']:.4f} mW.",
            f"  Total Energy  : {w['energy_uJ']:.3f} uJ",
            f"  Energy/Inf    : {w['energy_uJ_per_inference']:.3f} uJ/inf",
        ]
    lines += [
        RULE,
        f"Median energy cost is {summary['energy_uJ_per_inference']:.4f} uJ/inf.",
        f"Median power is {summary['avg_power_mW']:.4f} mW.",
        RULE,
    ]
    return "\n".join(lines) + "\n"
