"""The `tinyperf bench` plan: for each task and mode, get the firmware, open a checked session on the backend,
run the procedure, apply the division's rules and write the entry to the results folder.

1. `BenchConfig` says what to run. 2. `run_bench(config)` walks task x mode; an entry already complete with
the same configuration is skipped under `resume`; an entry that fails gets its log and a "failed" record and
the run goes on with the next one. 3. It returns one `Entry` per task/mode for the report.
"""

from __future__ import annotations

import datetime
import hashlib
import json
import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from tinyperf import __version__
from tinyperf.errors import RunnerError, TinyperfError
from tinyperf.runner import accuracy, performance, scenarios
from tinyperf.runner.backends.base import DEFAULT_BAUD, BackendSpec, make_backend
from tinyperf.runner.dataset import Dataset, random_stimuli
from tinyperf.runner.divisions import model_notes, quality_valid
from tinyperf.runner.firmware_source import Firmware, provide
from tinyperf.runner.outcome import Outcome
from tinyperf.runner.profile import layer_cycles
from tinyperf.runner.progress import Progress
from tinyperf.runner.results import ResultsTree, config_key
from tinyperf.runner.session import Session, open_session
from tinyperf.runner.tasks import Task, get_task

log = logging.getLogger("tinyperf.runner.bench")


@dataclass
class BenchConfig:
    """Settings of one `tinyperf bench` run (see bench_cmd for their meaning)."""

    tasks: list[str]
    modes: list[str]
    scenario: str | None = None
    division: str = "closed"
    firmware: Path | None = None
    model: Path | None = None
    dataset: Path | None = None
    backend: str = "sim"
    port: str | None = None
    baud: int | None = None
    out: Path = Path("results")
    workers: int = 1
    ray: str | None = None
    resume: bool = False
    submitter: str = "tinyperf"
    system: str | None = None
    runs: int = performance.RUNS
    min_seconds: float = performance.MIN_SECONDS
    duration_s: float = scenarios.DURATION_S
    seed: int = scenarios.SEED
    latency_bound_ms: float | None = None
    interval_ms: float | None = None
    allow_placeholder: bool = False
    command_timeout_s: float = 2.0  # device seconds for a protocol command other than infer
    profile_layers: bool = True  # simulated board, performance mode: per-layer cycle breakdown
    progress: bool = True
    backend_options: dict[str, Any] = field(default_factory=dict)

    @property
    def system_name(self) -> str:
        return self.system or ("NUCLEO_L4R5ZI_tinyperf_sim" if self.backend == "sim" else "NUCLEO_L4R5ZI")


@dataclass
class Entry:
    task: str
    mode: str
    status: str  # complete, resumed, failed
    outcome: dict[str, Any] | None
    valid: bool = True
    notes: list[str] = field(default_factory=list)
    path: Path | None = None
    error: str | None = None


def dataset_for(cfg: BenchConfig, task: Task) -> Dataset | None:
    """The task's dataset: --dataset DIR itself, or DIR/<kws01|kws> when several tasks run."""
    if cfg.dataset is None:
        return None
    root = Path(cfg.dataset)
    for sub in (task.name, task.folder):
        if (root / sub / "y_labels.csv").is_file():
            return Dataset(root / sub, task)
    return Dataset(root, task)


def _stimuli(cfg: BenchConfig, task: Task, count: int) -> tuple[list[bytes], list[str]]:
    ds = dataset_for(cfg, task)
    if ds is not None:
        k = min(count, len(ds))
        return [ds.inputs(i)[0] for i in range(k)], [ds.entries[i].file for i in range(k)]
    return random_stimuli(task, count, seed=cfg.seed), [f"random_seed{cfg.seed}_{i}" for i in range(count)]


def _dataset_fingerprint(ds: Dataset | None) -> str | None:
    if ds is None:
        return None
    h = hashlib.sha256((ds.root / "y_labels.csv").read_bytes())
    for e in ds.entries:
        h.update(f"{e.file}:{(ds.root / e.file).stat().st_size}".encode())
    return h.hexdigest()[:16]


def _log_text(
    cfg: BenchConfig, task: Task, mode: str, fw: Firmware, session: Session | None, extra: list[str]
) -> str:
    lines = [
        f"tinyperf {__version__} bench: task {task.name} mode {mode} division {cfg.division}",
        f"date (host, UTC): {datetime.datetime.now(datetime.timezone.utc).isoformat(timespec='seconds')}",
        f"backend: {cfg.backend} {cfg.port or ''}".rstrip(),
        f"firmware: {fw.image or 'as flashed on the board'} (model: {fw.model_source})",
    ]
    if session is not None:
        lines += [f"DUT: {session.dut_name}; profile: {list(session.profile.lines)}", ""]
        lines += collapse_transcript(session.client.transcript)
    return "\n".join(lines + extra) + "\n"


