"""Simulated time for peripheral models that count (timers, UARTs, PWR VOSF): a mixin that keeps a model
in step with the board's HCLK cycle count and converts HCLK cycles to ticks of the model's kernel clock.

Models are self-timed: every register access and every `advance()` first catch the model up to
`ctx.cycles` (`sync()`), so a firmware polling a flag sees it change at the right simulated time whether
or not the run loop stopped in between. `advance(cycles)` therefore only needs `ctx.cycles` to be current;
its argument is not used.

Clock changes: the RCC model calls `on_clock_change()` of every registered model *before* it applies a
change, so elapsed time is converted at the old frequencies; the new ones are read on next use.
Host time never enters: only `ctx.cycles` and `ctx.clock_hz()` do.
"""

from __future__ import annotations

import logging

log = logging.getLogger("tinyperf.sim.peripherals")


class Timed:
    """Mixin for a `Peripheral` whose state moves with simulated time. Subclasses implement
    `elapse(cycles)` (advance internal state by `cycles` HCLK cycles) and may override `kernel_clock`
    (the clock-tree name whose frequency they count; default: the peripheral's own name)."""

    def timed_reset(self) -> None:
        self._last_cycles: int | None = None
        self._clocks: tuple[int, int] | None = None   # (kernel Hz, HCLK Hz)
        self._rem = 0                                 # cycle->tick remainder, units of 1/HCLK ticks
        self._rcc_hooked = getattr(self, "_rcc_hooked", False)

    @property
    def kernel_clock(self) -> str:
        return self.name

    # -- time keeping ----------------------------------------------------------------------------------
    def sync(self) -> None:
        """Bring the model up to `ctx.cycles`."""
        now = self.ctx.cycles
        if self._last_cycles is None:
            self._last_cycles = now
            self._hook_rcc()
            return
        delta = now - self._last_cycles
        if delta > 0:
            self._last_cycles = now
            self.elapse(delta)

    def advance(self, cycles: int) -> None:  # noqa: ARG002 - see module docstring
        self.sync()

    # -- the bus interface: catch up with simulated time before every access ----------------------------
    def read(self, offset: int, size: int) -> int:
        self.sync()
        return super().read(offset, size)  # type: ignore[misc]

    def write(self, offset: int, size: int, value: int) -> None:
        self.sync()
        super().write(offset, size, value)  # type: ignore[misc]

    def elapse(self, cycles: int) -> None:
        raise NotImplementedError

    def on_clock_change(self) -> None:
        """Called by RCC just before a clock-tree change: account elapsed time at the old frequencies."""
        self.sync()
        self._clocks = None
        self._rem = 0

    def _hook_rcc(self) -> None:
        if self._rcc_hooked:
            return
        try:
            rcc = self.ctx.peripheral("RCC")
        except Exception:  # a board without an RCC model: clocks are fixed
            rcc = None
        listeners = getattr(rcc, "clock_listeners", None)
        if listeners is not None and self.on_clock_change not in listeners:
            listeners.append(self.on_clock_change)
        self._rcc_hooked = True

    # -- clock conversion ------------------------------------------------------------------------------
    def clocks(self) -> tuple[int, int]:
        """(kernel clock Hz, HCLK Hz), cached until the next clock change."""
        if self._clocks is not None:
            return self._clocks
        clocks = (int(self.ctx.clock_hz(self.kernel_clock)), int(self.ctx.clock_hz("HCLK")))
        if self._rcc_hooked:                # cache only while RCC tells us about changes
            self._clocks = clocks
        return clocks

    def ticks_in(self, cycles: int) -> int:
        """Kernel-clock ticks elapsed in `cycles` HCLK cycles (exact; the remainder carries over)."""
        fk, fh = self.clocks()
        if fk <= 0 or fh <= 0:
            return 0
        num = cycles * fk + self._rem
        ticks, self._rem = divmod(num, fh)
        return ticks

    def cycles_for(self, ticks: int) -> int | None:
        """HCLK cycles from now until `ticks` more kernel ticks have elapsed (rounded up), None if the
        kernel clock is stopped."""
        fk, fh = self.clocks()
        if fk <= 0 or fh <= 0:
            return None
        need = ticks * fh - self._rem
        return max(1, -(-need // fk))
