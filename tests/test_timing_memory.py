"""STM32L4R5 memory system: flash wait states, ART prefetch, instruction and data caches, SRAM execution.

Expected counts are written here from the reference manuals, not read from platforms/*.yaml:
- RM0432 3.3.3 / RM0440 3.3.3 Table 9: with LATENCY = n a flash read takes n + 1 CPU cycles ("n WS
  (n+1 CPU cycles)"), i.e. n more than at zero wait states.
- RM0440 3.3.4 (same ART as the L4+): in dual-bank mode (DBANK = 1) "each flash memory read operation
  provides 64 bits" (8 bytes = four 16-bit instructions) into a current buffer; on a miss "the penalty in
  terms of the number of cycles is at least equal to the number of wait states"; with PRFTEN "the next
  sequential instruction line" is read while the current one executes; "If a loop is present in the
  current buffer, no new flash access is performed"; with ICEN each missed line is kept (32 lines of 4 x
  64 bits) and "provided without inserting any delay" afterwards; DCEN does the same for DCode literal
  reads (8 rows).
- The model charges exactly the stated minimum (LATENCY cycles per missed 64-bit read; a prefetched read
  costs what is left of its LATENCY + 1 cycles after the previous line's execution).
- Code in SRAM has no wait states; it is fetched over the System bus that also carries its data accesses
  (TRM 2.3.1), modelled as 1 extra cycle per data access (the model's stated simplification).
Core timings used: NOP/ALU 1, LDR 2 (1 when pipelined after a load), taken branch 1+P with P = 2.
"""

from __future__ import annotations

import shutil

import pytest
from tinyperf.sim.timing.snippet import SRAM, run_snippet
from unicorn import arm_const

pytestmark = [pytest.mark.sim,
              pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="needs arm-none-eabi-gcc")]

READ_BYTES = 8          # 64-bit flash read (dual bank)
P = 2
WS5 = 5                 # LATENCY at 120 MHz, range 1 boost (RM0432 Table 12)
SRAM_CODE = SRAM[0] + 0x8000
FLASH_CONST = 0x0801_0000


def nops(n: int) -> str:
    return "\n".join(["    nop"] * n)


@pytest.mark.parametrize("ws", [0, 5])
def test_straight_line_flash_no_prefetch_no_cache(ws):
    """64 16-bit NOPs = 16 reads of 8 bytes, each a miss costing `ws`."""
    r = run_snippet(nops(64), flash=(ws, False, False, False))
    lines = 64 * 2 // READ_BYTES
    assert r.cycles == 64 + lines * ws


def test_straight_line_flash_with_prefetch():
    """Prefetch: the first line misses (5); each next line was read during the 4 cycles the previous
    line's 4 NOPs took, so it stalls only (5 + 1) - 4 = 2."""
    r = run_snippet(nops(64), flash=(WS5, True, False, False))
    lines = 64 * 2 // READ_BYTES
    assert r.cycles == 64 + WS5 + (lines - 1) * ((WS5 + 1) - 4)


LOOP = """
    mov.w r3, #10
    nop.w
loop:
""" + nops(14) + """
    subs r3, #1
    bne loop
"""
# line 0: mov.w + nop.w; loop body: 14 NOPs + SUBS + BNE = 32 bytes = 4 lines of 8 bytes
BODY = 14 + 1 + 1
ITER = 10


def loop_expected(miss_lines_first: int, miss_lines_later: int, ws: int) -> int:
    return (2 + ws) + ITER * BODY + (ITER - 1) * P + ws * (miss_lines_first + (ITER - 1) * miss_lines_later)


def test_loop_from_flash_without_icache_misses_every_pass():
    r = run_snippet(LOOP, flash=(WS5, False, False, False))
    assert r.symbols["loop"] % READ_BYTES == 0
    assert r.cycles == loop_expected(4, 4, WS5)


def test_loop_from_flash_with_icache_hits_after_first_pass():
    r = run_snippet(LOOP, flash=(WS5, False, True, False))
    assert r.cycles == loop_expected(4, 0, WS5)
    assert r.counter.stat("ic_hits") == 4 * (ITER - 1)


