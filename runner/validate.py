"""Model-to-board validation: the same image on the simulated board and on a real one (or any serial DUT),
compared side by side: result vectors (identical?) and latency (simulated / measured).

For each stimulus: load, `infer 1 0` on both; the printed result vectors must be equal. Then one timed window
on each (`infer N 1`, N chosen for about `window_s` device seconds from the simulated timing): latency per
inference on both and the ratio.

With an energy monitor on the board (`compare_energy`, energy builds on both sides): the timed window is
timed by the timestamp GPIO edges, and energy per inference (µJ) and average power (mW) are reported side by
side: simulated energy model vs the monitor's measurement.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from tinyperf.errors import ProtocolError
from tinyperf.runner.performance import choose_iterations, timed_infer
from tinyperf.runner.session import Session


@dataclass
class Comparison:
    """Side-by-side figures: per-stimulus outputs, and latency in ms on both (None when not measured)."""

    task: str
    outputs: list[dict] = field(default_factory=list)
    sim_latency_ms: float | None = None
    board_latency_ms: float | None = None
    iterations: int = 0
    sim_energy_uJ: float | None = None  # per inference
    board_energy_uJ: float | None = None
    sim_power_mW: float | None = None
    board_power_mW: float | None = None

    @property
    def identical(self) -> bool:
        return all(o["identical"] for o in self.outputs)

    @property
    def latency_ratio(self) -> float | None:
        if not self.sim_latency_ms or not self.board_latency_ms:
            return None
        return self.sim_latency_ms / self.board_latency_ms

    def text(self) -> str:
        lines = [f"validation of {self.task}: simulated board vs device", ""]
        for o in self.outputs:
            lines.append(
                f"  {o['stimulus']:<24} outputs {'identical' if o['identical'] else 'DIFFER'}"
                + ("" if o["identical"] else f"  sim {o['sim']}  board {o['board']}")
            )
        lines.append(
            f"outputs bit-identical: {'yes' if self.identical else 'NO'} ({len(self.outputs)} stimuli)"
        )
        if self.latency_ratio is not None:
            err = (self.latency_ratio - 1.0) * 100
            lines.append(
                f"latency ({self.iterations} inferences): simulated {self.sim_latency_ms:.4f} ms, "
                f"measured {self.board_latency_ms:.4f} ms, simulated/measured {self.latency_ratio:.4f} "
                f"({err:+.2f} %)"
            )
        if self.sim_energy_uJ is not None and self.board_energy_uJ:
            ratio = self.sim_energy_uJ / self.board_energy_uJ
            lines.append(
                f"energy per inference: simulated {self.sim_energy_uJ:.3f} uJ, measured "
                f"{self.board_energy_uJ:.3f} uJ, simulated/measured {ratio:.4f} ({(ratio - 1) * 100:+.2f} %)"
            )
            lines.append(
                f"average power: simulated {self.sim_power_mW:.4f} mW, measured {self.board_power_mW:.4f} mW"
            )
        else:
            lines.append("energy: no energy monitor configured on the device side; not compared")
        return "\n".join(lines) + "\n"


def _window(session: Session, iterations: int, estimate_s: float) -> float:
    timeout = ((iterations + 1) * estimate_s * 2 + 10) * session.timeout_scale
    r = session.client.infer(iterations, 1, timeout_s=timeout)
    if r.elapsed_us is None:
        raise ProtocolError("no m-lap-us timestamps (validate needs a performance-mode build)")
    return r.elapsed_us / 1e6 / iterations


def compare(
    sim: Session, board: Session, stimuli: Sequence[bytes], names: Sequence[str], window_s: float = 2.0
) -> Comparison:
    """Run the comparison described in the module docstring."""
    c = Comparison(sim.task.name)
    per = None
    for data, name in zip(stimuli, names):
        res = []
        for s in (sim, board):
            s.client.load(data)
            r = s.client.infer(1, 0, timeout_s=20.0 * s.timeout_scale)
            res.append(r.results)
            if s is sim and r.elapsed_us:
                per = r.elapsed_us / 1e6
        c.outputs.append({"stimulus": name, "identical": res[0] == res[1], "sim": res[0], "board": res[1]})
    if per:
        c.iterations = choose_iterations(per, window_s, 10)
        c.sim_latency_ms = _window(sim, c.iterations, per) * 1e3
        c.board_latency_ms = _window(board, c.iterations, per) * 1e3
    return c


def compare_energy(
    sim: Session, board: Session, stimuli: Sequence[bytes], names: Sequence[str], window_s: float = 2.0
) -> Comparison:
    """Energy builds on both sides, an energy monitor on the board: outputs per stimulus, then one window
    timed by the timestamp edges on each side (latency, µJ per inference, mW)."""
    c = Comparison(sim.task.name)
    for data, name in zip(stimuli, names):
        res = []
        for s in (sim, board):
            s.client.load(data)
            res.append(s.client.infer(1, 0, timeout_s=20.0 * s.timeout_scale).results)
        c.outputs.append({"stimulus": name, "identical": res[0] == res[1], "sim": res[0], "board": res[1]})
    per = timed_infer(sim, 1, 0, "energy", None)["seconds"]
    c.iterations = choose_iterations(per, window_s, 10)
    for s, side in ((sim, "sim"), (board, "board")):
        w = timed_infer(s, c.iterations, 1, "energy", per)
        if w["energy_uJ"] is None:
            raise ProtocolError(f"{side}: timestamp edges without energy")
        setattr(c, f"{side}_latency_ms", w["seconds"] / c.iterations * 1e3)
        setattr(c, f"{side}_energy_uJ", w["energy_uJ"] / c.iterations)
        setattr(c, f"{side}_power_mW", w["energy_uJ"] / w["seconds"] / 1000.0)
    return c
