"""Cortex-M4 core timing: microbenchmarks in Thumb-2 assembly whose cycle counts the TRM determines.

Expected counts are computed here from Arm DDI 0439B (Cortex-M4 TRM r0p1), section 3.3.1 Table 3-1
"Cortex-M4 instruction set summary" and section 7.2.3 Table 7-1 "FPU instruction set", written out in
this file (NOT read from platforms/cortex_m4_timing.yaml). Code runs from flash with FLASH_ACR.LATENCY = 0
(no wait states), so only the core table applies.

P (pipeline refill) is "1 to 3 depending on the alignment and width of the target instruction, and
whether the processor manages to speculate the address early" (TRM 3.3.1). The tests pin the model's
documented choice inside that range: P = 2, plus 1 when the target is a 32-bit instruction at a
halfword-aligned address (two fetches). Targets below are word aligned (.align 2) unless stated.
"""

from __future__ import annotations

import shutil

import pytest
from tinyperf.sim.timing.snippet import run_snippet

pytestmark = [pytest.mark.sim,
              pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="needs arm-none-eabi-gcc")]

# --- TRM Table 3-1 / 7-1 (cycles) ----------------------------------------------------------------------
ALU = 1          # MOV/ADD/SUB/CMP/logical/shift: 1
MUL = 1          # MUL/MLA/SMULL/UMLAL...: 1
DSP = 1          # SMLAD, QADD16, SXTB16, ...: 1
LDR = 2          # LDR (any single load): 2
LDR_PIPELINED = 1  # "neighboring load and store single instructions can pipeline": LDR;LDR = 3
STR = 1          # STR: 1
LDRD = 3         # LDRD/STRD: 3 (1+N, N=2)
B = 1            # branch: 1 (+P when taken)
IT_FOLDED = 0    # "IT instructions can be folded onto a preceding 16-bit Thumb instruction"
VMLA = 3         # VMLA/VFMA: 3
VADD = 1         # VADD/VMUL: 1
VDIV = 14        # VDIV/VSQRT: 14
VLDR32 = 2       # VLDR.32: 2
P = 2            # pipeline refill, model choice in the TRM's 1..3
SRAM_DATA = 0x2000_1000


def ldm(n: int, loads_pc: bool = False) -> int:
    """LDM/POP: 1+N, +P when PC is loaded."""
    return 1 + n + (P if loads_pc else 0)


def test_alu_straight_line():
    r = run_snippet("""
        adds r0, r0, #1
        eor r1, r1, r0
        lsls r2, r0, #3
        mov r3, r2
    """)
    assert r.instructions == 4
    assert r.cycles == 4 * ALU


def test_smlad_loop():
    """10 iterations of 4 SMLADs + SUBS + BNE: taken BNE costs 1+P, the last (not taken) 1."""
    r = run_snippet("""
        mov.w r3, #10
    loop:
        smlad r0, r1, r2, r0
        smlad r4, r1, r2, r4
        smlad r5, r1, r2, r5
        smlad r6, r1, r2, r6
        subs r3, #1
        bne loop
    """)
    n = 10
    expected = ALU + n * (4 * DSP + ALU + B) + (n - 1) * P
    assert r.cycles == expected


def test_back_to_back_loads_pipeline():
    """LDR;LDR;LDR with independent addresses = 2+1+1 (TRM: LDR;LDR = 3, three LDRs = 4)."""
    r = run_snippet("""
        ldr r1, [r0]
        ldr r2, [r0, #4]
        ldr r3, [r0, #8]
    """, regs={"r0": SRAM_DATA})
    assert r.cycles == LDR + 2 * LDR_PIPELINED == 4


def test_post_increment_loads_pipeline():
    """Base writeback is not the loaded data: LDR r1,[r0],#4; LDR r2,[r0],#4 still pipelines (2+1)."""
    r = run_snippet("""
        ldr r1, [r0], #4
        ldr r2, [r0], #4
    """, regs={"r0": SRAM_DATA})
    assert r.cycles == LDR + LDR_PIPELINED


def test_dependent_load_does_not_pipeline():
    """The second load's address is the first load's result: no pipelining (2+2)."""
    r = run_snippet("""
        ldr r1, [r0]
        ldr r2, [r1]
    """, regs={"r0": SRAM_DATA}, data={SRAM_DATA: (SRAM_DATA + 16).to_bytes(4, "little")})
    assert r.cycles == 2 * LDR


def test_load_after_store_and_alu():
    """STR = 1; an LDR after an ALU instruction is not pipelined (2)."""
    r = run_snippet("""
        str r1, [r0]
        adds r2, #1
        ldr r3, [r0, #4]
    """, regs={"r0": SRAM_DATA})
    assert r.cycles == STR + ALU + LDR


