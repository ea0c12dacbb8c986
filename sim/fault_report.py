"""A readable report of a firmware that faulted, locked up or hung: registers at the faulting instruction,
fault status registers decoded to their bit names [ARMv7-M ARM B3.2.15-B3.2.18], the symbol at PC (when
the ELF has symbols), recent exception events and the last lines the firmware printed on its console."""

from __future__ import annotations

from dataclasses import dataclass, field

from tinyperf.sim.exceptions import CFSR_BITS, HFSR_BITS, decode_bits, exception_name


@dataclass
class FaultReport:
    """Everything the report prints. `registers`: r0-r12, sp, lr, pc, xpsr, msp, psp, control, ... at the
    faulting instruction (before exception entry); status registers as read after the fault."""

    reason: str
    registers: dict[str, int]
    cfsr: int = 0
    hfsr: int = 0
    mmfar: int = 0
    bfar: int = 0
    symbol: str | None = None
    lr_symbol: str | None = None
    cycles: int = 0
    seconds: float = 0.0
    history: list[tuple[str, int]] = field(default_factory=list)
    uart_tail: list[str] = field(default_factory=list)

    @property
    def cfsr_names(self) -> list[str]:
        return decode_bits(self.cfsr, CFSR_BITS)

    @property
    def hfsr_names(self) -> list[str]:
        return decode_bits(self.hfsr, HFSR_BITS)

    def format(self) -> str:
        r = self.registers
        lines = [f"{self.reason}",
                 f"  at cycle {self.cycles} ({self.seconds * 1e3:.3f} ms simulated)",
                 f"  PC   0x{r.get('pc', 0):08x}" + (f"  <{self.symbol}>" if self.symbol else ""),
                 f"  LR   0x{r.get('lr', 0):08x}" + (f"  <{self.lr_symbol}>" if self.lr_symbol else ""),
                 f"  SP   0x{r.get('sp', 0):08x}  (MSP 0x{r.get('msp', 0):08x}, PSP 0x{r.get('psp', 0):08x})",
                 (f"  xPSR 0x{r.get('xpsr', 0):08x}  (IPSR {r.get('xpsr', 0) & 0x1FF}: "
                  f"{exception_name(r.get('xpsr', 0) & 0x1FF) if r.get('xpsr', 0) & 0x1FF else 'Thread'})")]
        for row in range(0, 13, 4):
            lines.append("  " + "  ".join(f"r{i:<2} 0x{r.get(f'r{i}', 0):08x}" for i in range(row, min(row + 4, 13))))
        lines.append(f"  CFSR 0x{self.cfsr:08x}  {' '.join(self.cfsr_names) or '-'}")
        lines.append(f"  HFSR 0x{self.hfsr:08x}  {' '.join(self.hfsr_names) or '-'}")
        if self.cfsr & (1 << 7):
            lines.append(f"  MMFAR 0x{self.mmfar:08x}")
        if self.cfsr & (1 << 15):
            lines.append(f"  BFAR 0x{self.bfar:08x}")
        if self.history:
            lines.append("  exceptions: " + ", ".join(f"{k} {exception_name(e)}" for k, e in self.history[-8:]))
        if self.uart_tail:
            lines.append("  last console output:")
            lines.extend(f"    | {ln}" for ln in self.uart_tail)
        else:
            lines.append("  no console output")
        return "\n".join(lines)

    __str__ = format


def tail_lines(data: bytes, count: int = 8) -> list[str]:
    """The last `count` lines of `data`, decoded leniently."""
    text = bytes(data).decode("utf-8", "replace").replace("\r", "")
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    return lines[-count:]
