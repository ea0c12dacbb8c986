#!/usr/bin/env python3
"""Flash and RAM of the device firmware per task, toolchain and optimisation level, as bytes and as a
ratio to the gcc -O2 build of the same task measured in the same run; also the build time (host seconds,
uncached with --force).

    python3 scripts/firmware_sizes.py                          # all tasks, gcc and zig, -O2
    python3 scripts/firmware_sizes.py --opt=-O2 --opt=-Os --opt=-O3 --force
"""

from __future__ import annotations

import argparse
import logging
import time

from tinyperf.errors import BuildError
from tinyperf.firmware.build import TASKS, build_firmware


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tasks", nargs="+", default=list(TASKS), choices=list(TASKS))
    ap.add_argument("--toolchains", nargs="+", default=["gcc", "zig"], choices=["gcc", "zig"])
    ap.add_argument("--opt", action="append", help="optimisation level, repeatable (default -O2)")
    ap.add_argument("--force", action="store_true", help="rebuild (measures the build time)")
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)

    print(f"{'task':6} {'toolchain':9} {'opt':4} {'flash B':>9} {'x gcc-O2':>8} {'RAM B':>8} {'x gcc-O2':>8} "
          f"{'build s':>8}")
    for task in args.tasks:
        base = build_firmware(task, toolchain="gcc", opt="-O2")
        for tc in args.toolchains:
            for opt in args.opt or ["-O2"]:
                t0 = time.monotonic()
                try:
                    r = build_firmware(task, toolchain=tc, opt=opt, force=args.force)
                except BuildError as e:
                    print(f"{task:6} {tc:9} {opt:4} build failed: {str(e).splitlines()[0]}")
                    continue
                dt = time.monotonic() - t0
                print(f"{task:6} {tc:9} {opt:4} {r.flash_bytes:9} {r.flash_bytes / base.flash_bytes:8.3f} "
                      f"{r.ram_bytes:8} {r.ram_bytes / base.ram_bytes:8.3f} {dt:8.1f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