def collapse_transcript(lines: list[str]) -> list[str]:
    """The protocol transcript with runs of `db <hex>` data commands (and their m-ready) folded into one
    line each, so that log.txt stays readable."""
    out, run = [], 0
    for line in lines:
        if line.startswith("> db ") and not line.startswith("> db load"):
            run += 1
            continue
        if run and line == "< m-ready":
            continue
        if run:
            out.append(f"> ({run} db data commands)")
            run = 0
        out.append(line)
    if run:
        out.append(f"> ({run} db data commands)")
    return out


def _spec(cfg: BenchConfig, mode: str, fw: Firmware) -> BackendSpec:
    sim_mode = "energy" if mode == "energy" else "performance"
    return BackendSpec(
        cfg.backend,
        mode=sim_mode,
        image=str(fw.image) if fw.image else None,
        port=cfg.port,
        baud=cfg.baud if mode != "energy" else None,
        options=dict(cfg.backend_options),
    )


def _progress(cfg: BenchConfig, total: int, label: str) -> Progress:
    return Progress(total, label, enabled=cfg.progress)


def run_entry(cfg: BenchConfig, task: Task, mode: str, fw: Firmware, session: Session) -> Outcome:
    """Run one mode (or scenario) on an open session."""
    if mode in ("performance", "energy"):
        stimuli, names = _stimuli(cfg, task, cfg.runs)
        bar = _progress(cfg, cfg.runs + 1, f"{task.name} {mode}")
        try:
            outcome = performance.run(
                session,
                stimuli,
                mode,
                runs=cfg.runs,
                min_seconds=cfg.min_seconds,
                progress=lambda k: bar.advance(1),
                stimulus_names=names,
            )
        finally:
            bar.close()
        if mode == "performance" and cfg.profile_layers and session.backend.simulated and fw.image:
            try:
                outcome.summary["layer_cycles"] = layer_cycles(
                    session.backend.board, session.client, fw.image, stimuli[0]
                )
            except (TinyperfError, ImportError) as e:
                log.warning("%s: no per-layer profile: %s", task.name, e)
        return outcome
    if mode == "accuracy":
        ds = dataset_for(cfg, task)
        if ds is None:
            raise RunnerError(
                f"accuracy mode needs --dataset DIR (EEMBC format; make one with "
                f"scripts/make_dataset.py --task {task.name})"
            )
        bar = _progress(cfg, len(ds), f"{task.name} accuracy")
        try:
            outputs = accuracy.collect_outputs(
                ds,
                session=session,
                spec=_spec(cfg, mode, fw),
                workers=cfg.workers,
                ray_address=cfg.ray,
                allow_placeholder=cfg.allow_placeholder,
                progress=bar.advance,
            )
        finally:
            bar.close()
        return accuracy.score(task, ds, outputs)
    stimuli, _ = _stimuli(cfg, task, 8)
    bar = _progress(cfg, len(stimuli), f"{task.name} {mode}")
    try:
        return scenarios.run(
            session,
            mode,
            stimuli,
            duration_s=cfg.duration_s,
            seed=cfg.seed,
            latency_bound_ms=cfg.latency_bound_ms,
            interval_ms=cfg.interval_ms,
            progress=bar.advance,
        )
    finally:
        bar.close()


def run_bench(cfg: BenchConfig, on_entry: Callable[[Entry], None] | None = None) -> list[Entry]:
    """Run the plan (see module docstring); returns the entries in order."""
    tree = ResultsTree(Path(cfg.out), cfg.division, cfg.submitter, cfg.system_name)
    modes = [cfg.scenario] if cfg.scenario else list(cfg.modes)
    entries: list[Entry] = []
    system: dict[str, Any] = {}
    for task_name in cfg.tasks:
        task = get_task(task_name)
        for mode in modes:
            entry = _one(cfg, tree, task, mode, system)
            entries.append(entry)
            if on_entry:
                on_entry(entry)
    if system:
        tree.write_system(system)
    return entries


