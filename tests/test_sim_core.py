"""Simulated Cortex-M4F core on C test firmwares: boot, SysTick, NVIC priorities and masking, tail-chaining,
FP context stacking, IT blocks, faults, determinism. Expected values come from the ARMv7-M ARM
(DDI 0403E) and the firmware's own arithmetic, never from a previous run."""

from __future__ import annotations

from itertools import pairwise

import pytest
from sim_support import boot, build, read_str, read_u32
from tinyperf.errors import FirmwareFault

pytestmark = pytest.mark.sim


@pytest.fixture(scope="session")
def fw(tmp_path_factory):
    out = tmp_path_factory.mktemp("simfw")
    return {name: build(name, out) for name in ("fw_systick", "fw_irq", "fw_fault", "fw_fpu")}


# -- SysTick --------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mailbox,div", [(0, 1), (1, 8)])
def test_systick_period_in_cycles(fw, mailbox, div):
    """SysTick with RVR=999 wraps every RVR+1 = 1000 clocks [B3.3.1]: CLKSOURCE=1 counts HCLK, CLKSOURCE=0
    the STM32 external reference HCLK/8 [RM0432 6.2]. The handler stamps DWT CYCCNT at each tick."""
    board = boot(fw["fw_systick"], mailbox)
    assert board.run(max_seconds=1.0) == "exit"
    assert read_u32(board, "ticks")[0] == 16
    stamps = read_u32(board, "stamp", 16)
    assert [b - a for a, b in pairwise(stamps)] == [1000 * div] * 15
    # the delay of 16 ticks lasted 16 periods (plus the set-up before the first tick)
    done = read_u32(board, "done_cycles")[0]
    assert 16 * 1000 * div <= done < 16 * 1000 * div + 500


def test_dwt_cyccnt_writable_and_gated_by_trcena(fw):
    """CYCCNT is writable and counts HCLK only while DEMCR.TRCENA and DWT_CTRL.CYCCNTENA are set
    [ARMv7-M C1.8.6]."""
    board = boot(fw["fw_systick"], 3)
    assert board.run(max_seconds=0.1) == "exit"
    written, later, frozen1, frozen2 = (read_u32(board, n)[0] for n in
                                        ("cyc_written", "cyc_later", "cyc_frozen1", "cyc_frozen2"))
    assert 1_000_000 <= written < 1_000_010
    assert later - written > 10 * 3                    # ten loop iterations of several instructions
    assert frozen1 == frozen2 >= later


def test_vector_table_at_flash_alias(fw):
    """Reset takes SP and PC from address 0 (flash aliased at 0 with BOOT0=0 [RM0432 2.6]), VTOR = 0."""
    from tinyperf.sim import SimBoard

    board = SimBoard.from_image(fw["fw_systick"])
    flash_vectors = read_u32_at(board, 0x08000000, 2)
    assert read_u32_at(board, 0, 2) == flash_vectors
    assert board.regs.get("msp") == flash_vectors[0] == 0x20030000
    assert board.regs.get("pc") == flash_vectors[1] & ~1
    assert board.core_state.vtor == 0


def read_u32_at(board, address, count):
    import struct
    return struct.unpack(f"<{count}I", bytes(board.uc.mem_read(address, 4 * count)))


def test_determinism(fw):
    """Two runs of the same image give the same cycles, instructions and results."""
    runs = []
    for _ in range(2):
        board = boot(fw["fw_systick"])
        board.run(max_seconds=1.0)
        runs.append((board.cycles, board.counter.instructions, read_u32(board, "stamp", 16)))
    assert runs[0] == runs[1]


# -- NVIC -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("mailbox,expected", [
    (1, "ABam"),   # IRQ41 (priority 0x40) preempts IRQ40 (0x80) right after it is pended
    (2, "xAaBm"),  # both pending under PRIMASK: lower exception number first, then tail-chained
    (3, "AaBm"),   # PRIGROUP 5: 0x60 and 0x40 share group priority 0x40, so no preemption [B1.5.4]
    (8, "ABam"),   # PRIGROUP 0: the same priorities now preempt
    (4, "xByAam"), # BASEPRI 0x80 masks the 0x80 interrupt but not the 0x40 one
    (5, "xBym"),   # PRIMASK holds the interrupt until CPSIE
    (6, "Sm"),     # SVC
    (7, "Pm"),     # PendSV via ICSR.PENDSVSET
    (9, "Rm"),     # AIRCR.SYSRESETREQ resets the system; SRAM keeps the flag that marks the second boot
    (10, "Nm"),    # NMI via ICSR.NMIPENDSET
    (11, "TTTTTwm"),  # SCR.SLEEPONEXIT: thread code resumes only after the handler clears it [B1.5.19]
])
def test_nvic_order(fw, mailbox, expected):
    board = boot(fw["fw_irq"], mailbox)
    assert board.run(max_seconds=0.1) == "exit"
    assert read_str(board, "order") == expected


