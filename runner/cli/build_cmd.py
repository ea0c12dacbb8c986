"""Build the MLPerf Tiny device firmware for the NUCLEO-L4R5ZI: compile the task's model (default: the
reference model) into C, link it with the firmware (startup, clocks, console UART, timestamps, the EEMBC
protocol) and write fw.elf, fw.bin and fw.hex. Builds are cached by a hash of every input
($TINYPERF_CACHE/build/, default ~/.cache/tinyperf/build/); the flash and RAM use per section is printed."""

from __future__ import annotations

import argparse
import logging
import shutil
from pathlib import Path

from tinyperf.errors import BuildError
from tinyperf.firmware.build import BAUD_RANGE, MODES, PLACEHOLDER, TASKS, build_firmware, format_sizes
from tinyperf.firmware.toolchain import OPT_LEVELS

NAME = "build"
HELP = "build the device firmware (ELF, BIN, HEX) for one task"

log = logging.getLogger("tinyperf.build")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--task", required=True, choices=list(TASKS), help="benchmark task")
    p.add_argument("--model", metavar="PATH", help="model .tflite (default: the task's reference model); "
                   f"'{PLACEHOLDER}' links a stand-in model whose results the runner will not publish")
    p.add_argument("--baud", type=int, help="console baud rate in bit/s (default 115200; energy mode 9600); "
                   "the benchmark uses 9600, 115200 and 921600")
    p.add_argument("--mode", default="performance", choices=MODES,
                   help="performance: LPUART1 console and m-lap-us timestamps; energy: USART3 console and "
                   "the timestamp pin")
    p.add_argument("--toolchain", choices=("gcc", "zig"),
                   help="compiler (default: arm-none-eabi-gcc from PATH, else zig from the ziglang package)")
    p.add_argument("--opt", default="-O2", choices=OPT_LEVELS, help="optimisation level (default -O2)")
    p.add_argument("--kernels", choices=("m4", "ref"), default="m4",
                   help="int8 kernels: m4 (DSP instructions, default) or ref (portable reference C)")
    p.add_argument("--force", action="store_true", help="rebuild even when the cache has this build")
    p.add_argument("-o", "--output", type=Path, metavar="DIR",
                   help="also copy fw.elf, fw.bin, fw.hex and build.json to DIR")


def run(args: argparse.Namespace) -> int:
    if args.baud is not None and not BAUD_RANGE[0] <= args.baud <= BAUD_RANGE[1]:
        raise BuildError(f"--baud {args.baud} outside {BAUD_RANGE[0]}..{BAUD_RANGE[1]}")
    result = build_firmware(args.task, model=args.model, baud=args.baud, mode=args.mode,
                            toolchain=args.toolchain, opt=args.opt, force=args.force, kernels=args.kernels)
    for w in result.warnings:
        log.info("compiler: %s", w)
    files = [result.elf, result.bin, result.hex, result.directory / "build.json"]
    if args.output:
        args.output.mkdir(parents=True, exist_ok=True)
        for f in files:
            shutil.copy2(f, args.output / f.name)
        files = [args.output / f.name for f in files]
    print(format_sizes(result))
    for f in files:
        print(f)
    if result.placeholder:
        print("WARNING: PLACEHOLDER model linked: results from this image are not valid")
    return 0
