"""Run the MLPerf Tiny benchmark: performance, energy and accuracy modes (or a LoadGen-style scenario) for
each task, on the simulated NUCLEO-L4R5ZI (default) or a real board over a serial port. Results go to a
folder in the MLPerf Tiny submission layout, with a summary table and charts. Plain `tinyperf bench` runs
all four tasks in performance and energy mode on the simulated board with our firmware built from the
reference models."""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from tinyperf.errors import RunnerError
from tinyperf.runner.bench import BenchConfig, run_bench
from tinyperf.runner.tasks import MODES, SCENARIOS, TASKS

NAME = "bench"
HELP = "run the MLPerf Tiny benchmark (performance, energy, accuracy, scenarios)"

log = logging.getLogger("tinyperf.bench")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--task", default="all", choices=[*TASKS, "all"], help="task to run (default: all four)")
    p.add_argument(
        "--mode",
        default=None,
        choices=[*MODES, "all"],
        help="benchmark mode (default: performance and energy; all adds accuracy when --dataset is given)",
    )
    p.add_argument("--scenario", choices=SCENARIOS, help="run a LoadGen-style scenario instead of the modes")
    p.add_argument(
        "--division",
        default="closed",
        choices=("closed", "open"),
        help="closed: reference model and quality target required; open: any model",
    )
    p.add_argument(
        "--firmware",
        type=Path,
        metavar="IMAGE",
        help="run this firmware image (.elf/.hex/.bin) on the simulated board instead of building ours",
    )
    p.add_argument(
        "--model",
        type=Path,
        metavar="MODEL.tflite",
        help="build the firmware from this model (default: the task's reference model)",
    )
    p.add_argument(
        "--dataset",
        type=Path,
        metavar="DIR",
        help="EEMBC-format dataset (y_labels.csv + .bin "
        "files) for accuracy mode; with several tasks DIR/<task>/ per task",
    )
    p.add_argument(
        "--backend",
        default="sim",
        choices=("sim", "serial"),
        help="simulated board (default) or a serial port",
    )
    p.add_argument(
        "--port",
        help="serial port path (default: the first ST-LINK found by USB VID:PID); the "
        "simulated board's pty from `tinyperf sim IMAGE --pty` works too",
    )
    p.add_argument(
        "--baud",
        type=int,
        choices=(115200, 921600),
        help="baud rate of performance and accuracy builds (energy mode always uses 9600)",
    )
    p.add_argument(
        "--probe", help="pyocd probe id used to reset a real board (optional extra tinyperf[flash])"
    )
    p.add_argument(
        "--energy-monitor",
        default="none",
        choices=("none", "joulescope"),
        help="serial backend, energy mode: measure the board's supply with a Joulescope (DUT powered through "
        "it, PF13 wired to IN0; optional extra tinyperf[joulescope])",
    )
    p.add_argument("--joulescope", metavar="SERIAL", help="serial number of the Joulescope to use")
    p.add_argument(
        "--energy-capture",
        type=Path,
        metavar="FILE.jls",
        help="no benchmark: print the energy between the IN0 falling edges of a Joulescope recording",
    )
    p.add_argument(
        "--timeout-scale",
        type=float,
        help="multiply device-time timeouts (serial backend; default 1 for a board, 50 for a pty)",
    )
    p.add_argument(
        "--out",
        type=Path,
        default=Path("tinyperf-results"),
        help="results folder (default: ./tinyperf-results)",
    )
    p.add_argument("--submitter", default="tinyperf", help="submitter name in the results layout")
    p.add_argument(
        "--system",
        help="system name in the results layout (default NUCLEO_L4R5ZI_tinyperf_sim or NUCLEO_L4R5ZI)",
    )
    p.add_argument(
        "--workers",
        type=int,
        default=1,
        metavar="N",
        help="accuracy mode: shard stimuli over N processes, each with its own simulated board",
    )
    p.add_argument(
        "--ray",
        metavar="ADDRESS",
        help="accuracy mode: shard over a Ray cluster ('local' starts one; optional extra tinyperf[ray])",
    )
    p.add_argument("--resume", action="store_true", help="skip task/mode entries already complete in --out")
    p.add_argument("--runs", type=int, default=5, help=argparse.SUPPRESS)
    p.add_argument(
        "--min-seconds",
        type=float,
        default=10.0,
        help="device seconds per performance window (the rules require 10; less marks results non-compliant)",
    )
    p.add_argument("--duration", type=float, default=60.0, help="scenario length in device seconds")
    p.add_argument("--seed", type=int, default=0, help="seed of random stimuli and arrival schedules")
    p.add_argument("--latency-bound-ms", type=float, help="server scenario p99 bound (default per task)")
    p.add_argument("--interval-ms", type=float, help="multi-stream interval (default per task)")
    p.add_argument(
        "--allow-placeholder",
        action="store_true",
        help="run firmware with a placeholder model (results marked not publishable)",
    )
    p.add_argument("--no-charts", action="store_true", help="do not write PNG charts")
    p.add_argument("--json", action="store_true", help="print machine-readable results on stdout")
    p.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=argparse.SUPPRESS,
        help="no progress bars or logs, only the results",
    )


