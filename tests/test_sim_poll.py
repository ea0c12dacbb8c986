"""The exact busy-wait fast-forward (sim/poll.py): a firmware that polls peripheral registers gives the
same cycles, DWT stamps, RAM results and UART bytes with and without the shortcut, and the shortcut did
engage on the fixed-point loops (and only on them)."""

from __future__ import annotations

import pytest
from sim_support import boot, build, read_u32

pytestmark = pytest.mark.sim


@pytest.fixture(scope="module")
def fw_poll(tmp_path_factory):
    return build("fw_poll", tmp_path_factory.mktemp("simfw_poll"))


def run(elf, fast_forward):
    board = boot(elf, fast_forward=fast_forward)
    assert board.run(max_seconds=0.5) == "exit"
    out = board.console.read()
    state = {n: read_u32(board, n, 6 if n == "stamps" else 1) for n in ("stamps", "spin", "fsum", "timeouts")}
    return board, out, state


def test_fast_forward_is_exact(fw_poll):
    fast, out_fast, state_fast = run(fw_poll, True)
    slow, out_slow, state_slow = run(fw_poll, False)
    assert out_fast == out_slow == b"polled hello 0123456789\r\nspin\r\nfloat\r\n"
    assert state_fast == state_slow
    assert fast.cycles == slow.cycles
    uncounted = 0 if fast.poll.counts_instructions else fast.poll.skipped_instructions
    assert fast.counter.instructions + uncounted == slow.counter.instructions
    assert state_fast["timeouts"] == (0,)
    assert state_fast["spin"][0] > 1000                  # the RAM-counting poll really ran every iteration
    # 25 characters, 10 bits each at 115200 baud = 10416.7 cycles at 120 MHz per frame; TDR + the shift
    # register take the first two at once, so the 25th is written after 23 frames [RM0432 52.4.5]
    stamps = state_fast["stamps"]
    assert 23 * 10_416 <= stamps[1] - stamps[0] <= 23 * 10_417 + 500
    assert fast.poll.skipped_iterations > 1000 and slow.poll.skipped_iterations == 0
    # 3 ticks of a 1 MHz counter: 2 to 3 us = 240 to 360 cycles at 120 MHz
    assert 240 <= stamps[5] - stamps[4] <= 400


@pytest.fixture(scope="module")
def fw_periph_poll(tmp_path_factory):
    return build("fw_periph", tmp_path_factory.mktemp("simfw_poll_periph"))


def test_fast_forward_respects_timed_flags(fw_periph_poll):
    """Clock bring-up polls PWR_SR2.VOSF, which clears with time alone: the fast-forward must stop at that
    moment (the model announces it as an event), so both runs agree cycle for cycle."""
    runs = []
    for ff in (True, False):
        board = boot(fw_periph_poll, fast_forward=ff)
        assert board.run(max_seconds=1.0) == "exit"
        runs.append((board.cycles, read_u32(board, "tim2_stamp", 8), read_u32(board, "delay_cycles")))
    assert runs[0] == runs[1]
