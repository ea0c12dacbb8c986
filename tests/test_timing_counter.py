"""The native counter's contract with the run loop, checked against an independent reference: Unicorn's
own per-instruction trace (a UC_HOOK_CODE hook in a separate run of the same code).

- after `counter.emu_start` returns (deadline stop, fault, WFI, request_stop), `instructions` equals the
  number of instructions that executed and PC is the next one;
- the deadline stop happens at the first block boundary where cycles >= deadline;
- a fault in the middle of a block charges only the instructions before the faulting one;
- `request_stop()` from an MMIO callback stops at the next block boundary without re-executing the access;
- `cycles` read inside an MMIO callback counts up to the accessing instruction (with track_pc_in);
- irq_waiting stops right after CPSIE; WFI is reported; profile totals equal the counter.
The unit model (1 cycle per instruction) makes cycles == instructions so the trace is the reference.
"""

from __future__ import annotations

import shutil

import capstone
import pytest
import unicorn
from tinyperf.sim.timing import CycleCounter
from tinyperf.sim.timing.classify import Flags
from tinyperf.sim.timing.profile import build_profile
from tinyperf.sim.timing.snippet import FLASH, SRAM, assemble, run_snippet
from unicorn import arm_const as A

pytestmark = [pytest.mark.sim,
              pytest.mark.skipif(shutil.which("arm-none-eabi-gcc") is None, reason="needs arm-none-eabi-gcc")]

PROGRAM = """
    movs r0, #0
    movs r1, #10
1:  adds r0, r0, r1
    subs r1, #1
    bne 1b
    ldr r2, =0x20000000
    str r0, [r2]
    movs r4, #8
    mov r5, r2
2:  cmp r4, #4
    ite lt
    movlt r6, #1
    movge r6, #2
    strb r6, [r5], #1
    subs r4, #1
    bne 2b
    ldr r2, =0x30000000
    movs r1, #1
    ldr r0, [r2]
    movs r1, #2
"""
FAULT_AT = "ldr r0, [r2]"


def new_engine(code: bytes):
    uc = unicorn.Uc(unicorn.UC_ARCH_ARM, unicorn.UC_MODE_THUMB | unicorn.UC_MODE_MCLASS)
    uc.mem_map(*FLASH)
    uc.mem_map(*SRAM)
    uc.mem_write(FLASH[0], code)
    return uc


@pytest.fixture(scope="module")
def program():
    code, syms = assemble(PROGRAM, FLASH[0])
    # reference: Unicorn's own trace; IT-skipped instructions do not fire UC_HOOK_CODE but do take their
    # cycle on the core, so re-insert them from the disassembly
    uc = new_engine(code)
    trace: list[int] = []
    uc.hook_add(unicorn.UC_HOOK_CODE, lambda u, a, s, d: trace.append(a))
    with pytest.raises(unicorn.UcError):
        uc.emu_start(syms["start"] | 1, syms["end"])
    md = capstone.Cs(capstone.CS_ARCH_ARM, capstone.CS_MODE_THUMB | capstone.CS_MODE_MCLASS)
    insns = {i.address: i for i in md.disasm(code, FLASH[0])}
    full: list[int] = []
    for a, b in zip(trace, trace[1:] + [None]):
        full.append(a)
        x = a + insns[a].size
        if b is not None and x < b <= x + 8 and insns[a].mnemonic[0] not in "bc":
            while x < b:
                full.append(x)
                x += insns[x].size
    fault_pc = next(a for a in full if insns[a].mnemonic + " " + insns[a].op_str == FAULT_AT)
    return code, syms, full, fault_pc


def test_every_deadline_stops_exactly(program):
    code, syms, trace, fault_pc = program
    fault_index = trace.index(fault_pc)
    for deadline in range(fault_index + 3):
        uc = new_engine(code)
        counter = CycleCounter(uc, model="unit")
        counter.set_deadline(deadline)
        faulted = False
        try:
            counter.emu_start(syms["start"] | 1, syms["end"])
        except unicorn.UcError:
            faulted = True
        pc = uc.reg_read(A.UC_ARM_REG_PC)
        n = counter.instructions
        assert counter.cycles == n
        assert trace[n] == pc, f"deadline {deadline}: {n} instructions but PC {pc:#x}"
        if faulted:
            assert pc == fault_pc and n == fault_index       # faulting load not counted
        else:
            assert counter.stop_reason == "deadline" and n >= deadline
            # it stopped at the FIRST block boundary at/after the deadline: re-running to the previous
            # boundary would not have reached it
            assert n - deadline < 12