@pytest.mark.parametrize("n", [1, 4, 8])
def test_ldm_n_registers(n):
    regs = ",".join(f"r{i}" for i in range(1, n + 1))
    r = run_snippet(f"    ldm r0, {{{regs}}}", regs={"r0": SRAM_DATA})
    assert r.cycles == ldm(n)


def test_push_pop_and_ldrd_strd():
    r = run_snippet("""
        push {r4-r7, lr}
        ldrd r0, r1, [r2]
        strd r0, r1, [r2, #8]
        pop {r4-r7}
    """, regs={"r2": SRAM_DATA})
    assert r.cycles == (1 + 5) + LDRD + LDRD + ldm(4)


def test_pop_pc_costs_refill():
    """POP {r4, pc} returns through the stack: 1+N+P (N = 2)."""
    r = run_snippet("""
        ldr r0, =target + 1
        push {r0}
        push {r4}
        pop {r4, pc}
        .align 2
    target:
        nop
    """)
    # LDR literal (2) + PUSH{r0} (2) + PUSH{r4} (2) + POP{r4,pc} (1+2+P) + NOP (1)
    assert r.cycles == LDR + 2 + 2 + ldm(2, loads_pc=True) + 1


def test_branch_taken_and_not_taken():
    r = run_snippet("""
        cmp r0, r0
        beq 1f
        nop
        .align 2
    1:  cmp r0, #1
        beq 2f
        nop
    2:
    """, regs={"r0": 0})
    # CMP 1 + BEQ taken (1+P) + CMP 1 + BEQ not taken (1) + NOP 1
    assert r.cycles == ALU + (B + P) + ALU + B + ALU


def test_unaligned_wide_branch_target_costs_one_more():
    """Target is a 32-bit instruction at a halfword-aligned address: model P = 3 (TRM range 1..3)."""
    r = run_snippet("""
        b.n 1f
        .align 2
        nop
    1:  add.w r0, r0, #1
    """)
    assert r.symbols["start"] % 4 == 0
    assert r.cycles == (B + P + 1) + ALU


def test_it_folding():
    """IT after a 16-bit instruction folds (0 cycles); the conditional instructions cost 1 each whether or
    not their condition passes."""
    r = run_snippet("""
        adds r0, #0
        ite eq
        moveq r1, #1
        movne r1, #2
    """, regs={"r0": 0})
    assert r.cycles == ALU + IT_FOLDED + 2 * ALU
    from unicorn import arm_const
    assert r.uc.reg_read(arm_const.UC_ARM_REG_R1) == 1


def test_multiply_and_dsp():
    r = run_snippet("""
        mul r0, r1, r2
        mla r0, r1, r2, r0
        umlal r4, r5, r1, r2
        qadd16 r6, r1, r2
        sxtb16 r7, r1
        pkhbt r8, r1, r2, lsl #16
        ssat r9, #8, r1
    """)
    assert r.cycles == 3 * MUL + 4 * DSP


def test_fpu_vmla_vadd_vdiv_vldr():
    r = run_snippet("""
        vldr s0, [r0]
        vmla.f32 s1, s2, s3
        vfma.f32 s4, s5, s6
        vadd.f32 s7, s8, s9
        vmul.f32 s10, s11, s12
        vdiv.f32 s13, s14, s15
        vsqrt.f32 s16, s17
    """, regs={"r0": SRAM_DATA})
    assert r.cycles == VLDR32 + 2 * VMLA + 2 * VADD + 2 * VDIV


def test_vldm_n_registers():
    """VLDM .32: 1+N."""
    r = run_snippet("    vldmia r0, {s0-s7}", regs={"r0": SRAM_DATA})
    assert r.cycles == 1 + 8


# --- SDIV/UDIV: TRM Table 3-1 gives 2-12 cycles, "early termination" depending on the operands ----------
def _udiv_cycles(n: int, m: int) -> int:
    r = run_snippet("    udiv r2, r0, r1", regs={"r0": n, "r1": m})
    from unicorn import arm_const
    assert r.uc.reg_read(arm_const.UC_ARM_REG_R2) == (n // m if m else 0)
    return r.cycles


def test_udiv_operand_dependent_within_trm_range():
    small = _udiv_cycles(5, 7)                  # quotient 0: fastest
    mid = _udiv_cycles(100_000, 7)
    big = _udiv_cycles(0xFFFF_FFFF, 1)          # 32-bit quotient: slowest
    assert small == 2 and big == 12             # the TRM's bounds
    assert small < mid < big


def test_sdiv_negative_operands():
    r = run_snippet("    sdiv r2, r0, r1", regs={"r0": (-1_000_000) & 0xFFFF_FFFF, "r1": 3})
    assert 2 < r.cycles <= 12
    r2 = run_snippet("    sdiv r2, r0, r1", regs={"r0": 1_000_000, "r1": 3})
    assert r.cycles == r2.cycles                # |quotient| decides