def test_loop_from_flash_at_zero_wait_states():
    r = run_snippet(LOOP, flash=(0, False, False, False))
    assert r.cycles == loop_expected(0, 0, 0)


@pytest.mark.parametrize("flash_cfg", [(0, False, False, False), (WS5, False, False, False)])
def test_loop_from_sram_ignores_flash_wait_states(flash_cfg):
    r = run_snippet(LOOP, base=SRAM_CODE, flash=flash_cfg)
    assert r.cycles == loop_expected(0, 0, 0)


def test_flash_vs_sram_vs_art_differ():
    """The model shows the three configurations apart: flash without ART > flash with ART > SRAM."""
    no_art = run_snippet(LOOP, flash=(WS5, False, False, False)).cycles
    art = run_snippet(LOOP, flash=(WS5, True, True, True)).cycles
    sram = run_snippet(LOOP, base=SRAM_CODE, flash=(WS5, True, True, True)).cycles
    assert no_art > art > sram


LITERALS = """
    ldr r1, [r0]
    ldr r2, [r0, #4]
    ldr r3, [r0, #8]
    ldr r4, [r0]
"""


@pytest.mark.parametrize("exact", [False, True], ids=["entry-registers", "mem-hook"])
@pytest.mark.parametrize("dcen", [False, True])
def test_flash_data_reads_and_data_cache(dcen, exact):
    """Code in SRAM reading constants in flash at LATENCY 5. Loads: [r0] miss; [r0+4] same 64-bit read
    (current buffer); [r0+8] next read: miss; [r0] again: miss without DCEN, hit with it. Each data
    access from SRAM code adds the System-bus contention cycle."""
    r = run_snippet(LITERALS, base=SRAM_CODE, regs={"r0": FLASH_CONST}, flash=(WS5, False, False, dcen),
                    exact_data=exact, data={FLASH_CONST: bytes(range(16))})
    core = 2 + 1 + 1 + 1                     # LDR then three pipelined LDRs
    misses = 2 + (0 if dcen else 1)
    assert r.cycles == core + misses * WS5 + 4 * 1
    assert r.uc.reg_read(arm_const.UC_ARM_REG_R3) == int.from_bytes(bytes(range(8, 12)), "little")


def test_literal_pool_load_from_flash_code():
    """`ldr rX, =const` in flash code reads the literal over DCode: first a miss, then the current
    buffer; with ICEN/PRFTEN off the fetch misses are counted separately."""
    r = run_snippet("""
        ldr r0, =0x12345678
        ldr r1, =0x9abcdef0
    """, flash=(WS5, False, False, True))
    assert r.counter.stat("dc_misses") == 1
    assert r.counter.stat("data_stall") == WS5
    assert r.uc.reg_read(arm_const.UC_ARM_REG_R1) == 0x9ABCDEF0


MEMSET_IT = """
    movs r2, #0
loop:
    cmp r2, #16
    it lt
    strblt r2, [r0, r2]
    ittt lt
    addlt r2, #1
    ldrlt r3, [r1]
    blt loop
"""


@pytest.mark.parametrize("exact", [False, True], ids=["entry-registers", "mem-hook"])
def test_it_blocks_in_memset_loop_with_hooks(exact):
    """IT state must survive our hooks (a Unicorn pitfall seen with memory hooks over SRAM): the loop
    stores exactly 16 bytes and stops; the flash data-read hook (exact mode) and a PC-tracking hook over a
    peripheral range are active."""
    buf = SRAM[0] + 0x100
    r = run_snippet(MEMSET_IT, regs={"r0": buf, "r1": FLASH_CONST}, flash=(WS5, True, True, True),
                    exact_data=exact, data={buf: b"\xAA" * 32}, pc_ranges=((0x4000_0000, 0x4000_1000),))
    got = bytes(r.uc.mem_read(buf, 32))
    assert got == bytes(range(16)) + b"\xAA" * 16
    assert r.uc.reg_read(arm_const.UC_ARM_REG_R2) == 16
