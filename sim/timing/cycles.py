"""CycleCounter: the Cortex-M4 cycle model attached to a Unicorn engine, accounted in native code.

Lifecycle (the run loop's view):
 1. `counter = CycleCounter(uc, board)` after the engine is created (memory may be loaded later;
    call `counter.rescan()` after loading code so divide instructions get their operand hooks).
 2. Per slice: `counter.set_deadline(cycle)`, then `counter.emu_start(begin, until)` (uc.emu_start plus
    bookkeeping, see its docstring for the manual form). Emulation stops at the first block boundary
    where `cycles >= deadline`, after a block that can unmask interrupts while `irq_waiting` is set,
    after a WFI/WFE block, or at `request_stop()` (`stop_reason` says which).
 3. Read `counter.cycles` (HCLK cycles, exact: the instructions that executed) and `instructions`;
    account exception entry/return or skipped sleep with `counter.add(cycles, kind)`.
 4. In MMIO callbacks: `counter.mmio_access(address)` first, then `cycles`/`energy_uJ` are exact to the
    accessing instruction.
No Python runs per block: the UC_HOOK_BLOCK callback is C (native/tp_counter.c); Python is called once
per newly seen block to decode it with capstone (classify.py, addresses.py). Native UC_HOOK_CODE hooks
sit only on divide instructions and on the few loads whose flash address must be read at run time.
"""

from __future__ import annotations

import ctypes
import logging
from typing import Any

import numpy as np
import unicorn
from tinyperf.errors import SimError
from tinyperf.sim.timing.classify import BlockDecoder, Flags
from tinyperf.sim.timing.energy import FJ_PER_UJ, EnergyModel, load_energy_model
from tinyperf.sim.timing.model import MemoryConfig, TimingModel, load_timing_model
from tinyperf.sim.timing.native_build import load_native
from unicorn import arm_const
from unicorn.unicorn_py3.unicorn import uclib

log = logging.getLogger("tinyperf.sim.timing")

MISS_CFUNC = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.c_uint64, ctypes.c_uint32)

STOP_REASONS = {0: None, 1: "deadline", 2: "irq_window", 3: "wfi", 4: "error", 5: "request",
                6: "retranslate"}
# uc_reg_read without argtypes (handle, int, byref): skips ctypes' per-argument conversions
_REG_READ = type(uclib.uc_reg_read)(("uc_reg_read", uclib))
_REG_READ.restype = ctypes.c_int
_G = {name: i for i, name in enumerate(
    ("cycles", "instructions", "stop_reason", "fetch_stall", "data_stall", "branch_cycles",
     "div_cycles", "bus_stall", "ic_hits", "ic_misses", "dc_hits", "dc_misses", "flash_reads",
     "taken_branches", "extra_cycles", "nblocks", "last_flags", "error", "partial_cycles",
     "partial_insns", "deadline", "pending", "energy_fj", "flash_fetch_reads", "flash_data_reads",
     "hooked_loads", "nldescs", "serial", "pending_size"))}

# Exception timing the run loop accounts with add() [FACTS.md: TRM / Arm KA16366]: cycles.
EXCEPTION_CYCLES = {"entry": 12, "return": 10, "tail_chain": 6, "fp_context_extra": 17}


def _fn_ptr(fn: Any) -> int:
    return ctypes.cast(fn, ctypes.c_void_p).value


