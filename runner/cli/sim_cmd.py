"""Run a firmware image (.elf, .hex, .bin) on the simulated board.

The console UART (LPUART1, the ST-LINK virtual COM port) is printed to stdout unless --pty or --tcp
exposes it to other programs. The run ends when the firmware exits through semihosting (exit code 0,
or the firmware's code) or at --max-seconds of simulated time; a fault, a lockup, a firmware asleep with
nothing to wake it, or --host-timeout ends it with a fault report and exit code 1 (2 for a time limit).
"""

from __future__ import annotations

import logging
import sys
from pathlib import Path

from tinyperf.errors import FirmwareFault, SimTimeout

NAME = "sim"
HELP = "run a firmware image on the simulated NUCLEO-L4R5ZI"

log = logging.getLogger("tinyperf.sim")


def add_arguments(parser) -> None:
    parser.add_argument("firmware", type=Path, help="firmware image: .elf, .hex or .bin (at 0x08000000)")
    parser.add_argument("--board", default="nucleo_l4r5zi", help="board description (platforms/<name>.yaml "
                        "or a path to one); default: %(default)s")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--pty", action="store_true", help="expose the console UART as a pseudo-terminal "
                       "(prints its path, e.g. 'LPUART1 on /dev/pts/5')")
    where.add_argument("--tcp", type=int, metavar="PORT", help="expose the console UART on 127.0.0.1:PORT")
    parser.add_argument("--max-seconds", type=float, default=None, metavar="N",
                        help="simulated seconds to run (default: 10, or no limit with --pty/--tcp)")
    parser.add_argument("--host-timeout", type=float, default=None, metavar="N",
                        help="abort after N seconds of host (wall-clock) time")
    parser.add_argument("--strict", action="store_true",
                        help="an access to an unmodelled peripheral address is an error (default: reads 0)")
    parser.add_argument("--trace", action="store_true", help="log every peripheral access and exception")
    parser.add_argument("--no-fast-forward", action="store_true",
                        help="run busy-wait loops instruction by instruction (same results, slower)")
    parser.add_argument("--timing", default=None, metavar="MODEL",
                        help="cycle model: 'unit' (1 cycle per instruction) or a platforms/ timing file")
    # --profile (per-symbol cycles and energy) is added by the cycle model (CYCLES): see add_profile().
    add_profile(parser)


def add_profile(parser) -> None:
    """Hook for the cycle model's --profile option (tinyperf.sim.timing); nothing yet."""
    try:
        from tinyperf.sim.timing import profile  # type: ignore[attr-defined]
    except ImportError:
        return
    adder = getattr(profile, "add_arguments", None)
    if adder:
        adder(parser)


def run(args) -> int:
    from tinyperf.sim import SimBoard

    if args.trace:
        logging.getLogger("tinyperf.sim").setLevel(logging.INFO)
        logging.getLogger("tinyperf.sim.bus").setLevel(logging.INFO)
    board = SimBoard.from_image(args.firmware, board=args.board, strict=args.strict, trace=args.trace,
                                timing=args.timing, fast_forward=not args.no_fast_forward)
    console = board.console
    try:
        if console is not None:
            host = console.host
            if args.pty:
                print(f"{console.name} on {host.open_pty()}", flush=True)
            elif args.tcp is not None:
                print(f"{console.name} on tcp 127.0.0.1:{host.open_tcp(args.tcp)}", flush=True)
            else:
                host.uart.tx_listeners.append(_stdout_writer)
        interactive = args.pty or args.tcp is not None
        max_seconds = args.max_seconds if args.max_seconds is not None else (None if interactive else 10.0)
        try:
            reason = board.run(max_seconds=max_seconds, host_timeout_s=args.host_timeout)
        except FirmwareFault as e:
            print(f"tinyperf sim: {e}", file=sys.stderr)
            return 1
        except SimTimeout as e:
            print(f"tinyperf sim: {e}", file=sys.stderr)
            return 2
        finally:
            _finish_profile(args, board)
        code = board._exit_code or 0
        log.info("firmware exited (%s) with code %d after %d cycles (%.6f s simulated)", reason, code,
                 board.cycles, board.seconds)
        return 0 if code == 0 else 1
    finally:
        if console is not None:
            _drain_ptys(console.host)
        board.close()


def _drain_ptys(host, timeout_s: float = 2.0) -> None:
    """Give a serial program on the pty time to read the last bytes: closing the master side hangs the
    terminal up and discards what the client has not read yet."""
    import fcntl
    import struct
    import termios
    import time

    end = time.monotonic() + timeout_s
    for endpoint in getattr(host, "endpoints", []):
        slave = getattr(endpoint, "slave", None)
        if slave is None:
            continue
        quiet = 0       # bytes written to the master reach the slave's queue asynchronously: wait for
        while time.monotonic() < end and quiet < 3:     # three empty readings in a row
            endpoint.flush()
            time.sleep(0.02)
            try:
                pending = struct.unpack("i", fcntl.ioctl(slave, termios.FIONREAD, b"\0\0\0\0"))[0]
            except OSError:
                break
            quiet = quiet + 1 if pending == 0 and not getattr(endpoint, "out", b"") else 0


def _stdout_writer(data: bytes) -> None:
    sys.stdout.buffer.write(data)
    sys.stdout.buffer.flush()


def _finish_profile(args, board) -> None:
    """Where the cycle model's --profile report is written at the end of a run (CYCLES)."""
    if getattr(args, "profile", None):
        try:
            from tinyperf.sim.timing import profile  # type: ignore[attr-defined]
        except ImportError:
            return
        writer = getattr(profile, "write_report", None)
        if writer:
            writer(args, board)