def test_exc_return_values(fw):
    """Handlers entered from Thread mode on MSP with no FP context see EXC_RETURN 0xFFFFFFF9; a handler
    preempting another sees 0xFFFFFFF1 [B1.5.8 Table B1-8]."""
    board = boot(fw["fw_irq"], 1)
    board.run(max_seconds=0.1)
    assert read_u32(board, "exc_return", 2) == (0xFFFFFFF9, 0xFFFFFFF1)
    # IPSR (MRS) and ICSR.VECTACTIVE name the running exception: IRQ41 is exception 16 + 41 [B1.4.2]
    assert read_u32(board, "ipsr_seen")[0] == read_u32(board, "vectactive_seen")[0] == 57
    assert read_u32(board, "ipsr_thread")[0] == 0
    board = boot(fw["fw_irq"], 2)
    board.run(max_seconds=0.1)
    assert read_u32(board, "exc_return", 2) == (0xFFFFFFF9, 0xFFFFFFF9)   # tail-chained: same EXC_RETURN


# -- FPU ------------------------------------------------------------------------------------------------
def test_fp_context_survives_interrupt(fw):
    """The thread's S0-S15 and FPSCR survive a handler that overwrites them; the handler sees EXC_RETURN
    0xFFFFFFE9 (Thread, MSP, extended frame) because CONTROL.FPCA was set [B1.5.7, B1.5.8]."""
    board = boot(fw["fw_fpu"], 0)
    assert board.run(max_seconds=0.1) == "exit"
    assert read_u32(board, "isr_count")[0] == 1
    before, after = read_u32(board, "before", 17), read_u32(board, "after", 17)
    assert before[:16] == tuple(0x3F800000 + i for i in range(16))
    assert before[16] == 0x03C00000
    assert after == before
    assert read_u32(board, "isr_exc_return")[0] == 0xFFFFFFE9


def it_loop_reference(n: int) -> int:
    """The fw_fpu it_loop algorithm in Python (32-bit)."""
    acc = 0
    for i in range(n):
        r3 = i & 3
        acc = (acc + i) if r3 == 1 else acc ^ ((i << 3) & 0xFFFFFFFF)
        acc &= 0xFFFFFFFF
        if r3 > 2:
            acc = (acc + 7) & 0xFFFFFFFF
            acc = ((acc >> 5) | (acc << 27)) & 0xFFFFFFFF
        else:
            acc = (acc - 1) & 0xFFFFFFFF
        acc ^= FLASH_TABLE[0] if r3 == 0 else SRAM_TABLE[r3]
    return acc


FLASH_TABLE = (0x11111111, 0x22222222, 0x44444444, 0x88888888)   # fw_fpu.c flash_table / sram_table
SRAM_TABLE = (0x01010101, 0x02020202, 0x04040404, 0x08080808)


def test_it_blocks_across_interrupts(fw):
    """A loop of IT blocks (conditional ALU ops, conditional loads from flash and SRAM) interrupted by
    SysTick every 37 cycles computes what the algorithm says."""
    board = boot(fw["fw_fpu"], 2)
    assert board.run(max_seconds=1.0) == "exit"
    assert read_u32(board, "isr_count")[0] > 500
    assert read_u32(board, "it_result")[0] == it_loop_reference(3000)


# -- faults ---------------------------------------------------------------------------------------------
CFSR_PRECISERR, CFSR_BFARVALID = 1 << 9, 1 << 15          # BFSR [B3.2.15]
CFSR_UNDEFINSTR, CFSR_INVSTATE, CFSR_NOCP = 1 << 16, 1 << 17, 1 << 19
HFSR_FORCED = 1 << 30                                        # [B3.2.16]


@pytest.mark.parametrize("mailbox,cfsr,hfsr,function,exc", [
    (1, CFSR_PRECISERR | CFSR_BFARVALID, HFSR_FORCED, "read_unmapped", "HardFault"),
    (2, CFSR_PRECISERR | CFSR_BFARVALID, 0, "read_unmapped", "BusFault"),
    (3, CFSR_UNDEFINSTR, HFSR_FORCED, "undefined_instruction", "HardFault"),
    (4, CFSR_NOCP, HFSR_FORCED, "fp_without_cpacr", "HardFault"),
    (5, CFSR_INVSTATE, HFSR_FORCED, "undefined_instruction", "HardFault"),
])
def test_fault_report(fw, mailbox, cfsr, hfsr, function, exc):
    board = boot(fw["fw_fault"], mailbox)
    with pytest.raises(FirmwareFault) as info:
        board.run(max_seconds=0.1)
    st = board.core_state
    assert (st.cfsr, st.hfsr) == (cfsr, hfsr)
    if cfsr & CFSR_BFARVALID:
        assert st.bfar == 0x30000000
    text = str(info.value)
    assert text.startswith(exc)
    assert f"<{function}" in text                 # PC symbolised
    assert "CFSR" in text and "HFSR" in text