class CycleCounter:
    """HCLK cycle and instruction counts of the code Unicorn executes, per the Cortex-M4 TRM timings and
    the STM32L4R5 flash/ART model (`model`: a TimingModel, or "unit" for 1 cycle per instruction)."""

    def __init__(self, uc: unicorn.Uc, board: Any = None, model: TimingModel | str | None = None,
                 energy: EnergyModel | str | None = None, exact_data: bool = False):
        self.uc = uc
        self.board = board
        self.model = load_timing_model(model, board)
        if not isinstance(energy, EnergyModel):
            raw = getattr(board, "raw", None)
            supply = energy or (raw.get("supply", "ldo") if isinstance(raw, dict) else "ldo")
            energy = load_energy_model(str(supply))
        self.energy = energy
        self._time_source = None
        self._lib = load_native()
        # Flash data reads (ART data cache): from block-entry registers (fast), or exact_data=True: a
        # UC_HOOK_MEM_READ over the flash ranges (exact per access, but unicorn then takes its slow
        # path for every load of the program: ~3x slower).
        self.exact_data = exact_data
        self._decoder = BlockDecoder(uc, self.model, track_data=not exact_data)
        self._error: BaseException | None = None
        self._miss_cb = MISS_CFUNC(self._on_miss)       # keep a reference: C holds the pointer
        self._st = ctypes.c_void_p(self._lib.tp_new(
            uc._uch.value, _fn_ptr(uclib.uc_emu_stop), _fn_ptr(uclib.uc_reg_read),
            _fn_ptr(uclib.uc_mem_read), _fn_ptr(self._miss_cb), arm_const.UC_ARM_REG_PC))
        self._extra: dict[str, int] = {}
        self._hooks: list[int] = []
        self._div_addrs: set[int] = set()
        self._load_addrs: set[int] = set()
        self._retranslate: list[tuple[int, int]] = []
        self._in_emu = False
        self._irq_waiting = False
        self._hint = (-1, 0, -1)       # (block serial, instruction address, index) from mmio_access
        # register reads through the C API with a preallocated buffer (the binding's reg_read: ~10 µs)
        self._uch = uc._uch
        self._rv = ctypes.c_uint32()
        self._rref = ctypes.byref(self._rv)
        self._tp_get = self._lib.tp_get
        self._g_serial, self._g_pending, self._g_pending_size = _G["serial"], _G["pending"], _G["pending_size"]
        self._g_cycles, self._g_instructions = _G["cycles"], _G["instructions"]
        self._tp_cycles_at = self._lib.tp_cycles_at
        # `cycles` outside emulation, cached: between emulations only tp_sync and tp_add change the count
        # (None: read it again; `_cache_ok` False between a manual begin() and sync())
        self._cycles_now: int | None = None
        self._cache_ok = True
        self._hook_add(unicorn.UC_HOOK_BLOCK, self._lib.tp_block_hook, 1, 0)
        fr = list(self.model.flash_ranges) + [(0, 0), (0, 0)]
        self._lib.tp_set_flash(self._st, fr[0][0], fr[0][1] - fr[0][0], fr[1][0], fr[1][1] - fr[1][0])
        for i, (lo, hi) in enumerate(self.model.ram_ranges[:4]):
            self._lib.tp_set_ram(self._st, i, lo, hi - lo)
        if exact_data:
            for lo, hi in self.model.flash_ranges:
                self._hook_add(unicorn.UC_HOOK_MEM_READ, self._lib.tp_mem_hook, lo, hi - 1)
        self.memory = self.model.memory_reset
        self._apply_memory()
        e = self.energy
        self._lib.tp_set_energy(self._st, round(e.stall_fj), round(e.flash_read_fj), round(e.refill_fj),
                                round(e.div_fj), round(e.bus_fj))
        self.rescan()

    # ------------------------------------------------------------------ engine plumbing
    def _hook_add(self, htype: int, fn: Any, begin: int, end: int) -> None:
        handle = ctypes.c_size_t()
        err = uclib.uc_hook_add(self.uc._uch, ctypes.byref(handle), htype, _fn_ptr(fn), self._st,
                                ctypes.c_uint64(begin), ctypes.c_uint64(end))
        if err != 0:
            raise SimError(f"uc_hook_add(type {htype}, {begin:#x}..{end:#x}) failed: "
                           f"{uclib.uc_strerror(err).decode()}")
        self._hooks.append(handle.value)

    def _on_miss(self, address: int, size: int) -> int:
        try:
            blk = self._decoder.decode(address, size)
            n = len(blk.offsets)
            off = (ctypes.c_uint16 * max(n, 1))(*blk.offsets)
            cost = (ctypes.c_uint32 * max(n, 1))(*blk.costs)
            lines = (ctypes.c_uint32 * max(len(blk.line_cycles), 1))(*blk.line_cycles)
            roots, exprs, accs = blk.data_roots, blk.data_exprs, blk.data_loads
            packed = [(ctypes.c_int64 * max(len(x) * w, 1))(*[v for row in x for v in row])
                      for x, w in ((roots, 3), (exprs, 8), (accs, 2))]
            self._lib.tp_define_block(self._st, address, size, n, off, cost, int(blk.flags),
                                      blk.taken_penalty, blk.mem_accesses, len(blk.line_cycles), lines,
                                      self.energy.block_fj(blk.classes, blk.costs), len(roots), packed[0],
                                      len(exprs), packed[1], len(accs), packed[2])
            fresh = False
            for d in blk.divides:
                fresh |= self._add_div(*d)
            for d in blk.hooked_loads:
                if d[0] not in self._load_addrs:
                    self._load_addrs.add(d[0])
                    self._lib.tp_add_load(self._st, *d)
                    self._hook_add(unicorn.UC_HOOK_CODE, self._lib.tp_load_hook, d[0], d[0])
                    fresh = True
            if fresh:       # the block is already translated without the new hooks: retranslate it
                self._retranslate.append((address, address + max(size, 2)))
                return 1
            return 0
        except BaseException as exc:   # noqa: BLE001 - reported after emu_start returns
            self._error = exc
            return -1

    def _add_div(self, addr: int, rn: int, rm: int, signed: bool) -> bool:
        if addr in self._div_addrs:
            return False
        self._div_addrs.add(addr)
        self._lib.tp_add_div(self._st, addr, rn, rm, int(signed))
        self._hook_add(unicorn.UC_HOOK_CODE, self._lib.tp_div_hook, addr, addr)
        return True

    def track_pc_in(self, begin: int, end: int) -> None:
        """Opt-in exact mode: make PC exact inside MMIO callbacks for accesses to [begin, end) by adding a
        native no-op UC_HOOK_MEM_READ|WRITE there (unicorn syncs PC before memory hooks; without one, a
        pure mmio_map callback reads the block start, so `cycles` there is the block-start count).
        Costs ~2x simulation speed: ANY memory hook puts every load/store on unicorn's slow path."""
        self._hook_add(unicorn.UC_HOOK_MEM_READ | unicorn.UC_HOOK_MEM_WRITE, self._lib.tp_mem_nop_hook,
                       begin, end - 1)

    def rescan(self) -> int:
        """Find divide instructions in the mapped flash and hook them (operand-dependent cycles). Call it
        after loading code; a divide found only when its block first runs is hooked from then on, its
        first executions cost the minimum (logged). Returns the number of divides hooked."""
        found = 0
        for lo, hi in self.model.flash_ranges[:1]:
            try:
                data = bytes(self.uc.mem_read(lo, hi - lo))
            except unicorn.UcError:
                continue
            for addr, rn, rm, signed in self._decoder.scan_divides(lo, data):
                self._add_div(addr, rn, rm, signed)
                found += 1
        return found

    # ------------------------------------------------------------------ run loop API
    def set_deadline(self, cycle: int) -> None:
        """Stop emulation at the first block boundary where cycles >= cycle (absolute HCLK cycles)."""
        self._lib.tp_set_deadline(self._st, max(0, min(int(cycle), 2**64 - 1)))

    @property
    def irq_waiting(self) -> bool:
        return self._irq_waiting

    @irq_waiting.setter
    def irq_waiting(self, on: bool) -> None:
        """When set, stop at the block boundary after a block that can unmask interrupts (CPSIE/CPSID,
        MSR PRIMASK/BASEPRI/BASEPRI_MAX/FAULTMASK/CONTROL): stop_reason "irq_window"."""
        on = bool(on)
        if on != self._irq_waiting:           # only this setter changes the native flag
            self._irq_waiting = on
            self._lib.tp_set_irq_waiting(self._st, int(on))

    def request_stop(self) -> None:
        """Stop at the next block boundary (stop_reason "request"). Use this from MMIO/peripheral
        callbacks: uc.emu_stop() there aborts the current instruction (unicorn rewinds PC to it and an
        MMIO read is executed again on restart)."""
        self._lib.tp_request_stop(self._st)

    def set_stop_on_wfi(self, on: bool) -> None:
        """Stop after blocks containing WFI/WFE (stop_reason "wfi"); on by default."""
        self._lib.tp_set_stop_on_wfi(self._st, int(on))

    def emu_start(self, begin: int, until: int = 0, timeout: int = 0, count: int = 0) -> None:
        """uc.emu_start plus bookkeeping: after it returns (or raises UcError for a fault) `cycles`
        and `instructions` count exactly the executed instructions and PC is the next one to run."""
        self._error = None
        while True:
            self._lib.tp_begin(self._st)
            faulted = False
            self._cycles_now = None
            self._in_emu = True
            try:
                self.uc.emu_start(begin, until, timeout, count)
            except unicorn.UcError:
                faulted = True
                raise
            finally:
                self._in_emu = False
                self.sync(faulted)
            if self._error is not None:
                err, self._error = self._error, None
                raise SimError(f"cycle model could not decode a block: {err!r}") from err
            if not self._retranslate_pending():
                return
            begin = self._reg(arm_const.UC_ARM_REG_PC) | 1

    def _reg(self, rid: int) -> int:
        """A 32-bit core register (C API, preallocated buffer)."""
        if _REG_READ(self._uch, rid, self._rref):
            return self.uc.reg_read(rid)         # let the binding raise its UcError
        return self._rv.value

    def _retranslate_pending(self) -> bool:
        """After a "retranslate" stop (a new block needed code hooks; it has not run): drop its cached
        translation so the hooks apply. Returns True if emulation must resume."""
        if int(self._lib.tp_get(self._st, _G["stop_reason"])) != 6:
            return False
        for lo, hi in self._retranslate:
            self.uc.ctl_remove_cache(lo, hi)
        self._retranslate.clear()
        return True

    def begin(self) -> None:
        """Call before uc.emu_start when not using counter.emu_start (clears the stop reason). Then call
        `sync()` after it, and if `stop_reason == "retranslate"`, `resume_after_retranslate()` and start
        again from PC (counter.emu_start does all of this)."""
        self._cycles_now, self._cache_ok = None, False
        self._lib.tp_begin(self._st)

    def sync(self, faulted: bool = False) -> None:
        """Charge the block that was running when emu_start returned, up to the PC (faulted: the
        instruction at PC raised a fault and did not complete). Idempotent."""
        pc = self._reg(arm_const.UC_ARM_REG_PC)
        self._lib.tp_sync(self._st, pc & ~1, int(faulted))
        self._cycles_now, self._cache_ok = None, True

    def resume_after_retranslate(self) -> bool:
        """Manual form of the retranslate step of emu_start; True if emulation must resume at PC."""
        return self._retranslate_pending()

    @property
    def stop_reason(self) -> str | None:
        """Why the native hook stopped the last emu_start: "deadline", "irq_window", "wfi", "error" or
        None (stopped by something else: until address, fault, count, emu_stop from a callback)."""
        return STOP_REASONS[int(self._lib.tp_get(self._st, _G["stop_reason"]))]

    @property
    def last_block_flags(self) -> Flags:
        """Flags of the last block that completed (Flags.WFI: the core is sleeping)."""
        return Flags(int(self._lib.tp_get(self._st, _G["last_flags"])))

    def mmio_access(self, address: int) -> None:
        """Call at the start of an MMIO callback with the accessed address: `cycles`/`energy_uJ` read in
        that callback then count up to the accessing instruction exactly (without it: up to the start
        of the running block, since unicorn leaves PC stale in mmio callbacks). Finds, among the running
        block's memory instructions after the one matched last in this execution, the first whose
        address computed from the current registers covers `address`. Costs a few register reads."""
        if not self._in_emu:
            return
        get, st = self._tp_get, self._st
        size = get(st, self._g_pending_size)
        if not size:
            return
        serial = get(st, self._g_serial)
        start = get(st, self._g_pending)
        hint = self._hint
        after = hint[2] if hint[0] == serial else -1
        regs: dict[int, int] = {}
        read, uch, ref, box = _REG_READ, self._uch, self._rref, self._rv

        def reg(rid: int) -> int:
            v = regs.get(rid)
            if v is None:
                v = box.value if not read(uch, rid, ref) else self.uc.reg_read(rid)
                regs[rid] = v
            return v

        for index, (off, lo_of, nbytes) in enumerate(self._decoder.memory_ops(start, size)):
            if index <= after:
                continue
            lo = lo_of(reg) & 0xFFFFFFFF
            if lo <= address < lo + nbytes:
                self._hint = (serial, start + off, index)
                return

    def _pc_now(self) -> int:
        hint = self._hint
        if hint[0] >= 0 and hint[0] == self._tp_get(self._st, self._g_serial):
            return hint[1]
        return self._reg(arm_const.UC_ARM_REG_PC) & ~1

    @property
    def cycles(self) -> int:
        """HCLK cycles so far. Inside emulation (MMIO callbacks) counts the running block up to the PC
        (exact after `mmio_access(address)`, else the block start: unicorn's PC is stale there)."""
        if self._in_emu:
            return self._tp_cycles_at(self._st, self._pc_now())
        c = self._cycles_now
        if c is None:
            c = self._tp_get(self._st, self._g_cycles)
            if self._cache_ok:
                self._cycles_now = c
        return c

    @property
    def instructions(self) -> int:
        """Instructions completed (those of a block cut short by a fault count up to the PC)."""
        return self._tp_get(self._st, self._g_instructions)

    def add(self, cycles: int, kind: str = "exception") -> None:
        """Account cycles the run loop models itself (exception entry/return, sleep skipped to an event)."""
        if cycles < 0:
            raise ValueError(f"add(): cycles must be >= 0, got {cycles}")
        self._cycles_now = None
        self._lib.tp_add(self._st, int(cycles), self.energy.added_fj(kind, int(cycles)))
        self._extra[kind] = self._extra.get(kind, 0) + int(cycles)

    # ------------------------------------------------------------------ energy
    def set_time_source(self, seconds) -> None:
        """`seconds()` -> simulated seconds since reset (the board's clock): adds static power to
        energy_uJ and "seconds" to snapshots."""
        self._time_source = seconds

    @property
    def energy_uJ(self) -> float:
        """Energy since reset (µJ), cheap; inside emulation counts the running block up to the PC."""
        if self._in_emu:
            fj = int(self._lib.tp_energy_at(self._st, self._pc_now()))
        else:
            fj = int(self._lib.tp_get(self._st, _G["energy_fj"]))
        uj = fj / FJ_PER_UJ
        if self._time_source is not None and self.energy.static_mw:
            uj += self.energy.static_mw * 1e3 * float(self._time_source())
        return uj

    # ------------------------------------------------------------------ memory system
    def flash_config_changed(self, latency: int, prften: bool, icen: bool, dcen: bool) -> None:
        """FLASH_ACR written: LATENCY wait states, prefetch, instruction and data cache enables."""
        self.memory = MemoryConfig(int(latency), bool(prften), bool(icen), bool(dcen))
        self._apply_memory()

    def reset_caches(self, icache: bool = True, dcache: bool = True) -> None:
        """FLASH_ACR.ICRST/DCRST: empty the ART caches."""
        self._lib.tp_reset_caches(self._st, int(icache), int(dcache))

    def _apply_memory(self) -> None:
        m, art = self.memory, self.model.art
        self._lib.tp_set_memory(self._st, m.latency, int(m.prften), int(m.icen), int(m.dcen),
                                art.icache_lines, art.dcache_lines, art.line_bytes.bit_length() - 1,
                                art.dline_bytes.bit_length() - 1, self.model.sram_bus_penalty,
                                self.model.refill_unaligned_wide)

    # ------------------------------------------------------------------ statistics
    def stat(self, name: str) -> int:
        """One native counter by name (fetch_stall, data_stall, branch_cycles, div_cycles, bus_stall,
        ic_hits, ic_misses, dc_hits, dc_misses, flash_reads, taken_branches, extra_cycles, nblocks)."""
        return int(self._lib.tp_get(self._st, _G[name]))

    def block_stats(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(addresses, sizes, completed executions, dynamic cycles) of every block seen (numpy arrays).
        Dynamic cycles: flash stalls, taken-branch refills and divide iterations charged to the block."""
        n = self.stat("nblocks")
        addr = np.zeros(n, np.uint32)
        size = np.zeros(n, np.uint32)
        execs = np.zeros(n, np.uint64)
        dyn = np.zeros(n, np.uint64)
        as_p = lambda a, t: a.ctypes.data_as(ctypes.POINTER(t))
        self._lib.tp_block_stats(self._st, n, as_p(addr, ctypes.c_uint32), as_p(size, ctypes.c_uint32),
                                 as_p(execs, ctypes.c_uint64), as_p(dyn, ctypes.c_uint64))
        return addr, size, execs, dyn

    def block_info(self, address: int, size: int):
        """The decoded block (classify.DecodedBlock) at (address, size), from the decoder's cache."""
        return self._decoder.decode(address, size)

    def snapshot(self, classes: bool = True) -> dict:
        """cycles, instructions, energy_uJ, memory-system counters, add() kinds and (classes=True, costs
        a pass over all blocks) static cycles by instruction class."""
        snap = {"cycles": self.cycles, "instructions": self.instructions, "energy_uJ": self.energy_uJ}
        if self._time_source is not None:
            snap["seconds"] = float(self._time_source())
        for name in ("fetch_stall", "data_stall", "branch_cycles", "div_cycles", "bus_stall", "ic_hits",
                     "ic_misses", "dc_hits", "dc_misses", "flash_reads", "taken_branches",
                     "flash_fetch_reads", "flash_data_reads"):
            snap[name] = self.stat(name)
        snap["added"] = dict(self._extra)
        if classes:
            snap["class_cycles"] = self.class_cycles()
        return snap

    def class_cycles(self) -> dict[str, int]:
        """Static cycles by instruction class over all completed blocks (dynamic stalls are separate)."""
        addr, size, execs, _ = self.block_stats()
        totals: dict[str, int] = {}
        for a, s, e in zip(addr.tolist(), size.tolist(), execs.tolist()):
            if not e:
                continue
            for cls, cyc in self._decoder.decode(a, s).class_cycles.items():
                totals[cls] = totals.get(cls, 0) + cyc * e
        return totals

    def close(self) -> None:
        """Remove the hooks and free the native state (the engine stays usable)."""
        for h in self._hooks:
            uclib.uc_hook_del(self.uc._uch, h)
        self._hooks.clear()
        if self._st:
            self._lib.tp_free(self._st)
            self._st = ctypes.c_void_p(0)
