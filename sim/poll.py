"""Exact fast-forward of busy-wait loops that poll a peripheral register (TXE, ready bits, VOSF, a HAL
timeout loop reading a SysTick-updated variable), so such loops do not cost one Python MMIO callback per
iteration.

A polling loop is at a FIXED POINT when two consecutive iterations start from the same state: the same
MMIO read (PC, address) returns the same value, no other MMIO access happened in between, the core
registers (r0-r12, SP, LR, xPSR, PRIMASK/BASEPRI/FAULTMASK/CONTROL, S0-S31, FPSCR) are identical, and
SRAM is unchanged over one iteration. The iteration is deterministic given that state, so every further
iteration repeats it exactly until the value read changes, which can only happen at a peripheral event
(timer, UART frame, SysTick: the models' next_event), when the polled register itself changes with time
(the model's `read_stable_for(offset)`: a free-running CNT or CYCCNT is never skipped; a model that does
not say is never skipped), or when the run loop stops (its deadline: host input, limits). The detector
then skips the k whole iterations that complete before the earliest of those, adding their cycles
(k * period) to the counter: cycles, DWT CYCCNT and peripheral timing are the same as without the shortcut
(tests/test_sim_poll.py runs both ways and compares). Instructions and per-class energy of the skipped
iterations are counted only when the counter offers `repeat_loop` (asked of the cycle model).

Exceptions run only between native runs, and the board resets the detector before each run, so an
interrupt handler that changes memory (a tick counter) never invalidates a confirmed fixed point unseen.
Cost: one tuple comparison per MMIO read; the register and SRAM checks run only when a loop repeats.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from tinyperf.sim.board import SimBoard

log = logging.getLogger("tinyperf.sim.poll")

STATE_REGS = ([f"r{i}" for i in range(13)] + ["sp", "lr", "xpsr", "primask", "basepri", "faultmask",
                                                "control", "msp", "psp", "fpscr"] + [f"s{i}" for i in range(32)])
MIN_SKIP = 2        # iterations: below this, skipping is not worth the checks


class PollFastForward:
    """Watches MMIO reads (`observe`, called by the bus after each read) and skips fixed-point loops."""

    def __init__(self, board: SimBoard):
        self.board = board
        self.enabled = True
        self.skipped_iterations = 0
        self.skipped_cycles = 0
        self.skipped_instructions = 0   # not in counter.instructions unless the counter has repeat_loop
        self.counts_instructions = hasattr(board.counter, "repeat_loop")
        self._ram = [m.buffer for m in board.memory.regions if m.writable and m.region.kind == "sram"]
        self.reset()

    def reset(self) -> None:
        self._key: tuple | None = None      # (pc, address, value) of the last read
        self._serial = -1                   # bus access count at the last read
        self._streak = 0                    # consecutive identical reads
        self._regs: list[int] | None = None
        self._cycles = self._insns = 0
        self._ram_copy: list[np.ndarray] | None = None
        self._confirmed = False
        self._period = self._period_insns = 0

    def observe(self, pc: int, address: int, value: int, serial: int) -> None:
        """An MMIO read of `value` at `address` by the instruction at (or the block starting at) `pc`;
        `serial` counts every MMIO access (reads and writes) so far."""
        if not self.enabled:
            return
        key = (pc, address, value)
        counter = self.board.counter
        cycles, insns = counter.cycles, counter.instructions
        if key != self._key or serial != self._serial + 1:
            self._key, self._serial, self._streak = key, serial, 1
            self._regs, self._ram_copy, self._confirmed = None, None, False
            self._cycles, self._insns = cycles, insns
            return
        self._serial = serial
        self._streak += 1
        period, period_insns = cycles - self._cycles, insns - self._insns
        self._cycles, self._insns = cycles, insns
        if period <= 0:
            self.reset()
            return
        if not self._confirmed:
            regs = self.board.regs.get_many(STATE_REGS)
            if regs != self._regs:
                self._regs, self._ram_copy = regs, None
                return
            if self._ram_copy is None:                 # registers repeat: now check one iteration's stores
                self._ram_copy = [b.copy() for b in self._ram]
                return
            if not all(np.array_equal(a, b) for a, b in zip(self._ram, self._ram_copy)):
                self._ram_copy = [b.copy() for b in self._ram]
                return
            self._confirmed = True
            self._period, self._period_insns = period, period_insns
        elif period != self._period:                   # timing changed (cache state): re-measure
            self._confirmed, self._ram_copy, self._regs = False, None, None
            return
        self._skip(cycles)

    def _skip(self, now: int) -> None:
        board = self.board
        if board._stop_requested:
            return
        bound = board._deadline
        p = board.bus.find(self._key[1])
        if p is not None:                             # unmodelled addresses read a constant 0
            stable = p.read_stable_for(self._key[1] - p.spec.base)
            if stable is not None:
                if stable <= 0:
                    return
                bound = min(bound, now + stable)
        event = board._next_event_for_poll(now)
        if event is not None:
            bound = min(bound, event)
        k = (bound - 1 - now) // self._period            # iterations whose reads all happen before `bound`
        if k < MIN_SKIP:
            return
        cycles = k * self._period
        repeat = getattr(board.counter, "repeat_loop", None)
        if repeat is not None:
            repeat(k, self._period, self._period_insns)
        else:
            board.counter.add(cycles, "poll")
        self._cycles += cycles
        self._insns = board.counter.instructions
        self.skipped_iterations += k
        self.skipped_cycles += cycles
        if repeat is None:
            self.skipped_instructions += k * self._period_insns
