"""USART1..3 and LPUART1 of the STM32L4R5 (RM0432 Rev 9: USART registers 50.8, LPUART registers 51.7).
Both share the register layout CR1 CR2 CR3 BRR GTPR RTOR RQR ISR ICR RDR TDR PRESC; model names `usart`
and `lpuart`.

Baud rate from the kernel clock (RCC: CCIPR mux; divided by PRESC, 50.8.12) and BRR:
  USART  (50.5.7):  OVER8 = 0: baud = fck / BRR;  OVER8 = 1: baud = 2 * fck / USARTDIV, with
                    USARTDIV = BRR[15:4] << 4 | BRR[2:0] << 1;
  LPUART (51.4.7):  baud = 256 * fck / BRR (BRR[19:0]).
A frame is 1 start bit + 7, 8 or 9 bits (CR1.M1:M0; parity included) + 0.5, 1, 1.5 or 2 stop bits
(CR2.STOP), i.e. 10 bits for 8N1; its duration in HCLK cycles is exact (a fraction) and the byte
finishes at a definite cycle.

Transmit: writing TDR while the shift register is empty moves the byte to it at once (TXE stays 1, TC
clears); a second write waits in TDR (TXE = 0). Each byte goes to `tx_listeners` (called with a 1-byte
`bytes`) at the cycle its stop bit ends; TC sets when the shift register empties with TDR empty.
Receive: `host_send(data)` queues bytes; while UE and RE are set they arrive back to back, one per frame
time: RDR takes the byte and RXNE sets, or, if RXNE is still set (RDR not read in time), ORE sets and the
byte is lost (with CR3.OVRDIS the new byte overwrites RDR instead). Bytes queued while the receiver is
disabled wait in the queue. IDLE sets one frame after the last byte of a burst. Reading RDR clears RXNE.
TEACK/REACK follow TE/RE while UE; UE = 0 stops both directions and resets the ISR flags (50.8.1).
ICR clears flags (write 1), RQR.RXFRQ flushes RDR and RQR.TXFRQ discards TDR.

Pins: for a UART the board description wires to pins (`console`, `energy_uart`), the first transmitted
byte checks what silicon needs for it to leave the chip: the GPIO port clock on, the TX pin in
alternate-function mode with the right AF number, and for PG2..PG15 PWR_CR2.IOSV (VDDIO2 valid, RM0432
5.1.4). A problem is logged once as a warning naming the fix; with `ctx.strict` the bytes are dropped,
as silicon would lose them.

Interrupt (a level): (RXNE|ORE)&RXNEIE | TXE&TXEIE | TC&TCIE | IDLE&IDLEIE | PE&PEIE | ORE&CR3.EIE.
`next_event()` gives the HCLK cycles until the next byte completion (or IDLE), so the run loop stops
exactly then. Not modelled: FIFO mode, parity generation/check, hardware flow control, synchronous,
smartcard, IrDA, LIN and multiprocessor modes, auto baud, DMA requests.
"""

from __future__ import annotations

import logging
from collections import deque
from fractions import Fraction
from math import ceil
from typing import Callable

from .base import HANDLER, RO, Peripheral, Reg, board_of, register_model
from .timebase import Timed

log = logging.getLogger("tinyperf.sim.peripherals.usart")

# CR1 (50.8.1)
UE, RE, TE = 1 << 0, 1 << 2, 1 << 3
IDLEIE, RXNEIE, TCIE, TXEIE, PEIE = 1 << 4, 1 << 5, 1 << 6, 1 << 7, 1 << 8
M0, OVER8, M1 = 1 << 12, 1 << 15, 1 << 28
# ISR (50.8.10)
PE, FE, NF, ORE, IDLE, RXNE, TC, TXE = 1 << 0, 1 << 1, 1 << 2, 1 << 3, 1 << 4, 1 << 5, 1 << 6, 1 << 7
BUSY, TEACK, REACK = 1 << 16, 1 << 21, 1 << 22
ICR_CLEARABLE = 0x0012_1B5F
PRESC_DIV = (1, 2, 4, 6, 8, 10, 12, 16, 32, 64, 128, 256)
STOP_BITS = (Fraction(1), Fraction(1, 2), Fraction(2), Fraction(3, 2))



def _le(t: Fraction | int, now: int) -> bool:
    """t <= now for an event time t (a Fraction) and an integer cycle count, without Fraction arithmetic."""
    if type(t) is Fraction:
        return t._numerator <= now * t._denominator
    return t <= now


