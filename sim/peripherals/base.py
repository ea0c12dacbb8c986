"""The one interface every memory-mapped peripheral model implements, and the register table behind it.

A model declares its registers as data::

    REGISTERS = (
        Reg("CR1", 0x00, reset=0x0000_0000),
        Reg("ISR", 0x1C, reset=0x0000_00C0, access=RO),
        Reg("ICR", 0x20, access=W1C_TARGET),      # writes go to on_write handlers only
    )

and per-register handlers in dicts (`on_read = {"RDR": self._read_rdr}`, `on_write = {...}`). The base class
implements plain RW/RO storage, the writable-bit mask, byte/halfword lanes, and turns offsets into names so
that a trace line reads ``[LPUART1] W CR1 = 0x0000000d``.

Lifecycle, driven by the simulated board (`tinyperf.sim.board`):
  1. ``__init__(spec, ctx)`` with the platform's `PeripheralSpec` and the board context;
  2. ``reset()`` puts every register at its reset value;
  3. ``read(offset, size)`` / ``write(offset, size, value)`` on each bus access (size in bytes: 1, 2, 4);
  4. ``advance(cycles)`` after simulated time moved on by `cycles` core clock cycles (HCLK);
  5. ``next_event()`` tells how many HCLK cycles from now the model next needs `advance` to be called
     exactly on time (a timer update, a UART byte finishing), or None.
Time comes from the board's cycle count only; host time never enters a model.
"""

from __future__ import annotations

import enum
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, Protocol

from tinyperf.errors import BusFault

if TYPE_CHECKING:
    from tinyperf.platforms import PeripheralSpec

log = logging.getLogger("tinyperf.sim.bus")


class Access(enum.Enum):
    RW = "rw"      # read/write storage (masked by Reg.writable)
    RO = "ro"      # writes ignored (logged once)
    WO = "wo"      # reads return 0
    W1C = "w1c"    # writing 1 clears the bit in the stored value
    HANDLER = "handler"  # no storage semantics: on_read/on_write handlers define it


RW, RO, WO, W1C, HANDLER = Access.RW, Access.RO, Access.WO, Access.W1C, Access.HANDLER


@dataclass(frozen=True)
class Reg:
    """One 32-bit register: name, byte offset, reset value, access rule, mask of writable bits."""

    name: str
    offset: int
    reset: int = 0
    access: Access = RW
    writable: int = 0xFFFF_FFFF


class BoardContext(Protocol):
    """What a peripheral may ask of the board it sits on."""

    @property
    def cycles(self) -> int:
        """Core clock (HCLK) cycles since reset."""

    def clock_hz(self, name: str) -> int:
        """Frequency in Hz of a clock of the tree: "SYSCLK", "HCLK", "PCLK1", "PCLK2", or a peripheral's
        kernel clock by peripheral name ("LPUART1", "USART3", "TIM2")."""

    def set_irq(self, irq: int, level: bool = True) -> None:
        """Raise (pend) external interrupt `irq`; level=False lowers a level-sensitive line."""

    def request_stop(self) -> None:
        """Ask the run loop to stop the CPU at the next safe point and re-evaluate events and interrupts."""

    def peripheral(self, name: str) -> "Peripheral":
        """Another peripheral of the board, by its platform name ("RCC", "GPIOG")."""

    # Optional members a model uses when present (getattr): `board` or `platform` (the platforms.Board),
    # `strict` (bool), `flash_config_changed(latency, prften, icen, dcen)`.


