"""The simulated board: memory, peripherals, Cortex-M4F core, exceptions and simulated time in one run loop.

    board = SimBoard.from_image("fw.elf")            # boots from the vector table at 0 (flash alias)
    board.console.send(b"name%"); board.console.expect(b"m-ready", timeout_s=5.0)
    board.run(max_seconds=1.0)                        # simulated seconds

Lifecycle: 1. `SimBoard(platform, image)` maps memory, builds the peripherals named in the board
description (an unknown model name is a PlatformError), attaches the cycle counter and resets;
2. `run()`/`console.expect()` run slices of native execution; 3. `close()` releases host endpoints.

Run loop (one iteration): bring every peripheral up to the current cycle, take the highest-priority
pending exception that can preempt, then execute natively until the earliest of: the next peripheral or
SysTick event, the time limit, a fixed slice (for host-side checks); or until something stops the core
earlier: a branch to EXC_RETURN, a fault, WFI/WFE, an MMIO write that changes interrupt state
(`request_stop`), or (through the cycle counter's `irq_waiting`) an instruction that may unmask a
pending interrupt. WFI/WFE skip simulated time to the next event instead of spinning.
Time is the cycle count of `tinyperf.sim.timing.CycleCounter` only; host time can only abort a run.
"""

from __future__ import annotations

import importlib
import logging
import pkgutil
import time
from pathlib import Path

import tinyperf.sim.dwt
import tinyperf.sim.peripherals as _peripherals
import tinyperf.sim.scs  # noqa: F401 - registers "scs"
from tinyperf.errors import FirmwareFault, LoaderError, PlatformError, SimError, SimTimeout
from tinyperf.platforms import Board, load_board
from tinyperf.sim import cpu as _cpu
from tinyperf.sim.bus import Bus
from tinyperf.sim.console import ConsoleStream
from tinyperf.sim.exceptions import (
    BUSFAULT,
    CFSR,
    FAULTS,
    HARDFAULT,
    HFSR,
    IRQ0,
    SVCALL,
    USAGEFAULT,
    CoreState,
    ExceptionEngine,
    Lockup,
    exception_name,
)
from tinyperf.sim.fault_report import FaultReport, tail_lines
from tinyperf.sim.fpu_guard import FpuGuard
from tinyperf.sim.loader import Image, load_image
from tinyperf.sim.memory import Memory
from tinyperf.sim.peripherals.base import MODELS, Peripheral
from tinyperf.sim.poll import PollFastForward
from tinyperf.sim.timing import CycleCounter
from tinyperf.sim.uart_host import UartHost
from unicorn import UC_HOOK_INTR, UC_HOOK_MEM_INVALID, Uc, UcError
from unicorn import unicorn_const as U

log = logging.getLogger("tinyperf.sim")

SLICE_CYCLES = 4_000_000      # longest native run between host-side checks (host timeout, predicates)
SEMIHOSTING_BKPT = 0xAB       # BKPT 0xAB: Arm semihosting call, r0 = operation
SYS_EXIT, ADP_STOPPED_APPLICATION_EXIT = 0x18, 0x20026
DATA_FAULTS = {U.UC_ERR_READ_UNMAPPED, U.UC_ERR_WRITE_UNMAPPED, U.UC_ERR_READ_PROT, U.UC_ERR_WRITE_PROT}
FETCH_FAULTS = {U.UC_ERR_FETCH_UNMAPPED, U.UC_ERR_FETCH_PROT}
UNALIGNED_FAULTS = {U.UC_ERR_READ_UNALIGNED, U.UC_ERR_WRITE_UNALIGNED, U.UC_ERR_FETCH_UNALIGNED}


def _import_models() -> None:
    for info in pkgutil.iter_modules(_peripherals.__path__):
        importlib.import_module(f"{_peripherals.__name__}.{info.name}")