def test_resume_after_deadline_stops_is_seamless(program):
    code, syms, trace, fault_pc = program
    uc = new_engine(code)
    counter = CycleCounter(uc, model="unit")
    pc = syms["start"]
    with pytest.raises(unicorn.UcError):
        for _ in range(100):
            counter.set_deadline(counter.cycles + 3)
            counter.emu_start(pc | 1, syms["end"])
            pc = uc.reg_read(A.UC_ARM_REG_PC)
    assert counter.instructions == trace.index(fault_pc)
    assert uc.reg_read(A.UC_ARM_REG_PC) == fault_pc


MMIO_LOOP = """
    ldr r2, =0x40000000
    movs r1, #3
1:  adds r0, #1
    adds r0, #1
    ldr r3, [r2]
    adds r0, #1
    subs r1, #1
    bne 1b
    cpsie i
    nop
"""


def test_mmio_request_stop_and_cycles_inside_callback():
    code, syms = assemble(MMIO_LOOP, FLASH[0])
    uc = new_engine(code)
    counter = CycleCounter(uc, model="unit")
    counter.track_pc_in(0x4000_0000, 0x4000_1000)
    seen = []

    def read(u, offset, size, _d):
        seen.append((u.reg_read(A.UC_ARM_REG_PC), counter.cycles))
        counter.request_stop()
        return len(seen)

    uc.mmio_map(0x4000_0000, 0x1000, read, None, None, None)
    pc, stops = syms["start"], 0
    while pc != syms["end"]:
        counter.emu_start(pc | 1, syms["end"])
        pc = uc.reg_read(A.UC_ARM_REG_PC)
        stops += 1
    ldr_pc = seen[0][0]
    # the callback saw the exact PC of the LDR and the cycles of the instructions before it:
    # first pass: LDR, MOVS, ADDS, ADDS (4); each later pass adds 6 (5 of the loop + LDR's predecessors)
    assert [c for _, c in seen] == [4, 10, 16]
    assert all(p == ldr_pc for p, _ in seen)
    assert len(seen) == 3                                     # never re-executed
    assert uc.reg_read(A.UC_ARM_REG_R3) == 3                  # the last read's value landed
    assert counter.instructions == 2 + 3 * 6 + 2
    assert stops >= 3


def test_mmio_access_gives_instruction_exact_cycles_without_memory_hooks():
    """No memory hook (full speed): `mmio_access(address)` at the start of the callback makes `cycles`
    count up to the accessing instruction; without it, `cycles` is the running block's start."""
    code, syms = assemble(MMIO_LOOP, FLASH[0])
    for exact in (False, True):
        uc = new_engine(code)
        counter = CycleCounter(uc, model="unit")
        seen = []

        def read(u, offset, size, _d, counter=counter, exact=exact, seen=seen):
            if exact:
                counter.mmio_access(0x4000_0000 + offset)
            seen.append(counter.cycles)
            return 0

        uc.mmio_map(0x4000_0000, 0x1000, read, None, None, None)
        counter.emu_start(syms["start"] | 1, syms["end"])
        if exact:
            assert seen == [4, 10, 16]           # as with track_pc_in (see the test above)
        else:
            assert seen == [0, 8, 14]            # block starts: the first block, then the loop block
        assert counter.instructions == 2 + 3 * 6 + 2


def test_irq_window_stops_after_cpsie():
    code, syms = assemble(MMIO_LOOP.replace("ldr r3, [r2]", "nop"), FLASH[0])
    uc = new_engine(code)
    counter = CycleCounter(uc, model="unit")
    counter.irq_waiting = True
    counter.emu_start(syms["start"] | 1, syms["end"])
    md = capstone.Cs(capstone.CS_ARCH_ARM, capstone.CS_MODE_THUMB | capstone.CS_MODE_MCLASS)
    cpsie = next(i for i in md.disasm(code, FLASH[0]) if i.mnemonic == "cpsie")
    assert counter.stop_reason == "irq_window"
    assert uc.reg_read(A.UC_ARM_REG_PC) == cpsie.address + 2
    assert counter.last_block_flags & Flags.IRQ_WINDOW


