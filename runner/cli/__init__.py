"""The `tinyperf` command line: one module per command in this package (`<name>_cmd.py`), each defining
NAME, HELP, `add_arguments(parser)` and `run(args) -> int`. `main()` maps errors to exit codes, handles
Ctrl-C and broken pipes, and shows tracebacks only with -v."""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from tinyperf import __version__
from tinyperf.errors import TinyperfError

COMMANDS = ("sim", "build", "compile", "bench", "flash", "validate")

log = logging.getLogger("tinyperf")


def _command_modules():
    for name in COMMANDS:
        yield importlib.import_module(f"tinyperf.runner.cli.{name}_cmd")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tinyperf", description="Simulation-first MLPerf Tiny benchmark "
                                     "for the NUCLEO-L4R5ZI (Cortex-M4F, 120 MHz).")
    parser.add_argument("--version", action="version", version=f"tinyperf {__version__}")
    parser.add_argument("-v", "--verbose", action="count", default=0, help="more output; -vv for debug")
    parser.add_argument("-q", "--quiet", action="store_true", help="only errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for module in _command_modules():
        p = sub.add_parser(module.NAME, help=module.HELP, description=module.__doc__)
        module.add_arguments(p)
        p.set_defaults(_run=module.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    level = logging.ERROR if args.quiet else (logging.WARNING, logging.INFO, logging.DEBUG)[min(args.verbose, 2)]
    logging.basicConfig(level=level, format="%(levelname)s %(name)s: %(message)s")
    if not getattr(args, "_run", None):
        parser.print_help()
        return 2
    try:
        return int(args._run(args) or 0)
    except TinyperfError as e:
        if args.verbose:
            log.exception("failed")
        print(f"tinyperf: error: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("tinyperf: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 141