class SimBoard:
    """A simulated board running one firmware image. Implements the peripherals' BoardContext."""

    def __init__(self, platform: Board, image: Image | None = None, *, strict: bool = False,
                 trace: bool = False, timing=None, stop_on_fault: bool = True, fast_forward: bool = True):
        self.platform = platform
        self.image = image
        self.strict = strict
        self.stop_on_fault = stop_on_fault
        self.uc: Uc = _cpu.create_engine()
        self.memory = Memory(self.uc, platform)
        cpu = platform.cpu
        self.core_state = CoreState(num_irqs=int(cpu.get("num_irqs", 240)),
                                    prio_bits=int(cpu.get("nvic_priority_bits", 4)))
        self.regs = _cpu.UcRegs(self.uc)
        self.engine = ExceptionEngine(self.core_state, self.regs, charge=self._charge)
        self.counter = CycleCounter(self.uc, platform, model=timing)
        self._counter_pc_now = getattr(self.counter, "_pc_now", None)
        self._running = False
        self._stop_requested = False
        self._reset_requested = False
        self._sleeping: str | None = None      # "wfi" / "wfe" while the core sleeps
        self._event_latch = False              # WFE event register
        self._wfe_resume_pc: int | None = None
        self._intr: list[tuple[int, int]] = []
        self._mem_fault: tuple[int, int] | None = None
        self._nocp_at: int | None = None
        self._exit_code: int | None = None
        self._sec_base, self._cyc_base, self._hclk_cache = 0.0, 0, None
        _import_models()
        self.peripherals: dict[str, Peripheral] = {}
        for spec in platform.peripherals:
            cls = MODELS.get(spec.model)
            if cls is None:
                raise PlatformError(f"{platform.source}: peripheral {spec.name} uses model {spec.model!r}, which "
                                    f"the simulator does not have; known models: {', '.join(sorted(MODELS))}")
            self.peripherals[spec.name] = cls(spec, self)
        self._peripheral_list = list(self.peripherals.values())
        # models that can schedule events (override next_event); their next event, cached (absolute cycle)
        self._timed_list = [p for p in self._peripheral_list
                            if type(p).next_event is not Peripheral.next_event]
        self._event_cache: dict[Peripheral, int | None] = {}
        self.bus = Bus(self.uc, self._peripheral_list, strict=strict, on_error=lambda e: self.request_stop())
        self._deadline = 0
        if hasattr(self.counter, "mmio_access"):          # exact cycles and PC inside MMIO callbacks
            self.bus.before_access = self.counter.mmio_access
            self.bus.pc_of = self._pc_now
        if hasattr(self.counter, "set_time_source"):       # snapshots get "seconds"; static power
            self.counter.set_time_source(lambda: self.seconds)
        self.poll = PollFastForward(self)
        self.poll.enabled = fast_forward
        self.bus.on_read = self._observe_read
        self.set_trace(trace)
        rcc = self.peripherals.get("RCC")
        if rcc is not None and hasattr(rcc, "clock_listeners"):
            rcc.clock_listeners.append(self._on_clock_change)
        self.uc.hook_add(UC_HOOK_INTR, self._on_intr)
        self.uc.hook_add(UC_HOOK_MEM_INVALID, self._on_mem_invalid)
        self.uart_hosts: dict[str, UartHost] = {}
        console_uart = platform.console.get("uart")
        self.console = ConsoleStream(self, self.uart_host(console_uart)) if console_uart in self.peripherals else None
        self._fp_enabled = False
        self.fpu_guard = FpuGuard(self.uc, self._code_ranges(), self._on_nocp)
        if image is not None:
            self.load(image)
        self.reset()

    @classmethod
    def from_image(cls, path: str | Path, board: str | Board = "nucleo_l4r5zi", **kwargs) -> SimBoard:
        """Load an .elf/.hex/.bin image onto a board (by name or Board) and reset it."""
        platform = board if isinstance(board, Board) else load_board(board)
        return cls(platform, load_image(path, platform), **kwargs)

    # -- image, reset ----------------------------------------------------------------------------------
    def load(self, image: Image) -> None:
        for seg in image.segments:
            self.memory.load(seg.address, seg.data)
        self.image = image
        self.counter.rescan()
        self.fpu_guard = FpuGuard(self.uc, self._code_ranges(), self._on_nocp)

    def _code_ranges(self) -> list[tuple[int, bytes]]:
        if self.image is None:
            return []
        out = []
        for seg in self.image.segments:
            out.append((seg.address, seg.data))
            for r in self.platform.memory:     # code also runs through aliases (flash at 0x0)
                if r.kind == "alias":
                    t = self.platform.region(r.target or "")
                    if t.contains(seg.address):
                        out.append((r.base + seg.address - t.base, seg.data))
        return out

    def reset(self) -> None:
        """System reset: core registers from the vector table at 0, NVIC/SCB and peripherals at reset
        values. Memory contents and the cycle count are kept (SRAM survives a system reset)."""
        self.core_state.reset()
        for p in self.peripherals.values():
            p.reset()
        r = self.regs
        for i in range(13):
            r.set(f"r{i}", 0)
        r.set_mode(0, 0)
        for name in ("primask", "basepri", "faultmask", "psp", "fpscr"):
            r.set(name, 0)
        try:
            sp, pc = r.read32(0), r.read32(4)
        except MemoryError:
            raise LoaderError("no memory at address 0: the board has no boot alias") from None
        if self.memory.find(pc & ~1) is None or pc in (0, 0xFFFFFFFF):
            raise LoaderError(f"reset vector 0x{pc:08x} (word at 0x00000004) does not point to code: is a "
                              f"firmware image with its vector table at the start of flash loaded?")
        r.set("msp", sp & ~3)
        r.set("lr", 0xFFFFFFFF)
        r.set("xpsr", 0x01000000 if pc & 1 else 0)
        r.set("pc", pc & ~1)
        self._sleeping, self._event_latch, self._wfe_resume_pc = None, False, None
        self._fp_enabled = False
        self.fpu_guard.arm()
        if hasattr(self, "poll"):
            self.poll.reset()

    # -- BoardContext ----------------------------------------------------------------------------------
    @property
    def cycles(self) -> int:
        """HCLK cycles since power-on."""
        return self.counter.cycles

    @property
    def seconds(self) -> float:
        """Simulated seconds since power-on: cycles integrated over the HCLK frequency in force."""
        return self._sec_base + (self.cycles - self._cyc_base) / self._hclk()

    def _hclk(self) -> int:
        if self._hclk_cache is None:
            self._hclk_cache = max(1, int(self.clock_hz("HCLK")))
        return self._hclk_cache

    def _on_clock_change(self) -> None:
        now = self.cycles
        self._sec_base += (now - self._cyc_base) / self._hclk()
        self._cyc_base, self._hclk_cache = now, None

    def clock_hz(self, name: str) -> int:
        rcc = self.peripherals.get("RCC")
        if rcc is not None and hasattr(rcc, "clock_hz"):
            return int(rcc.clock_hz(name))
        return int(self.platform.clocks.get("msi", {}).get("reset_hz", 4_000_000))

    def set_irq(self, irq: int, level: bool = True) -> None:
        self.engine.set_irq(irq, level)
        if level:
            self.request_stop()

    def request_stop(self) -> None:
        """Stop at the next block boundary. (uc.emu_stop inside an MMIO callback would stop with PC at the
        accessing instruction, which then runs, and accesses the peripheral, a second time.)"""
        self._stop_requested = True
        if self._running:
            self._deadline = 0
            stop = getattr(self.counter, "request_stop", None)
            stop() if stop else self.counter.set_deadline(0)

    def peripheral(self, name: str) -> Peripheral:
        try:
            return self.peripherals[name]
        except KeyError:
            raise PlatformError(f"{self.platform.name} has no peripheral {name!r}") from None

    def current_exception(self) -> int:
        return self.engine.ipsr()

    def system_reset_request(self) -> None:
        self._reset_requested = True
        self.request_stop()

    def fp_access_changed(self, enabled: bool) -> None:
        """CPACR changed. The FP guard's hooks change only once the CPU stopped: deleting hooks and
        flushing translated code from inside an MMIO callback derails Unicorn (the block that was running
        re-executes from its start forever)."""
        self._fp_enabled = enabled
        self.request_stop()

    def flash_config_changed(self, latency: int, prften: bool, icen: bool, dcen: bool) -> None:
        self.counter.flash_config_changed(latency, prften, icen, dcen)

    # -- convenience -----------------------------------------------------------------------------------
    def uart(self, name: str) -> Peripheral:
        return self.peripheral(name)

    def uart_host(self, name: str) -> UartHost:
        """The host endpoints (stream, pty, TCP) of UART `name`, created on first use."""
        if name not in self.uart_hosts:
            self.uart_hosts[name] = UartHost(self.peripheral(name))
        return self.uart_hosts[name]

    def set_trace(self, on: bool) -> None:
        """Log every peripheral access and exception entry/return (logger tinyperf.sim.*, INFO)."""
        self.trace = on
        for p in self.peripherals.values():     # each model logs its accesses with register names
            p.trace = on

    def symbol(self, address: int) -> str | None:
        return self.image.symbols.lookup(address & ~1) if self.image else None

    def close(self) -> None:
        """Close the host endpoints (pty, TCP). The board must not run afterwards."""
        for host in self.uart_hosts.values():
            host.close()

    # -- engine callbacks ------------------------------------------------------------------------------
    def _pc_now(self) -> int:
        """Address of the running instruction inside an MMIO callback (after counter.mmio_access)."""
        exact = self._counter_pc_now
        return exact() if exact else self.regs.get("pc")

    def _observe_read(self, address: int, value: int) -> None:
        if self.poll.enabled:
            self.poll.observe(self._pc_now(), address, value, self.bus.accesses)

    def _next_event_for_poll(self, now: int) -> int | None:
        """Earliest next peripheral event (absolute cycle), computed afresh, without advancing anything."""
        best = None
        for p in self._timed_list:
            d = p.next_event()
            if d is not None:
                at = now + max(0, int(d))
                best = at if best is None or at < best else best
        return best

    def _charge(self, cycles: int, kind: str) -> None:
        self.counter.add(cycles, kind)
        self._event_latch = True

    def _on_intr(self, uc: Uc, intno: int, _user) -> None:
        self._intr.append((intno, self.regs.get("pc")))     # C API: the binding's reg_read is slow
        uc.emu_stop()

    def _on_mem_invalid(self, uc: Uc, access: int, address: int, size: int, value: int, _user) -> bool:
        self._mem_fault = (access, address)
        return False

    def _on_nocp(self, address: int) -> bool:
        if self._fp_enabled:          # CPACR was just enabled; the hooks go at the next stop
            return False
        self._nocp_at = address
        return True

    # -- the run loop ----------------------------------------------------------------------------------
    def run(self, max_seconds: float | None = None, *, max_cycles: int | None = None, stop_when=None,
            host_timeout_s: float | None = None, limit_is_error: bool = True) -> str:
        """Run until `stop_when()` is true ("condition"), the firmware exits through semihosting
        SYS_EXIT ("exit"), or a limit: `max_seconds` simulated seconds / `max_cycles` HCLK cycles from
        now (SimTimeout with a report if `limit_is_error`, else "limit"). A fault raises FirmwareFault
        with the report; `host_timeout_s` (wall-clock seconds) aborts a run that takes too long on the
        host with SimTimeout."""
        start_s, start_c = self.seconds, self.cycles
        wall_end = time.monotonic() + host_timeout_s if host_timeout_s else None
        while True:
            self._service()
            if self._exit_code is not None:
                return "exit"
            if stop_when is not None and stop_when():
                return "condition"
            now = self.cycles
            limit = None
            if max_cycles is not None:
                limit = start_c + max_cycles
            if max_seconds is not None:
                left_s = start_s + max_seconds - self.seconds
                by_time = now + max(0, round(left_s * self._hclk()))
                limit = by_time if limit is None else min(limit, by_time)
            if limit is not None and now >= limit:
                if not limit_is_error:
                    return "limit"
                what = f"{max_seconds} simulated seconds" if max_seconds is not None else f"{max_cycles} cycles"
                raise SimTimeout(self.report(f"firmware still running after {what}"
                                             + (" (asleep, nothing left to wake it)" if self._sleeping else "")))
            if wall_end is not None and time.monotonic() > wall_end:
                raise SimTimeout(self.report(f"host-time limit of {host_timeout_s} s exceeded"))
            event = self._event
            deadline = now + SLICE_CYCLES
            if event is not None and event < deadline:
                deadline = event
            if limit is not None and limit < deadline:
                deadline = limit
            if self._sleeping:
                self._sleep_until(now, event, limit, deadline)
            else:
                self._execute(deadline)

    def _next_event(self, now: int) -> int | None:
        """Advance the peripherals whose event is due; the absolute cycle of the earliest next event.
        Models catch up with time on every register access, so only models with an event are called.
        Each model's next event is cached as an absolute cycle until the bus accesses it (a write to the
        RCC, which may change clocks, invalidates all), host bytes arrive, or it is advanced."""
        cache = self._event_cache
        dirty = self.bus.touched
        if self.bus.wrote:
            cache.clear()
            self.bus.wrote = False
        elif dirty:
            for p in dirty:
                cache.pop(p, None)
        dirty.clear()
        best = None
        for p in self._timed_list:
            at = cache.get(p, -1)
            if at == -1 or (at is not None and at <= now):
                d = p.next_event()
                if d is not None and d <= 0:
                    p.advance(0)
                    d = p.next_event()
                at = None if d is None else now + max(0, int(d))
                cache[p] = at
            if at is not None and (best is None or at < best):
                best = at
        return best

    def invalidate_events(self) -> None:
        """Forget cached peripheral event times (call after changing a model from outside the bus)."""
        self._event_cache.clear()

    def _service(self) -> None:
        """Catch the peripherals up, move host bytes in, handle reset requests, wake and take exceptions."""
        if self._reset_requested:
            self._reset_requested = False
            log.info("SYSRESETREQ: system reset at cycle %d", self.cycles)
            self.reset()
        if self._fp_enabled == self.fpu_guard.armed:
            (self.fpu_guard.disarm if self._fp_enabled else self.fpu_guard.arm)()
        for host in self.uart_hosts.values():
            if host.poll():
                self._event_cache.clear()
        self._event = self._next_event(self.cycles)
        if self._sleeping and self._should_wake():
            self._sleeping = None
        if not self._sleeping:
            exc = self.engine.take_pending()
            if exc is not None:
                self._after_entry(exc)

    def _should_wake(self) -> bool:
        st = self.core_state
        exc = st.highest_pending()
        if self._sleeping == "wfe" and self._event_latch:
            self._event_latch = False
            return True
        if exc is None:
            return False
        r = self.regs     # WFI wakes on an interrupt that would preempt if PRIMASK were 0 [B1.5.19]
        return st.group(st.prio[exc]) < st.execution_priority(0, r.get("basepri"), r.get("faultmask"))

    def _sleep_until(self, now: int, event: int | None, limit: int | None, deadline: int) -> None:
        """The core sleeps: move simulated time to `deadline` (the next event or limit) at once. With no
        event left and a pty/TCP endpoint open, wait in host time (50 ms steps) for host input: simulated
        time stands still meanwhile, so host bytes arrive at a cycle fixed by the firmware's state, not
        by the host's timing (a firmware with a periodic tick keeps running ahead instead)."""
        if event is None and any(h.endpoints for h in self.uart_hosts.values()):
            for host in self.uart_hosts.values():
                if host.endpoints and host.wait(0.05):
                    break
            return
        target = deadline if event is not None or limit is not None else None
        if target is None:
            raise SimTimeout(self.report(f"firmware sleeps ({self._sleeping.upper()}) with no interrupt or event "
                                         f"that could wake it"))
        if target > now:
            self.counter.add(target - now, "sleep")

    def _after_entry(self, exc: int) -> None:
        if self.trace:
            log.info("enter %s at cycle %d", exception_name(exc), self.cycles)

    def _execute(self, deadline: int) -> None:
        counter = self.counter
        self._deadline = max(deadline, counter.cycles + 1)
        counter.set_deadline(self._deadline)    # the hook stops before a block starting at >= deadline
        pending = self.core_state.highest_pending() is not None
        counter.irq_waiting = pending
        self._intr.clear()
        self._mem_fault = self._nocp_at = None
        self.poll.reset()        # a fixed point holds within one native run (no exception in between)
        self._stop_requested = False
        pc = self.regs.get("pc")
        before = counter.instructions
        error: UcError | None = None
        self._running = True
        try:
            counter.emu_start(pc | 1, 0xFFFFFFFF)
        except UcError as e:
            error = e
        except SimError as e:
            raise type(e)(self.report(str(e))) from None
        finally:
            self._running = False
        if self.bus.error is not None:
            bus_error, self.bus.error = self.bus.error, None
            if isinstance(bus_error, SimError):
                raise type(bus_error)(self.report(str(bus_error))) from None
            raise SimError(self.report(f"a peripheral model failed: {bus_error!r}")) from bus_error
        if error is not None:
            self._uc_error(error, before)
        elif self._nocp_at is not None:
            self._fault(USAGEFAULT, CFSR["NOCP"], self._nocp_at, note="FP instruction with CPACR CP10/CP11 off")
        elif self._intr:
            self._interrupt(*self._intr[0])
        else:
            reason = counter.stop_reason    # "wfi": the counter stopped after a block ending in WFI
            if reason == "wfi" or (reason is None and counter.instructions != before and
                                   _cpu.preceding_hint(self.uc, self.regs.get("pc")) == "wfi"):
                self._sleeping = "wfi"

    def _interrupt(self, intno: int, pc: int) -> None:
        if intno == _cpu.EXCP_EXCEPTION_EXIT:
            before_ipsr = self.engine.ipsr()
            try:
                self.engine.exception_return(pc | 1)
            except Lockup as e:
                raise FirmwareFault(self.report(f"lockup: {e}")) from None
            if self.trace:
                log.info("return from %s at cycle %d", exception_name(before_ipsr), self.cycles)
            if self.engine.ipsr() == 0 and self.peripherals["SCS"].store[0xD10] & 2:   # SCR.SLEEPONEXIT
                self._sleeping = "wfi"
        elif intno == _cpu.EXCP_SWI:
            st = self.core_state
            if st.group(st.prio[SVCALL]) < self.engine.execution_priority():
                self.engine.enter(SVCALL, pc)
            else:
                self._fault(HARDFAULT, 0, pc, hfsr=HFSR["FORCED"], note="SVC at or above its priority")
        elif intno == _cpu.EXCP_BKPT:
            imm = self.uc.mem_read(pc, 2)[0]
            if imm == SEMIHOSTING_BKPT and self.regs.get("r0") == SYS_EXIT:
                code = self.regs.get("r1")
                self._exit_code = 0 if code == ADP_STOPPED_APPLICATION_EXIT else code
                self.regs.set("pc", pc + 2)
                return
            self._fault(HARDFAULT, 0, pc, hfsr=HFSR["DEBUGEVT"], note=f"BKPT #{imm} with no debugger")
        elif intno == _cpu.EXCP_UNALIGNED:
            self._fault(USAGEFAULT, CFSR["UNALIGNED"], pc, note="unaligned LDRD/LDM/STRD/STM or trapped access")
        elif intno == _cpu.EXCP_DIVBYZERO:
            self._fault(USAGEFAULT, CFSR["DIVBYZERO"], pc, note="division by zero")
        elif intno == _cpu.EXCP_INVSTATE:
            self._fault(USAGEFAULT, CFSR["INVSTATE"], pc, note="EPSR.T = 0")
        elif intno == _cpu.EXCP_NOCP:
            self._fault(USAGEFAULT, CFSR["NOCP"], pc, note="coprocessor access")
        else:
            self._fault(USAGEFAULT, CFSR["UNDEFINSTR"], pc, note=f"CPU exception {intno}")

    def _uc_error(self, error: UcError, before: int) -> None:
        pc = self.regs.get("pc")
        code = error.errno
        if code in DATA_FAULTS:
            address = self._mem_fault[1] if self._mem_fault else None
            self._fault(BUSFAULT, CFSR["PRECISERR"], pc, address=address,
                        note=f"data access to 0x{address or 0:08x}: {error}")
        elif code in UNALIGNED_FAULTS:
            self._fault(USAGEFAULT, CFSR["UNALIGNED"], pc, note=f"unaligned access: {error}")
        elif code in FETCH_FAULTS:
            self._fault(BUSFAULT, CFSR["IBUSERR"], pc, note=f"instruction fetch at 0x{pc:08x}: {error}")
        elif code in (U.UC_ERR_INSN_INVALID, U.UC_ERR_EXCEPTION):
            if not self.regs.get("xpsr") & (1 << 24):
                self._fault(USAGEFAULT, CFSR["INVSTATE"], pc, note="EPSR.T = 0 (branch to an even address?)")
            elif _cpu.preceding_hint(self.uc, pc) == "wfe" and self._wfe_resume_pc != pc:
                self._wfe_resume_pc = pc
                if self._event_latch:
                    self._event_latch = False
                else:
                    self._sleeping = "wfe"
            else:
                self._fault(USAGEFAULT, CFSR["UNDEFINSTR"], pc, note=f"undefined instruction at 0x{pc:08x}")
        else:
            raise FirmwareFault(self.report(f"emulation stopped: {error}"))
        if code not in (U.UC_ERR_INSN_INVALID,):
            self._wfe_resume_pc = None

    def _fault(self, exc: int, cfsr_bits: int, pc: int, *, address: int | None = None, hfsr: int = 0,
               note: str = "") -> None:
        regs = self.regs.snapshot()
        regs["pc"] = pc & ~1
        try:
            taken = self.engine.fault(exc, cfsr_bits, return_address=pc, address=address, hfsr_bits=hfsr,
                                      note=note)
        except Lockup as e:
            raise FirmwareFault(self.report(f"lockup: {e}", regs)) from None
        log.info("%s (%s) at PC=0x%08x", exception_name(taken), note, pc)
        if self.stop_on_fault and taken in FAULTS:
            raise FirmwareFault(self.report(f"{exception_name(taken)}: {note}" if note else exception_name(taken),
                                            regs))

    # -- reports ---------------------------------------------------------------------------------------
    def report(self, reason: str, registers: dict[str, int] | None = None) -> str:
        """The fault report (tinyperf.sim.fault_report) for the current state, as text."""
        return self.fault_report(reason, registers).format()

    def fault_report(self, reason: str, registers: dict[str, int] | None = None) -> FaultReport:
        regs = registers or self.regs.snapshot()
        st = self.core_state
        tail_lines_all: list[str] = []
        for name, host in self.uart_hosts.items():       # every UART that printed (console first)
            recent = bytes(host.recent)
            if recent:
                prefix = "" if len(self.uart_hosts) == 1 else f"[{name}] "
                tail_lines_all += [prefix + ln for ln in tail_lines(recent)]
        return FaultReport(reason=reason, registers=regs, cfsr=st.cfsr, hfsr=st.hfsr, mmfar=st.mmfar,
                           bfar=st.bfar, symbol=self.symbol(regs.get("pc", 0)),
                           lr_symbol=self.symbol(regs.get("lr", 0)) if regs.get("lr", 0) < 0xF0000000 else None,
                           cycles=self.cycles, seconds=self.seconds, history=list(self.engine.history),
                           uart_tail=tail_lines_all)


__all__ = ["IRQ0", "SimBoard"]
