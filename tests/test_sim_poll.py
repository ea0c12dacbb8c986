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
    state = {n: read_u32(board, n, 4 if n == "stamps" else 1) for n in ("stamps", "spin", "fsum", "timeouts")}
    return board, out, state


def test_fast_forward_is_exact(fw_poll):
    fast, out_fast, state_fast = run(fw_poll, True)
    slow, out_slow, state_slow = run(fw_poll, False)
    assert out_fast == out_slow == b"polled hello 0123456789\r\nspin\r\nfloat\r\n"
    assert state_fast == state_slow
    assert (fast.cycles, fast.counter.instructions) == (slow.cycles, slow.counter.instructions)
    assert state_fast["timeouts"] == (0,)
    assert state_fast["spin"][0] > 1000                  # the RAM-counting poll really ran every iteration
    # 25 characters at 10 bits and 115200 baud: about 25 * 10417 cycles at 120 MHz
    stamps = state_fast["stamps"]
    assert 24 * 10_416 <= stamps[1] - stamps[0] <= 26 * 10_417
    assert fast.poll.skipped_iterations > 1000 and slow.poll.skipped_iterations == 0