def test_wfi_reported():
    r = run_snippet("""
        nop
        wfi
        nop
    """, model="unit")
    # unicorn returns from emu_start after WFI; run_snippet resumes to `end`
    assert r.instructions == 3


def test_wfi_stop_reason():
    code, syms = assemble("    nop\n    wfi\n    nop\n", FLASH[0])
    uc = new_engine(code)
    counter = CycleCounter(uc, model="unit")
    counter.emu_start(syms["start"] | 1, syms["end"])
    assert counter.stop_reason == "wfi"
    assert counter.instructions == 2
    assert counter.last_block_flags & Flags.WFI


def test_add_accounts_cycles_and_energy():
    code, _ = assemble("    nop\n", FLASH[0])
    counter = CycleCounter(new_engine(code))
    before = counter.energy_uJ
    counter.add(12, "exception")
    counter.add(1000, "sleep")
    snap = counter.snapshot()
    assert snap["cycles"] == 1012 and snap["added"] == {"exception": 12, "sleep": 1000}
    assert snap["energy_uJ"] > before
    with pytest.raises(ValueError):
        counter.add(-1)


def test_profile_totals_match_counter():
    r = run_snippet("""
        mov.w r3, #20
    1:  udiv r2, r0, r1
        ldr r4, [r5]
        subs r3, #1
        bne 1b
    """, regs={"r0": 1000, "r1": 7, "r5": 0x0801_0000}, flash=(5, True, True, True))
    r.counter.add(12, "exception")
    prof = build_profile(r.counter, None)
    assert prof.total == r.cycles + 12 == r.counter.cycles
    assert sum(c for _, c in prof.by_function) == prof.total
    assert sum(c for _, c in prof.by_class) == prof.total
    names = dict(prof.by_class)
    assert names["div"] == 20 * 2 and names["divide iterations"] > 0


@pytest.mark.parametrize("step", [1, 7, 50])
def test_full_model_is_independent_of_slicing(step):
    """Stopping at deadlines and restarting must not change the modelled cycles (flash wait states,
    prefetch, caches, branch refills, divides): slices of `step` cycles give the uninterrupted total."""
    source = """
        mov.w r3, #12
    1:  ldr r4, [r5], #4
        udiv r6, r4, r3
        nop
        nop
        subs r3, #1
        bne 1b
    """
    data = {0x0801_0000: bytes(range(256))}
    regs = {"r5": 0x0801_0000}
    whole = run_snippet(source, regs=regs, data=data, flash=(5, True, True, True))
    code, syms = assemble(source, FLASH[0])
    uc = new_engine(code)
    uc.mem_write(0x0801_0000, data[0x0801_0000])
    uc.reg_write(A.UC_ARM_REG_R5, 0x0801_0000)
    counter = CycleCounter(uc)
    counter.flash_config_changed(5, True, True, True)
    counter.rescan()
    pc = syms["start"]
    while pc != syms["end"]:
        counter.set_deadline(counter.cycles + step)
        counter.emu_start(pc | 1, syms["end"])
        pc = uc.reg_read(A.UC_ARM_REG_PC)
    assert counter.instructions == whole.instructions
    assert counter.cycles == whole.cycles
    assert counter.energy_uJ == pytest.approx(whole.counter.energy_uJ, rel=1e-9)


def test_decoder_failure_is_a_clear_error():
    """A block the decoder cannot handle stops the emulation and raises SimError naming the cause
    (not a crash inside the native hook)."""
    from tinyperf.errors import SimError
    code, syms = assemble("    nop\n    nop\n", FLASH[0])
    uc = new_engine(code)
    counter = CycleCounter(uc, model="unit")

    def broken(address, size):
        raise ValueError(f"cannot decode {address:#x}")

    counter._decoder.decode = broken
    with pytest.raises(SimError, match="cannot decode 0x8000000"):
        counter.emu_start(syms["start"] | 1, syms["end"])
    assert counter.stop_reason == "error"
    assert counter.instructions == 0