def config_from_args(args: argparse.Namespace) -> BenchConfig:
    tasks = list(TASKS) if args.task == "all" else [args.task]
    if args.mode is None:
        modes = ["performance", "energy"]
    elif args.mode == "all":
        modes = ["performance", "energy"] + (["accuracy"] if args.dataset else [])
        if not args.dataset:
            log.warning("--mode all without --dataset: accuracy mode skipped")
    else:
        modes = [args.mode]
    if args.backend == "serial" and args.firmware:
        raise RunnerError("--firmware is for the simulated board; flash a real board with `tinyperf flash`")
    if args.workers < 1:
        raise RunnerError(f"--workers must be >= 1, got {args.workers}")
    options = {}
    if args.energy_monitor != "none":
        if args.backend != "serial":
            raise RunnerError(
                "--energy-monitor measures a real board (--backend serial); the simulated board has its "
                "energy model"
            )
        options["energy_monitor"] = args.energy_monitor
        if args.joulescope:
            options["joulescope_serial"] = args.joulescope
    if args.probe is not None:
        options["probe"] = args.probe
    if args.timeout_scale is not None:
        options["timeout_scale"] = args.timeout_scale
    return BenchConfig(
        tasks=tasks,
        modes=modes,
        scenario=args.scenario,
        division=args.division,
        firmware=args.firmware,
        model=args.model,
        dataset=args.dataset,
        backend=args.backend,
        port=args.port,
        baud=args.baud,
        out=args.out,
        workers=args.workers,
        ray=args.ray,
        resume=args.resume,
        submitter=args.submitter,
        system=args.system,
        runs=args.runs,
        min_seconds=args.min_seconds,
        duration_s=args.duration,
        seed=args.seed,
        latency_bound_ms=args.latency_bound_ms,
        interval_ms=args.interval_ms,
        allow_placeholder=args.allow_placeholder,
        progress=not getattr(args, "quiet", False) and not args.json,
        backend_options=options,
    )


def run(args: argparse.Namespace) -> int:
    from tinyperf.runner import charts, report

    if args.energy_capture:
        from tinyperf.runner.energy_monitor import capture_report

        sys.stdout.write(capture_report(args.energy_capture))
        return 0
    cfg = config_from_args(args)
    if cfg.ray:
        from tinyperf.runner.distributed import _import_ray

        _import_ray()  # fail before any work when the extra is missing
    entries = run_bench(cfg)
    if args.json:
        sys.stdout.write(report.to_json(entries, cfg.division))
    else:
        sys.stdout.write(report.table(entries, cfg.division))
    if not args.no_charts:
        for path in charts.write_charts(entries, Path(cfg.out) / "charts"):
            log.info("chart: %s", path)
    if not args.json and not getattr(args, "quiet", False):
        sys.stdout.write(f"results: {Path(cfg.out) / cfg.division / cfg.submitter}\n")
    return 0 if all(e.status != "failed" and e.valid for e in entries) else 1
