#!/usr/bin/env python3
"""Host cost of event-heavy simulation: µs of host time per received UART byte and per interrupt, and
simulated MIPS of the kws01 firmware, on the simulated NUCLEO-L4R5ZI.

Three workloads, each timed in process CPU seconds (time.process_time, so a busy machine disturbs less):
1. kws01 input loading: the real kws01 firmware (tinyperf.firmware.build), `DutClient.load` of one
   490-byte input through the EEMBC protocol over board.console (`db <hex>` commands: ~1,000 received
   console bytes per 490-byte input, each one a receive interrupt); figure: host µs per received byte.
2. interrupt-driven echo (tests/firmware/fw_echo.c at 921600 baud): N bytes sent and echoed back; figure:
   host µs per interrupt (one LPUART1 receive interrupt per byte).
3. kws01 inference (`infer 1 0`, the second one: the first pays for translation and block decoding):
   simulated MIPS with the full cycle model and the board's run loop, as a ratio to the MIPS of bare
   Unicorn (no hooks) measured in the same run on scripts/bench_sim.py's compute workload.

`--json FILE` also writes the deterministic results (cycles, instructions, energy_uJ, sha256 of the output
bytes) of each workload, to compare runs before/after a change: they must be identical bit for bit. Pin
the firmware with `--elf` for such comparisons (the kws01 build changes with firmware/kernels).

    python3 scripts/bench_events.py [--echo-bytes N] [--loads N] [--no-infer] [--elf KWS01.elf] [--json FILE]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import random
import struct
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))


def _state(board, out: bytes) -> dict:
    return {"cycles": board.cycles, "instructions": board.counter.instructions,
            "energy_uJ": repr(board.counter.energy_uJ), "out_sha256": hashlib.sha256(out).hexdigest(),
            "out_bytes": len(out)}


def bench_kws_load(loads: int, infer: bool, elf: str | None = None) -> tuple[dict, dict]:
    from tinyperf.firmware.build import build_firmware
    from tinyperf.runner.backends.sim import SimTransport
    from tinyperf.runner.protocol import DutClient
    from tinyperf.sim import SimBoard

    elf = elf or build_firmware("kws01").elf
    board = SimBoard.from_image(str(elf), board="nucleo_l4r5zi")
    transcript = bytearray()
    board.uart("LPUART1").tx_listeners.append(lambda data: transcript.extend(data))
    dut = DutClient(SimTransport(board, board.console, "sim"))
    dut.sync()
    rng = random.Random(1)
    data = bytes(rng.randrange(256) for _ in range(490))
    c0 = time.process_time()
    for _ in range(loads):
        dut.load(data)
    load_s = time.process_time() - c0
    received = loads * sum(len(f"db {data[i:i + 32].hex()}%") for i in range(0, len(data), 32))
    received += loads * len(f"db load {len(data)}%")
    figures = {"load_us_per_byte": 1e6 * load_s / received, "load_bytes": received, "load_s": load_s}
    states = {"kws01_load": _state(board, bytes(transcript))}
    if infer:
        dut.infer(1, 0, timeout_s=30.0)     # first inference: translation and block decoding (one-off)
        i0, t0 = board.counter.instructions, time.process_time()
        dut.infer(1, 0, timeout_s=30.0)
        infer_s = time.process_time() - t0
        figures["infer_mips"] = (board.counter.instructions - i0) / infer_s / 1e6
        states["kws01_infer"] = _state(board, bytes(transcript))
    return figures, states


def bench_echo(nbytes: int) -> tuple[dict, dict]:
    import sim_support

    with tempfile.TemporaryDirectory() as d:
        elf = sim_support.build("fw_echo", Path(d))
        board = sim_support.boot(elf, 1)
        out = board.console.expect(b"ready\r\n", timeout_s=0.5)
        rng = random.Random(2)
        message = bytes(rng.choice(b"abcdefghijklmnopqrstuvwxyz0123456789") for _ in range(nbytes - 1)) + b"!"
        c0 = time.process_time()
        board.console.send(message)
        out += board.console.expect(b"!", timeout_s=nbytes * 20e-6 + 0.5)
        spent = time.process_time() - c0
        board.run(max_seconds=0.1)
        rx = struct.unpack("<I", bytes(board.uc.mem_read(board.image.symbols.address_of("rx_count"), 4)))[0]
        assert rx == nbytes, (rx, nbytes)
        return {"echo_us_per_interrupt": 1e6 * spent / nbytes, "echo_bytes": nbytes}, _state(board, out)


def bare_unicorn_mips() -> float | None:
    """MIPS of hook-free Unicorn on scripts/bench_sim.py's compute workload (same run), or None when it
    cannot be built here. (Instruction count from one run of the cycle counter on the same code.)"""
    sys.path.insert(0, str(ROOT / "scripts"))
    import bench_sim

    with tempfile.TemporaryDirectory() as d:
        elf = bench_sim.build(Path(d), 40)
        insns = bench_sim.run_model(elf, 120_000)[1].instructions
        secs = min(bench_sim.run_bare(elf) for _ in range(3))
    return insns / secs / 1e6


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--echo-bytes", type=int, default=2000)
    ap.add_argument("--loads", type=int, default=2, help="490-byte kws01 inputs loaded")
    ap.add_argument("--no-infer", action="store_true")
    ap.add_argument("--elf", help="kws01 firmware ELF to use (default: build it now)")
    ap.add_argument("--json", help="write deterministic results (cycles, instructions, energy, output hash)")
    args = ap.parse_args()
    os.environ.setdefault("TINYPERF_MODELS", "/work/shared/models")
    results = {}
    fig_echo, results["echo"] = bench_echo(args.echo_bytes)
    fig_kws, kws_states = bench_kws_load(args.loads, not args.no_infer, args.elf)
    results.update(kws_states)
    print(f"echo (fw_echo, 921600 baud, {args.echo_bytes} bytes): "
          f"{fig_echo['echo_us_per_interrupt']:.1f} µs host per interrupt (1 RX interrupt per byte)")
    print(f"kws01 input load ({fig_kws['load_bytes']} console bytes received): "
          f"{fig_kws['load_us_per_byte']:.1f} µs host per received byte ({fig_kws['load_s']:.2f} s)")
    if "infer_mips" in fig_kws:
        bare = bare_unicorn_mips()
        ratio = f", {fig_kws['infer_mips'] / bare:.2f} x bare Unicorn ({bare:.1f} MIPS)" if bare else ""
        print(f"kws01 infer 1 (second inference): {fig_kws['infer_mips']:.1f} simulated MIPS (full cycle model){ratio}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1, sort_keys=True))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
