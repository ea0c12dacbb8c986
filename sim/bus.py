"""Peripheral space: Unicorn MMIO windows (uc.mmio_map) dispatching to the peripheral models.

Only peripheral address ranges are MMIO; memory stays plain host memory with no hooks (memory hooks
over SRAM made an IT block's state go stale in Unicorn, see issue 2). Two windows cover the STM32's
peripheral space and the Cortex-M private peripheral bus [ARMv7-M ARM B3.1, RM0432 2.2.2]:

    0x40000000-0x5FFFFFFF   APB1/APB2/AHB1/AHB2 peripherals
    0xE0000000-0xE00FFFFF   PPB: ITM, DWT, FPB, SCS, TPIU, DBGMCU

An access to an address of a window no model answers reads 0 and is logged once per address with the
PC; with `strict` it raises BusFault (a SimError: the run stops with a report). A peripheral outside
these windows gets a window of its own.
"""

from __future__ import annotations

import bisect
import logging
from collections.abc import Callable

from tinyperf.errors import BusFault
from tinyperf.sim.peripherals.base import Peripheral
from unicorn import Uc
from unicorn.arm_const import UC_ARM_REG_PC

log = logging.getLogger("tinyperf.sim.bus")

WINDOWS = ((0x40000000, 0x20000000), (0xE0000000, 0x00100000))
PAGE = 0x400


class Bus:
    """Routes MMIO accesses to peripherals by address. `trace` logs every access."""

    def __init__(self, uc: Uc, peripherals: list[Peripheral], strict: bool = False,
                 on_error: Callable[[BaseException], None] | None = None):
        self.uc = uc
        self.strict = strict
        self.trace = False
        self.on_error = on_error
        self.error: BaseException | None = None    # first exception raised by a model or --strict
        self.touched: set[Peripheral] = set()      # peripherals accessed since the run loop last looked
        self.wrote = False                         # a write that may affect every model (clock tree)
        self.accesses = 0                          # MMIO accesses so far (reads and writes)
        # set by the board: called with the address before each access (cycle model: exact PC), the PC
        # of the accessing instruction, and an observer of every completed read (address, value)
        self.before_access: Callable[[int], None] | None = None
        self.pc_of: Callable[[], int] = lambda: uc.reg_read(UC_ARM_REG_PC)
        self.on_read: Callable[[int, int], None] | None = None
        self.peripherals = sorted(peripherals, key=lambda p: p.spec.base)
        self._bases = [p.spec.base for p in self.peripherals]
        self._warned: set[int] = set()
        self.accesses = 0
        for p in self.peripherals:
            if not any(b <= p.spec.base and p.spec.base + p.spec.size <= b + s for b, s in WINDOWS):
                raise BusFault(f"peripheral {p.name} at 0x{p.spec.base:08x} is outside the peripheral windows")
        for base, size in WINDOWS:
            uc.mmio_map(base, size, self._read, base, self._write, base)

    def find(self, address: int) -> Peripheral | None:
        i = bisect.bisect_right(self._bases, address) - 1
        if i >= 0:
            p = self.peripherals[i]
            if address < p.spec.base + p.spec.size:
                return p
        return None

    # Unicorn MMIO callbacks: offset is relative to the window base (user data). An exception must not
    # escape into Unicorn (a read callback would return nothing): it is kept in `error` and the run loop
    # raises it after stopping (`on_error` asks for the stop).
    def _read(self, uc: Uc, offset: int, size: int, window: int) -> int:
        address = window + offset
        self.accesses += 1
        try:
            if self.before_access is not None:
                self.before_access(address)
            value = self._dispatch_read(address, size)
            if self.on_read is not None:
                self.on_read(address, value)
            return value
        except Exception as e:  # noqa: BLE001 - re-raised by the run loop
            self._fail(e)
            return 0

    def _write(self, uc: Uc, offset: int, size: int, value: int, window: int) -> None:
        self.accesses += 1
        try:
            if self.before_access is not None:
                self.before_access(window + offset)
            self._dispatch_write(window + offset, size, value)
        except Exception as e:  # noqa: BLE001 - re-raised by the run loop
            self._fail(e)

    def _fail(self, error: BaseException) -> None:
        if self.error is None:
            self.error = error
        if self.on_error is not None:
            self.on_error(error)

    def _dispatch_read(self, address: int, size: int) -> int:
        p = self.find(address)
        if p is None:
            return self._unmodelled(address, size, None)
        self.touched.add(p)
        value = p.read(address - p.spec.base, size)
        if self.trace:
            log.info("R %-8s 0x%08x (%d) = 0x%x", p.name, address, size, value)
        return value

    def _dispatch_write(self, address: int, size: int, value: int) -> None:
        p = self.find(address)
        if p is None:
            self._unmodelled(address, size, value)
            return
        if self.trace:
            log.info("W %-8s 0x%08x (%d) = 0x%x", p.name, address, size, value)
        self.touched.add(p)
        if hasattr(p, "clock_listeners"):           # RCC: a clock change moves every model's events
            self.wrote = True
        p.write(address - p.spec.base, size, value)

    def _unmodelled(self, address: int, size: int, value: int | None) -> int:
        pc = self.pc_of()
        kind = "read" if value is None else f"write of 0x{value:x}"
        if self.strict:
            raise BusFault(f"{kind} ({size} bytes) at 0x{address:08x}, where no peripheral is modelled, "
                           f"from PC=0x{pc:08x} (--strict); without --strict it reads as 0")
        if address not in self._warned:
            self._warned.add(address)
            log.warning("unmodelled %s (%d bytes) at 0x%08x from PC=0x%08x: reads as 0", kind, size,
                        address, pc)
        return 0
