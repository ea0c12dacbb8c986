"""Flash data reads: the fast path (addresses derived at block entry from registers and memory, no memory
hook) must charge exactly what a UC_HOOK_MEM_READ over flash (the reference: Unicorn reports every
access) charges, on compiler-generated code: -O0 (pointers spilled to the stack and reloaded) and -O2
(pointer increments, unrolled loops), with constant tables, a struct of pointers and a lookup table in
flash, at 5 wait states with the ART data cache on and off.
"""

from __future__ import annotations

import shutil
import subprocess

import pytest
import unicorn
from elftools.elf.elffile import ELFFile
from tinyperf.sim.timing import CycleCounter
from unicorn import arm_const as A

pytestmark = [pytest.mark.sim,
              pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="needs arm-none-eabi-gcc")]

SOURCE = r"""
#include <stdint.h>
static const int8_t W[32 * 48] = {
#define R(i) (int8_t)((i) * 37 + 11)
#define R8(i) R(i), R(i+1), R(i+2), R(i+3), R(i+4), R(i+5), R(i+6), R(i+7)
#define R64(i) R8(i), R8(i+8), R8(i+16), R8(i+24), R8(i+32), R8(i+40), R8(i+48), R8(i+56)
  R64(0), R64(64), R64(128), R64(192), R64(256), R64(320), R64(384), R64(448), R64(512), R64(576),
  R64(640), R64(704), R64(768), R64(832), R64(896), R64(960), R64(1024), R64(1088), R64(1152),
  R64(1216), R64(1280), R64(1344), R64(1408), R64(1472)
};
static const uint16_t LUT[64] = { R64(7) };
struct layer { const int8_t *w; const uint16_t *lut; int rows, cols; };
static const struct layer L = { W, LUT, 32, 48 };
int8_t x[48];
int32_t y[32];
volatile uint32_t out;

__attribute__((noinline)) static void run(const struct layer *l) {
    for (int i = 0; i < l->rows; i++) {
        const int8_t *w = l->w + i * l->cols;
        int32_t acc = 0;
        for (int j = 0; j < l->cols; j++) acc += w[j] * x[j];
        y[i] = acc + l->lut[(uint32_t)acc & 63];
    }
}

void start(void) {
    for (int j = 0; j < 48; j++) x[j] = (int8_t)(j * 3 - 70);
    for (int k = 0; k < 3; k++) run(&L);
    out = (uint32_t)y[5];
    for (;;) { __asm volatile ("bkpt #0"); }
}
"""


def build(tmp_path, opt: str):
    src = tmp_path / "df.c"
    src.write_text(SOURCE)
    elf = tmp_path / f"df{opt}.elf"
    subprocess.run(["arm-none-eabi-gcc", opt, "-mcpu=cortex-m4", "-mthumb", "-ffreestanding", "-nostdlib",
                    "-Wl,-Ttext=0x08000000", "-Wl,-Tbss=0x20000000", "-Wl,-e,start", str(src), "-lgcc",
                    "-o", str(elf)], check=True)
    with open(elf, "rb") as fh:
        e = ELFFile(fh)
        segs = [(s["p_paddr"], s.data()) for s in e.iter_segments() if s["p_type"] == "PT_LOAD"]
        syms = {s.name: s["st_value"] for s in e.get_section_by_name(".symtab").iter_symbols()}
    return segs, syms


def run(segs, syms, exact: bool, dcen: bool):
    uc = unicorn.Uc(unicorn.UC_ARCH_ARM, unicorn.UC_MODE_THUMB | unicorn.UC_MODE_MCLASS)
    uc.mem_map(0x0800_0000, 0x20_0000)
    uc.mem_map(0x2000_0000, 0xA_0000)
    for addr, data in segs:
        if data:
            uc.mem_write(addr, data)
    uc.reg_write(A.UC_ARM_REG_SP, 0x2009_0000)
    counter = CycleCounter(uc, exact_data=exact)
    counter.flash_config_changed(5, True, True, dcen)
    with pytest.raises(unicorn.UcError):        # ends on BKPT
        counter.emu_start(syms["start"] | 1, 0)
    return counter


@pytest.mark.parametrize("opt", ["-O0", "-O2"])
@pytest.mark.parametrize("dcen", [True, False])
def test_fast_flash_data_reads_match_memory_hook(tmp_path, opt, dcen):
    segs, syms = build(tmp_path, opt)
    exact = run(segs, syms, exact=True, dcen=dcen)
    fast = run(segs, syms, exact=False, dcen=dcen)
    assert exact.stat("dc_misses" if dcen else "flash_data_reads") > 32 * 48 // 8   # weights streamed
    assert fast.instructions == exact.instructions
    assert fast.stat("flash_data_reads") == exact.stat("flash_data_reads")
    assert fast.stat("data_stall") == exact.stat("data_stall")
    assert fast.cycles == exact.cycles


def test_pointer_reads_never_touch_peripherals():
    """A load through a pointer held in a peripheral register: the model must not read the peripheral
    itself at block entry (reads have side effects); only the firmware's own access reaches it."""
    from tinyperf.sim.timing.snippet import run_snippet
    reads = []
    r_src = """
        ldr r2, [r1]
        ldr r3, [r2]
    """
    import tinyperf.sim.timing.snippet as snip
    orig = snip.CycleCounter

    class Spy(orig):
        def __init__(self, uc, **kw):
            uc.mmio_map(0x4000_0000, 0x1000, lambda u, off, size, d: reads.append(off) or 0x0801_0000,
                        None, None, None)
            super().__init__(uc, **kw)

    snip.CycleCounter = Spy
    try:
        run_snippet(r_src, regs={"r1": 0x4000_0000}, flash=(5, True, True, True))
    finally:
        snip.CycleCounter = orig
    assert reads == [0]