def _lt(a: Fraction | int, b: Fraction | int) -> bool:
    """a < b for two event times, exact, with integer arithmetic when both are Fractions."""
    if type(a) is Fraction and type(b) is Fraction:
        return a._numerator * b._denominator < b._numerator * a._denominator
    return a < b


def _ceil_minus(t: Fraction | int, now: int) -> int:
    """ceil(t - now), exact, for an event time t (a Fraction) and an integer cycle count."""
    if type(t) is Fraction:
        d = t._denominator
        return -((now * d - t._numerator) // d)
    return ceil(t - now)

class Uart(Timed, Peripheral):
    """Common USART/LPUART model. Host API: `host_send(data)`, `tx_listeners`, `baud()`,
    `rx_pending()` (bytes queued from the host, not yet received)."""

    LPUART = False

    def __init__(self, spec, ctx):
        self.REGISTERS = (
            Reg("CR1", 0x00), Reg("CR2", 0x04), Reg("CR3", 0x08),
            Reg("BRR", 0x0C, writable=0x000F_FFFF if self.LPUART else 0x0000_FFFF),
            Reg("GTPR", 0x10), Reg("RTOR", 0x14), Reg("RQR", 0x18, access=HANDLER),
            Reg("ISR", 0x1C, reset=TXE | TC, access=RO), Reg("ICR", 0x20, access=HANDLER),
            Reg("RDR", 0x24, access=RO), Reg("TDR", 0x28, access=HANDLER),
            Reg("PRESC", 0x2C, writable=0xF),
        )
        self.tx_listeners: list[Callable[[bytes], None]] = []
        self.rx_queue: deque[int] = deque()
        self.irq = spec.irqs.get("global")
        self._warned_disabled = False
        self._pins_checked = False
        self._pins_ok = True
        super().__init__(spec, ctx)
        self.on_read.update({"ISR": self._read_isr, "RDR": self._read_rdr})
        self.on_write.update({"CR1": self._write_cr1, "ICR": self._write_icr, "RQR": self._write_rqr,
                              "TDR": self._write_tdr, "CR3": self._write_cr3})

    def reset(self) -> None:
        super().reset()
        self.timed_reset()
        self.flags = TXE | TC
        self._tx_shift: int | None = None
        self._tx_done: Fraction | None = None
        self._tdr: int | None = None
        self._rx_byte: int | None = None
        self._rx_done: Fraction | None = None
        self._idle_at: Fraction | None = None
        self._rdr = 0
        self._irq_level = False

    # -- host side ---------------------------------------------------------------------------------------
    def host_send(self, data: bytes) -> None:
        """Queue bytes from the host for the device's receiver (delivered one per frame time)."""
        self.sync()
        self.rx_queue.extend(data)
        self._start_rx(Fraction(self._now()))
        self._update_irq()

    def rx_pending(self) -> int:
        return len(self.rx_queue) + (self._rx_byte is not None)

    def baud(self) -> float:
        """Current baud rate in bit/s (0 while the kernel clock or BRR is zero)."""
        bit = self._bit_ticks()
        fk = self._kernel_hz()
        return float(fk / bit) if bit and fk else 0.0

    # -- timing ------------------------------------------------------------------------------------------
    def _now(self) -> int:
        return self._last_cycles if self._last_cycles is not None else self.ctx.cycles

    def _kernel_hz(self) -> int:
        fk, _ = self.clocks()
        presc = self.values["PRESC"] & 0xF
        return fk // PRESC_DIV[presc] if presc < len(PRESC_DIV) else 0

    def _bit_ticks(self) -> Fraction:
        """Duration of one bit in kernel-clock ticks (0 if BRR is 0)."""
        brr = self.values["BRR"]
        if self.LPUART:
            return Fraction(brr, 256)
        if self.values["CR1"] & OVER8:
            return Fraction((brr & 0xFFF0) | ((brr & 7) << 1), 2)
        return Fraction(brr & 0xFFFF)

    def frame_bits(self) -> Fraction:
        cr1 = self.values["CR1"]
        data = 9 if cr1 & M0 and not cr1 & M1 else 7 if cr1 & M1 else 8
        return 1 + data + STOP_BITS[(self.values["CR2"] >> 12) & 3]

    def frame_cycles(self) -> Fraction | None:
        """HCLK cycles one frame takes now, None if the UART has no clock or no baud rate (memoised on
        the registers and clocks it depends on)."""
        v = self.values
        key = (v["BRR"], v["CR1"], v["CR2"], v["PRESC"], self.clocks())
        cache = self.__dict__.setdefault("_frame_memo", {})
        if key not in cache:
            if len(cache) > 64:
                cache.clear()
            cache[key] = self._frame_cycles()
        return cache[key]

    def _frame_cycles(self) -> Fraction | None:
        fk, fh = self._kernel_hz(), self.clocks()[1]
        bit = self._bit_ticks()
        if not (fk and fh and bit):
            return None
        return self.frame_bits() * bit * fh / fk

    def _data_mask(self) -> int:
        cr1 = self.values["CR1"]
        return 0x1FF if cr1 & M0 and not cr1 & M1 else 0x7F if cr1 & M1 else 0xFF

    # -- events --------------------------------------------------------------------------------------------
    def elapse(self, cycles: int) -> None:
        now = self._now()
        while True:       # due events in time order (ties: tx, rx, idle)
            best, kind = None, -1
            for k, t in ((0, self._tx_done), (1, self._rx_done), (2, self._idle_at)):
                if t is not None and _le(t, now) and (best is None or _lt(t, best)):
                    best, kind = t, k
            if best is None:
                break
            (self._finish_tx, self._finish_rx, self._finish_idle)[kind](best)
        self._update_irq()

    def _finish_tx(self, t: Fraction) -> None:
        byte = self._tx_shift & 0xFF
        self._tx_shift = self._tx_done = None
        if not self._pins_checked:
            self._pins_checked = True
            problem = self.pin_problem()
            if problem:
                strict = bool(getattr(self.ctx, "strict", False))
                self._pins_ok = not strict
                log.warning("%s: %s; on silicon the bytes would not leave the chip%s", self.name, problem,
                            " (--strict: dropped)" if strict else "")
        if self._pins_ok:
            for listener in list(self.tx_listeners):
                listener(bytes((byte,)))
        if self._tdr is not None:
            self._shift_out(self._tdr, t)
            self._tdr = None
            self.flags |= TXE
        else:
            self.flags |= TC

    def _shift_out(self, value: int, t: Fraction) -> None:
        frame = self.frame_cycles()
        if frame is None:
            log.warning("%s: transmit with no baud rate (BRR=0x%x, kernel clock %d Hz): byte dropped",
                        self.name, self.values["BRR"], self._kernel_hz())
            return
        self._tx_shift = value
        self._tx_done = t + frame
        self.flags &= ~TC

    def pin_problem(self) -> str | None:
        """Why the TX pin wired to this UART (board description) would not carry its output, or None."""
        raw = board_of(self.ctx).raw
        wiring = next((w for w in (raw.get("console"), raw.get("energy_uart"))
                       if isinstance(w, dict) and w.get("uart") == self.name), None)
        if wiring is None:
            return None
        pin_name, af = str(wiring["tx_pin"]), int(wiring["af"])
        port, pin = f"GPIO{pin_name[1]}", int(pin_name[2:])
        try:
            gpio = self.ctx.peripheral(port)
        except Exception:
            return None
        if not gpio.clock_enabled():
            return f"TX pin {pin_name}: {port} clock is off (RCC_{gpio.spec.enable['reg']})"
        if (gpio["MODER"] >> 2 * pin) & 3 != 2:
            return f"TX pin {pin_name} is not in alternate-function mode (GPIO{pin_name[1]}_MODER)"
        afr = gpio["AFRH"] if pin >= 8 else gpio["AFRL"]
        if (afr >> 4 * (pin % 8)) & 0xF != af:
            return f"TX pin {pin_name} is not set to AF{af} (GPIO{pin_name[1]}_AFR)"
        if pin_name[1] == "G" and pin >= 2:
            try:
                pwr = self.ctx.peripheral("PWR")
            except Exception:
                return None
            if not pwr.vddio2_valid():
                return f"TX pin {pin_name} is in the VDDIO2 domain and PWR_CR2.IOSV = 0"
        return None

    def _rx_enabled(self) -> bool:
        return (self.values["CR1"] & (UE | RE)) == (UE | RE)

    def _start_rx(self, t: Fraction) -> None:
        if self._rx_byte is not None or not self.rx_queue or not self._rx_enabled():
            return
        frame = self.frame_cycles()
        if frame is None:
            return
        self._rx_byte = self.rx_queue.popleft()
        self._rx_done = t + frame
        self._idle_at = None

    def _finish_rx(self, t: Fraction) -> None:
        byte = self._rx_byte & self._data_mask()
        self._rx_byte = self._rx_done = None
        if self.flags & RXNE and not self.values["CR3"] & (1 << 12):
            self.flags |= ORE                      # RDR not read in time: this byte is lost
        else:
            self._rdr = byte
            self.flags |= RXNE
        self._start_rx(t)
        if self._rx_byte is None:
            frame = self.frame_cycles()
            self._idle_at = t + frame if frame is not None else None

    def _finish_idle(self, t: Fraction) -> None:
        self._idle_at = None
        self.flags |= IDLE

    def next_event(self) -> int | None:
        self.sync()
        # The IDLE flag is only an event when it raises an interrupt; otherwise the next register read
        # (which syncs) sets it on time, and a run-loop stop per received byte is saved.
        idle = self._idle_at if self.values["CR1"] & IDLEIE else None
        times = [t for t in (self._tx_done, self._rx_done, idle) if t is not None]
        if not times:
            return None
        first = times[0]
        for t in times[1:]:
            if _lt(t, first):
                first = t
        return max(1, _ceil_minus(first, self._now()))

    def read_stable_for(self, offset: int) -> int | None:
        """ISR changes at byte completions (events) and when IDLE sets (an event only with IDLEIE)."""
        self.sync()
        if self._idle_at is not None and not self.values["CR1"] & IDLEIE:
            return max(0, ceil(self._idle_at - self._now()))
        return None

    def _update_irq(self) -> None:
        cr1, cr3, f = self.values["CR1"], self.values["CR3"], self.flags
        level = bool((f & (RXNE | ORE) and cr1 & RXNEIE) or (f & TXE and cr1 & TXEIE)
                     or (f & TC and cr1 & TCIE) or (f & IDLE and cr1 & IDLEIE)
                     or (f & PE and cr1 & PEIE) or (f & ORE and cr3 & 1))
        if level != self._irq_level and self.irq is not None:
            self._irq_level = level
            self.ctx.set_irq(self.irq, level)

    # -- register access -------------------------------------------------------------------------------
    def write(self, offset: int, size: int, value: int) -> None:
        super().write(offset, size, value)   # Timed.write syncs first
        self._update_irq()

    def _read_isr(self) -> int:
        cr1 = self.values["CR1"]
        isr = self.flags
        if cr1 & UE:
            isr |= (TEACK if cr1 & TE else 0) | (REACK if cr1 & RE else 0)
        if self._rx_byte is not None:
            isr |= BUSY
        return isr

    def _read_rdr(self) -> int:
        self.flags &= ~RXNE
        self._update_irq()
        return self._rdr

    def _write_cr1(self, value: int, old: int) -> int:
        self.values["CR1"] = value
        if old & UE and not value & UE:           # UE cleared: stop everything, reset the flags
            self._tx_shift = self._tx_done = self._tdr = None
            self._rx_byte = self._rx_done = self._idle_at = None
            self.flags = TXE | TC
        self._start_rx(Fraction(self._now()))
        return value

    def _write_cr3(self, value: int, old: int) -> int:
        return value

    def _write_icr(self, value: int, old: int) -> int:
        self.flags &= ~(value & ICR_CLEARABLE)
        return 0

    def _write_rqr(self, value: int, old: int) -> int:
        if value & (1 << 3):                       # RXFRQ: discard the received data
            self.flags &= ~RXNE
        if value & (1 << 4):                       # TXFRQ: discard the data waiting in TDR
            self._tdr = None
            self.flags |= TXE
        return 0

    def _write_tdr(self, value: int, old: int) -> int:
        value &= self._data_mask()
        if (self.values["CR1"] & (UE | TE)) != (UE | TE):
            if not self._warned_disabled:
                self._warned_disabled = True
                log.warning("%s: TDR written with UE or TE clear (CR1=0x%08x): byte 0x%02x dropped",
                            self.name, self.values["CR1"], value)
            return value
        if self._tx_shift is None:
            self._shift_out(value, Fraction(self._now()))
        elif self._tdr is None:
            self._tdr = value
            self.flags &= ~(TXE | TC)
        else:
            log.debug("%s: TDR overwritten while TXE = 0", self.name)
            self._tdr = value
        return value


@register_model("usart")
class Usart(Uart):
    LPUART = False


@register_model("lpuart")
class Lpuart(Uart):
    LPUART = True
