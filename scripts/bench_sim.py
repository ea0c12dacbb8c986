#!/usr/bin/env python3
"""Simulation speed of the cycle model: simulated MIPS with the full native model (TRM timings, flash wait
states, ART caches, divides, energy) as a ratio to Unicorn running the same code with no hooks at all,
measured in the same run, plus the peak RSS of this process.

The workload is a compute-heavy firmware built here from C with arm-none-eabi-gcc: an int8 matrix-vector
multiply with weights in flash (const) and activations in SRAM, then a bitwise CRC-32 of the result,
repeated. Both runs execute the identical instruction stream from reset to the `done` symbol; the model
runs in slices of `--slice` cycles (deadline stops and restarts, as the board's run loop does). Times are
process CPU seconds (time.process_time), so a busy machine disturbs the ratio less; the best of
`--repeat` runs of each kind is kept.

    python3 scripts/bench_sim.py [--iterations N] [--repeat R] [--slice CYCLES]
"""

from __future__ import annotations

import argparse
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import unicorn
from elftools.elf.elffile import ELFFile
from tinyperf.sim.timing import CycleCounter
from unicorn import arm_const

FLASH, FLASH_SIZE = 0x0800_0000, 0x20_0000
SRAM, SRAM_SIZE = 0x2000_0000, 0xA_0000

FIRMWARE_C = r"""
#include <stdint.h>
#define ROWS 64
#define COLS 256
extern const int8_t W[ROWS * COLS];
static int8_t x[COLS];
static int32_t y[ROWS];
volatile uint32_t result;

static void matvec(void) {
    for (int i = 0; i < ROWS; i++) {
        const int8_t *w = &W[i * COLS];
        int32_t acc = 0;
        for (int j = 0; j < COLS; j++) acc += w[j] * x[j];
        y[i] = acc;
    }
}

static uint32_t crc32(const uint8_t *p, int n) {
    uint32_t crc = 0xFFFFFFFFu;
    for (int i = 0; i < n; i++) {
        crc ^= p[i];
        for (int k = 0; k < 8; k++) crc = (crc >> 1) ^ (0xEDB88320u & -(crc & 1u));
    }
    return ~crc;
}

void done(void) __attribute__((noinline));
void done(void) { for (;;) __asm volatile("nop"); }

void Reset_Handler(void) {
    uint32_t crc = 1;
    for (int j = 0; j < COLS; j++) x[j] = (int8_t)(j * 7 + 3);
    for (int it = 0; it < ITERATIONS; it++) {
        matvec();
        crc = crc32((const uint8_t *)y, sizeof y);
        x[it % COLS] = (int8_t)crc;
    }
    result = crc;
    done();
}

extern uint32_t _estack;
__attribute__((section(".isr_vector"), used))
const void *vectors[2] = {&_estack, (void *)Reset_Handler};
"""

LINKER = """
MEMORY { FLASH (rx) : ORIGIN = 0x08000000, LENGTH = 2048K
         RAM (rwx)  : ORIGIN = 0x20000000, LENGTH = 640K }
_estack = ORIGIN(RAM) + LENGTH(RAM);
SECTIONS {
  .text : { KEEP(*(.isr_vector)) *(.text*) *(.rodata*) } > FLASH
  .bss (NOLOAD) : { *(.bss*) *(COMMON) } > RAM
  .data : { *(.data*) } > RAM
}
"""


def build(workdir: Path, iterations: int) -> Path:
    gcc = shutil.which("arm-none-eabi-gcc")
    if gcc is None:
        sys.exit("arm-none-eabi-gcc not found: apt install gcc-arm-none-eabi")
    rng = random.Random(1234)
    weights = ",".join(str(rng.randint(-128, 127)) for _ in range(64 * 256))
    (workdir / "fw.c").write_text(FIRMWARE_C)
    (workdir / "w.c").write_text(f"#include <stdint.h>\nconst int8_t W[64 * 256] = {{{weights}}};\n")
    (workdir / "fw.ld").write_text(LINKER)
    elf = workdir / "fw.elf"
    cmd = [gcc, "-O2", "-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16",
           "-ffreestanding", "-nostdlib", f"-DITERATIONS={iterations}", "-T", str(workdir / "fw.ld"),
           str(workdir / "fw.c"), str(workdir / "w.c"), "-lgcc", "-o", str(elf)]
    subprocess.run(cmd, check=True)
    return elf


def load(elf_path: Path) -> tuple[unicorn.Uc, int, int]:
    uc = unicorn.Uc(unicorn.UC_ARCH_ARM, unicorn.UC_MODE_THUMB | unicorn.UC_MODE_MCLASS)
    uc.ctl_set_cpu_model(unicorn.arm_const.UC_CPU_ARM_CORTEX_M4)
    uc.mem_map(FLASH, FLASH_SIZE)
    uc.mem_map(SRAM, SRAM_SIZE)
    with open(elf_path, "rb") as fh:
        elf = ELFFile(fh)
        for seg in elf.iter_segments():
            if seg["p_type"] == "PT_LOAD" and seg["p_filesz"]:
                uc.mem_write(seg["p_paddr"], seg.data())
        syms = {s.name: s["st_value"] for s in elf.get_section_by_name(".symtab").iter_symbols()}
    sp, entry = (int.from_bytes(uc.mem_read(FLASH + i, 4), "little") for i in (0, 4))
    uc.reg_write(arm_const.UC_ARM_REG_SP, sp)
    return uc, entry, syms["done"] & ~1


def run_bare(elf: Path) -> float:
    uc, entry, done = load(elf)
    t0 = time.process_time()
    uc.emu_start(entry, done)
    return time.process_time() - t0


def run_model(elf: Path, slice_cycles: int) -> tuple[float, CycleCounter]:
    uc, entry, done = load(elf)
    counter = CycleCounter(uc)                       # full model: platforms/stm32l4r5_timing.yaml
    counter.flash_config_changed(5, True, True, True)   # 120 MHz: LATENCY 5, prefetch, I/D caches
    pc = entry
    t0 = time.process_time()
    while pc & ~1 != done:
        counter.set_deadline(counter.cycles + slice_cycles)
        counter.emu_start(pc | 1, done)
        pc = uc.reg_read(arm_const.UC_ARM_REG_PC)
    return time.process_time() - t0, counter


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--iterations", type=int, default=400, help="matvec+CRC iterations (default 400)")
    ap.add_argument("--repeat", type=int, default=5, help="runs of each kind; the best is kept")
    ap.add_argument("--slice", type=int, default=120_000, help="cycles per emu_start slice (1 ms at 120 MHz)")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="tinyperf-bench-") as tmp:
        elf = build(Path(tmp), args.iterations)
        bare = min(run_bare(elf) for _ in range(args.repeat))
        runs = [run_model(elf, args.slice) for _ in range(args.repeat)]
    model_s, counter = min(runs, key=lambda r: r[0])
    insns, cycles = counter.instructions, counter.cycles
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0
    print(f"workload: {insns:,} instructions, {cycles:,} modelled cycles (CPI {cycles / insns:.3f}), "
          f"{counter.energy_uJ:,.1f} µJ modelled")
    print(f"unicorn, no hooks:      {insns / bare / 1e6:8.1f} MIPS  ({bare:.3f} s CPU)")
    print(f"full cycle model:       {insns / model_s / 1e6:8.1f} MIPS  ({model_s:.3f} s CPU, "
          f"slices of {args.slice} cycles)")
    print(f"ratio model / bare:     {bare / model_s:8.3f}")
    print(f"peak RSS:               {peak_mb:8.1f} MB")
    return 0


if __name__ == "__main__":
    sys.exit(main())