def _one(cfg: BenchConfig, tree: ResultsTree, task: Task, mode: str, system: dict[str, Any]) -> Entry:
    session = None
    fw = Firmware(None, None, None, "unknown")
    key = ""
    try:
        ds = dataset_for(cfg, task) if mode == "accuracy" else None
        fw = provide(
            task,
            "energy" if mode == "energy" else "performance",
            image=cfg.firmware,
            model=cfg.model,
            baud=cfg.baud if mode != "energy" else DEFAULT_BAUD["energy"],
            build=cfg.backend == "sim",
        )
        settings = {
            "task": task.name,
            "mode": mode,
            "division": cfg.division,
            "backend": cfg.backend,
            "port": cfg.port,
            "image": fw.image_sha256,
            "model": fw.model_md5,
            "runs": cfg.runs,
            "min_seconds": cfg.min_seconds,
            "dataset": _dataset_fingerprint(ds),
            "duration": cfg.duration_s,
            "seed": cfg.seed,
            "bound": cfg.latency_bound_ms,
            "interval": cfg.interval_ms,
            "placeholder_ok": cfg.allow_placeholder,
        }
        if cfg.backend_options.get("energy_monitor") and mode == "energy":
            settings["energy_monitor"] = cfg.backend_options["energy_monitor"]
        key = config_key(settings)
        if cfg.resume:
            done = tree.completed(task.folder, mode, key)
            if done is not None:
                log.info("%s %s: complete from an earlier run, skipped (--resume)", task.name, mode)
                _system_facts(cfg, system, fw, None)
                return Entry(
                    task.name,
                    mode,
                    "resumed",
                    done.get("outcome"),
                    done.get("valid", True),
                    done.get("notes", []),
                    tree.entry_dir(task.folder, mode),
                )
        tree.mark_running(task.folder, mode, key)
        session = open_session(
            make_backend(_spec(cfg, mode, fw)),
            task,
            allow_placeholder=cfg.allow_placeholder,
            command_timeout_s=cfg.command_timeout_s,
        )
        md5, source = fw.model_md5, fw.model_source
        if session.profile.model_md5:
            if md5 and md5 != session.profile.model_md5:
                raise RunnerError(
                    f"the firmware reports model md5 {session.profile.model_md5}, but {source} has "
                    f"{md5}: the image was not built from that model"
                )
            md5, source = session.profile.model_md5, "reported by the firmware"
        notes = model_notes(cfg.division, task, md5, source)
        if session.profile.placeholder:
            notes.insert(0, "PLACEHOLDER MODEL: not publishable")
        outcome = run_entry(cfg, task, mode, fw, session)
        notes += outcome.notes
        valid, qnote = quality_valid(cfg.division, task, outcome.summary.get("quality_met"))
        valid = valid and outcome.compliant and not session.profile.placeholder
        if qnote:
            notes.append(qnote)
        _system_facts(cfg, system, fw, session)
        text = outcome.results_txt + "".join(f"Note: {n}\n" for n in notes)
        record = {
            "outcome": outcome.record(),
            "valid": valid,
            "notes": notes,
            "division": cfg.division,
            "model_md5": md5,
            "firmware_sha256": fw.image_sha256,
            "simulated": session.backend.simulated,
            "settings": settings,
        }
        path = tree.write_entry(
            task.folder,
            mode,
            results_txt=text,
            log_txt=_log_text(cfg, task, mode, fw, session, []),
            record=record,
            key=key,
        )
        return Entry(task.name, mode, "complete", outcome.record(), valid, notes, path)
    except TinyperfError as e:
        log.error("%s %s failed: %s", task.name, mode, e)
        path = tree.write_failure(
            task.folder,
            mode,
            key=key or "none",
            error=str(e),
            log_txt=_log_text(cfg, task, mode, fw, session, ["", f"FAILED: {e}"]),
        )
        return Entry(task.name, mode, "failed", None, False, [], path, str(e))
    finally:
        if session is not None:
            session.close()


def _system_facts(cfg: BenchConfig, system: dict[str, Any], fw: Firmware, session: Session | None) -> None:
    """systems/<system>.json in the MLPerf Tiny field names, plus tinyperf's own."""
    if not system:
        simulated = cfg.backend == "sim"
        system.update(
            {
                "Submitter": cfg.submitter,
                "Division": cfg.division.capitalize(),
                "Board Name": "NUCLEO-L4R5ZI" + (" (simulated by tinyperf)" if simulated else ""),
                "SoC Name": "STM32L4R5ZIT6",
                "Processor(s) Name": "32-bit Arm Cortex-M4 (DSP + FPU)",
                "Processor(s) Frequencies": "120 MHz",
                "SoC storage capacity": "2MB",
                "SoC Memory capacity": "640KB",
                "Inference Framework": "tinyperf ahead-of-time compiled int8 kernels"
                if fw.image or simulated
                else "as flashed",
                "Operating System": "bare metal",
                "tinyperf": {
                    "version": __version__,
                    "backend": cfg.backend,
                    "simulated": simulated,
                    "engine": "unicorn 2.1.4 + tinyperf Cortex-M4 cycle and energy model"
                    if simulated
                    else "real board",
                    "build": {},
                },
            }
        )
    if fw.build:
        mode = fw.build.get("mode", "performance")
        system["tinyperf"]["build"][mode] = json.loads(json.dumps(fw.build, default=str))
    if session is not None:
        system["tinyperf"].update(
            {
                "backend_details": session.backend.describe(),
                "dut": session.dut_name,
                "firmware": session.profile.firmware,
            }
        )