def test_firmware_hardfault_handler_sees_status(fw):
    """The firmware's own HardFault handler reads CFSR/HFSR/BFAR through the SCS and the stacked PC."""
    board = boot(fw["fw_fault"], 6, stop_on_fault=False)
    assert board.run(max_seconds=0.1) == "exit"
    cfsr, hfsr, bfar, pc = (read_u32(board, n)[0] for n in ("seen_cfsr", "seen_hfsr", "seen_bfar", "seen_pc"))
    assert (cfsr, hfsr, bfar) == (CFSR_PRECISERR | CFSR_BFARVALID, HFSR_FORCED, 0x30000000)
    start = board.image.symbols.address_of("read_unmapped")
    assert start <= pc < start + 8


# -- clocks and timers (with the peripheral models) ------------------------------------------------------
@pytest.fixture(scope="session")
def fw_periph(tmp_path_factory):
    return build("fw_periph", tmp_path_factory.mktemp("simfw_periph"))


def test_clock_120mhz_systick_and_timers(fw_periph):
    """MSI 4 MHz * N 60 / R 2 = 120 MHz HCLK [RM0432 6.2.5]; SysTick RVR 119999 gives 1 ms ticks; TIM2
    (PSC 14, ARR 999) and TIM6 (PSC 0, ARR 1499) on a 2 x 7.5 MHz timer clock update every 120000 and
    12000 HCLK cycles."""
    board = boot(fw_periph)
    assert board.run(max_seconds=1.0) == "exit"
    assert read_u32(board, "status")[0] == 0
    assert board.clock_hz("HCLK") == 120_000_000
    assert board.counter.snapshot()["added"].get("sleep", 0) > 100_000    # WFI skipped time, no spinning
    delay = read_u32(board, "delay_cycles")[0]
    assert 4 * 120_000 < delay <= 5 * 120_000 + 200           # 5 tick edges, first one at any phase
    t2, t6 = read_u32(board, "tim2_stamp", 8), read_u32(board, "tim6_stamp", 8)
    for stamps, period in ((t2, 120_000), (t6, 12_000)):
        deltas = [b - a for a, b in pairwise(stamps)]
        assert all(abs(d - period) <= 64 for d in deltas), deltas
        assert abs((stamps[-1] - stamps[0]) - 7 * period) <= 64


def test_vtor_relocation_to_sram(fw):
    """After VTOR points at a copy of the table in SRAM, exceptions dispatch through the copy."""
    board = boot(fw["fw_systick"], 2)
    assert board.run(max_seconds=1.0) == "exit"
    table = board.image.symbols.address_of("ram_vectors")
    assert table % 512 == 0 and board.core_state.vtor == table
    assert read_u32(board, "ram_ticks")[0] == read_u32(board, "ticks")[0] == 16


@pytest.mark.parametrize("suffix", [".hex", ".bin"])
def test_boot_from_hex_and_bin(fw, suffix):
    """The same firmware as Intel HEX and raw .bin (at 0x08000000) boots and runs identically."""
    from tinyperf.sim import SimBoard

    elf_board = boot(fw["fw_systick"])
    elf_board.run(max_seconds=1.0)
    board = SimBoard.from_image(fw["fw_systick"].with_suffix(suffix))
    assert board.run(max_seconds=1.0) == "exit"
    assert board.cycles == elf_board.cycles


def test_psp_context_switching_rtos_style(fw_rtos):
    """Two tasks on the process stack switched by PendSV (FreeRTOS-style): each keeps its float in an FP
    register across hundreds of switches; PendSV sees EXC_RETURN 0xFFFFFFED (Thread, PSP, FP frame)."""
    import struct

    board = boot(fw_rtos)
    assert board.run(max_seconds=2.0) == "exit"
    cnt_a, cnt_b, switches = (read_u32(board, n)[0] for n in ("cnt_a", "cnt_b", "switches"))
    res_a, res_b = (struct.unpack("<f", struct.pack("<I", read_u32(board, n)[0]))[0] for n in ("res_a", "res_b"))
    assert cnt_a >= 3000 and cnt_b >= 3000 and switches > 10
    assert res_a == float(cnt_a)                         # exact in float32 below 2**24
    assert res_b in (0.25 * cnt_b, 0.25 * (cnt_b - 1))   # task B may be switched out before its store
    assert read_u32(board, "pendsv_exc_return")[0] == 0xFFFFFFED
    assert board.regs.get("control") & 2                 # still in a task on PSP when it exited


@pytest.fixture(scope="session")
def fw_rtos(tmp_path_factory):
    return build("fw_rtos", tmp_path_factory.mktemp("simfw_rtos"))