class Peripheral:
    """Base class: register storage, access rules, name lookup, tracing. Subclasses set REGISTERS and may
    fill `self.on_read` / `self.on_write` with per-register handlers:
    ``on_read[name]() -> int`` and ``on_write[name](value: int, old: int) -> int | None`` (the returned
    value, when not None, is stored)."""

    REGISTERS: tuple[Reg, ...] = ()

    def __init__(self, spec: "PeripheralSpec", ctx: BoardContext):
        self.spec = spec
        self.name = spec.name
        self.ctx = ctx
        self.regs_by_offset = {r.offset: r for r in self.REGISTERS}
        self.regs_by_name = {r.name: r for r in self.REGISTERS}
        self.values: dict[str, int] = {}
        self.on_read: dict[str, Callable[[], int]] = {}
        self.on_write: dict[str, Callable[[int, int], int | None]] = {}
        self.trace = False
        self._warned: set[int] = set()
        self._warned_kinds: set[str] = set()
        self._rcc_model = None
        self.reset()

    # -- lifecycle -------------------------------------------------------------------------------------
    def reset(self) -> None:
        self.values = {r.name: r.reset for r in self.REGISTERS}

    def advance(self, cycles: int) -> None:
        """Simulated time moved on by `cycles` HCLK cycles."""

    def next_event(self) -> int | None:
        """HCLK cycles until this model next needs `advance`, or None."""
        return None

    # Models whose register values never change with time alone (only through accesses) set this.
    TIME_INDEPENDENT = False

    def read_stable_for(self, offset: int) -> int | None:
        """HCLK cycles for which a read of `offset` keeps returning the same value if nothing accesses
        the model; None: until the model's next_event(); 0: may change at any cycle (or unknown). The
        board's busy-wait fast-forward (tinyperf.sim.poll) only skips polling loops this allows."""
        return None if self.TIME_INDEPENDENT else 0

    # -- register access helpers for subclasses ---------------------------------------------------------
    def __getitem__(self, name: str) -> int:
        return self.values[name]

    def __setitem__(self, name: str, value: int) -> None:
        self.values[name] = value & 0xFFFF_FFFF

    # -- peripheral clock gating (RCC xxxENR) --------------------------------------------------------------
    def clock_enabled(self) -> bool:
        """True when the RCC enable bit named by the platform's `enable` is set (or there is none). As on
        silicon, a peripheral whose bus clock is off reads 0 and ignores writes."""
        enable = self.spec.enable
        if not enable:
            return True
        rcc = self._rcc_model
        if rcc is None:
            try:
                rcc = self.ctx.peripheral("RCC")
            except Exception:  # a context with no RCC model: everything is clocked
                rcc = False
            self._rcc_model = rcc
        if rcc is False:
            return True
        return bool(rcc.values.get(enable["reg"], 0) >> enable["bit"] & 1)

    def _gated(self, offset: int, kind: str) -> bool:
        if self.clock_enabled():
            return False
        if "clock" not in self._warned_kinds:
            self._warned_kinds.add("clock")
            log.warning("[%s] %s of %s with its clock off (RCC_%s bit %d = 0): ignored as on silicon; "
                        "the firmware must enable the peripheral clock first", self.name, kind,
                        self.name_of(offset), self.spec.enable["reg"], self.spec.enable["bit"])
        return True

    # -- the bus interface ------------------------------------------------------------------------------
    def read(self, offset: int, size: int) -> int:
        if self.spec.enable and self._gated(offset, "read"):
            return 0
        word_offset = offset & ~3
        reg = self.regs_by_offset.get(word_offset)
        if reg is None:
            return self.unmodelled(offset, size, None)
        if reg.name in self.on_read:
            value = self.on_read[reg.name]()
        elif reg.access is WO:
            value = 0
        else:
            value = self.values[reg.name]
        shift = (offset & 3) * 8
        value = (value >> shift) & ((1 << (8 * size)) - 1)
        if self.trace:
            log.info("[%s] R %s = 0x%0*x", self.name, reg.name, size * 2, value)
        return value

    def write(self, offset: int, size: int, value: int) -> None:
        if self.spec.enable and self._gated(offset, "write"):
            return
        word_offset = offset & ~3
        reg = self.regs_by_offset.get(word_offset)
        if reg is None:
            self.unmodelled(offset, size, value)
            return
        shift = (offset & 3) * 8
        lane = ((1 << (8 * size)) - 1) << shift
        old = self.values.get(reg.name, 0)
        # A narrow write replaces only its byte lanes; the other lanes keep their stored value.
        merged = (old & ~lane) | ((value << shift) & lane)
        if self.trace:
            log.info("[%s] W %s = 0x%08x", self.name, reg.name, merged)
        if reg.access is RO:
            if word_offset not in self._warned:
                self._warned.add(word_offset)
                log.debug("[%s] write to read-only %s ignored", self.name, reg.name)
            return
        if reg.access is W1C:
            new = old & ~(merged & reg.writable & lane)
        else:
            new = (old & ~reg.writable) | (merged & reg.writable)
        handler = self.on_write.get(reg.name)
        if handler is not None:
            stored = handler(merged, old)
            if stored is not None:
                self.values[reg.name] = stored & 0xFFFF_FFFF
            elif reg.access is not HANDLER:
                self.values[reg.name] = new & 0xFFFF_FFFF
        elif reg.access is not HANDLER:
            self.values[reg.name] = new & 0xFFFF_FFFF

    def unmodelled(self, offset: int, size: int, value: int | None) -> int:
        """An offset with no register: reads 0 and is logged once (the board's --strict makes it an error)."""
        strict = getattr(self.ctx, "strict", False)
        kind = "read" if value is None else f"write 0x{value:x}"
        where = f"{self.name}+0x{offset:03x} (0x{self.spec.base + offset:08x})"
        if strict:
            raise BusFault(f"unmodelled {kind} at {where}; run without --strict to read it as 0")
        if offset not in self._warned:
            self._warned.add(offset)
            log.warning("unmodelled %s at %s reads as 0", kind, where)
        return 0

    def name_of(self, offset: int) -> str:
        reg = self.regs_by_offset.get(offset & ~3)
        return reg.name if reg else f"+0x{offset:03x}"


def board_of(ctx: BoardContext):
    """The platform description (`tinyperf.platforms.Board`) a model sits on: `ctx.board` or
    `ctx.platform` when the board context has one, else the default board."""
    from tinyperf.platforms import Board, load_board
    for attr in ("board", "platform"):
        board = getattr(ctx, attr, None)
        if isinstance(board, Board):
            return board
    return load_board()


# model name (as written in platforms/*.yaml) -> class; filled by `register_model`.
MODELS: dict[str, type[Peripheral]] = {}


def register_model(name: str):
    """Class decorator: make a peripheral class available to board descriptions under `name`."""

    def wrap(cls: type[Peripheral]) -> type[Peripheral]:
        MODELS[name] = cls
        return cls

    return wrap
