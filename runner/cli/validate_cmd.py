"""Validate the simulator against a real board: run the same image on the simulated NUCLEO-L4R5ZI and on the
board at --port (flashed beforehand, or with --flash), and report side by side whether the outputs are
bit-identical and how simulated latency compares with the measured one."""

from __future__ import annotations

import argparse
from pathlib import Path

from tinyperf.runner.backends.base import BackendSpec, make_backend
from tinyperf.runner.dataset import Dataset, random_stimuli
from tinyperf.runner.firmware_source import provide
from tinyperf.runner.session import open_session
from tinyperf.runner.tasks import TASKS, get_task
from tinyperf.runner.validate import compare, compare_energy

NAME = "validate"
HELP = "compare the simulated board with a real one: outputs, latency (and energy with a monitor)"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--port", required=True, help="serial port of the board (or a simulator pty)")
    p.add_argument("--task", required=True, choices=list(TASKS))
    p.add_argument(
        "--firmware",
        type=Path,
        metavar="IMAGE",
        help="image the board runs (default: ours, built from the reference model or --model)",
    )
    p.add_argument("--model", type=Path, metavar="MODEL.tflite")
    p.add_argument("--flash", action="store_true", help="flash the image with pyocd first (tinyperf[flash])")
    p.add_argument("--probe", help="pyocd probe id for --flash and reset")
    p.add_argument("--dataset", type=Path, metavar="DIR", help="take stimuli from this EEMBC dataset")
    p.add_argument("--stimuli", type=int, default=5, help="number of stimuli compared (default 5)")
    p.add_argument("--window", type=float, default=2.0, help="device seconds of the timed window (default 2)")
    p.add_argument("--timeout-scale", type=float, help="multiply timeouts on the serial side")
    p.add_argument(
        "--energy-monitor",
        default="none",
        choices=("none", "joulescope"),
        help="compare energy too: energy builds on both sides, the board measured by a Joulescope "
        "(PF13 to IN0; the board must run the energy build: flash it or use --flash)",
    )
    p.add_argument("--joulescope", metavar="SERIAL", help="serial number of the Joulescope to use")
    p.add_argument("--allow-placeholder", action="store_true", help=argparse.SUPPRESS)


def run(args: argparse.Namespace) -> int:
    task = get_task(args.task)
    energy = args.energy_monitor != "none"
    mode = "energy" if energy else "performance"
    if energy:
        from tinyperf.runner.energy_monitor import make_monitor

        make_monitor(args.energy_monitor)  # fail before any build when the extra is missing
    fw = provide(task, mode, image=args.firmware, model=args.model)
    if args.flash:
        from tinyperf.runner.cli.flash_cmd import flash

        flash(fw.image, args.probe)
    if args.dataset:
        ds = Dataset(args.dataset, task)
        k = min(args.stimuli, len(ds))
        stimuli, names = [ds.inputs(i)[0] for i in range(k)], [ds.entries[i].file for i in range(k)]
    else:
        stimuli = random_stimuli(task, args.stimuli)
        names = [f"random_{i}" for i in range(args.stimuli)]
    options = {} if args.timeout_scale is None else {"timeout_scale": args.timeout_scale}
    if args.probe:
        options["probe"] = args.probe
    if energy:
        options["energy_monitor"] = args.energy_monitor
        if args.joulescope:
            options["joulescope_serial"] = args.joulescope
    sim = open_session(
        make_backend(BackendSpec("sim", mode=mode, image=str(fw.image))),
        task,
        allow_placeholder=args.allow_placeholder,
    )
    try:
        board = open_session(
            make_backend(BackendSpec("serial", mode=mode, port=args.port, options=options)),
            task,
            allow_placeholder=args.allow_placeholder,
        )
        try:
            result = (compare_energy if energy else compare)(sim, board, stimuli, names, args.window)
        finally:
            board.close()
    finally:
        sim.close()
    print(result.text(), end="")
    return 0 if result.identical else 1
