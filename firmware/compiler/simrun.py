"""Run a compiled model's model_invoke() on the simulated Cortex-M4 (tinyperf.sim.SimBoard), without the
benchmark protocol: for checking the target build of the kernels (inline assembly, DSP instructions)
against the interpreter, and for per-layer cycle counts.

    sm = SimModel("kws01", kernels="m4")       # builds the real firmware image (build_firmware)
    y, cycles = sm.run(x)                       # output tensor, cycles of model_invoke
    sm.layer_cycles                             # {"tp_layer_00_conv_2d": cycles, ...} of the last run
    sm.stack_bytes                              # deepest stack use of the last run (bytes, measured)

Steps per run: 1. write x at the input tensor's arena address, 2. SP at the top of SRAM1's stack area,
LR at a stop address, PC at model_invoke, the stack area painted with a pattern, 3. run until it returns,
4. read the output tensor and the stack's high-water mark (the lowest byte that lost the pattern). The flash
interface is configured as the firmware does for 120 MHz (LATENCY 5, prefetch, I/D caches on) and the
FPU is enabled, so cycle counts match a firmware-driven inference of the same image (within the call).
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import numpy as np
from tinyperf.errors import SimError

FLASH_LATENCY_120MHZ = 5   # wait states at 120 MHz, range 1 boost [RM0432 3.3.3 Table 12]
STACK_PAINT = 0xA5         # stack fill byte for the high-water mark


def elf_symbols(elf: Path) -> dict[str, tuple[int, int, str]]:
    """name -> (address, size, type) from the ELF symbol table."""
    from elftools.elf.elffile import ELFFile
    out = {}
    with open(elf, "rb") as f:
        for s in ELFFile(f).get_section_by_name(".symtab").iter_symbols():
            out[s.name] = (s["st_value"], s["st_size"], s["st_info"]["type"])
    return out


class SimModel:
    """A firmware image with a compiled model, loaded on a simulated board; `run(x)` calls model_invoke."""

    def __init__(self, task: str, model: str | Path | None = None, kernels: str = "m4"):
        from tinyperf.firmware.build import build_firmware, default_model
        from tinyperf.firmware.compiler import compile_model
        from tinyperf.sim import SimBoard
        from unicorn import UC_HOOK_CODE

        model = Path(model) if model is not None else default_model(task)
        with tempfile.TemporaryDirectory() as tmp:
            self.cm = compile_model(model, tmp, kernels=kernels)
        self.build = build_firmware(task, model=model, kernels=kernels)
        if self.build.placeholder:
            raise SimError(f"firmware for {task} links the placeholder model, not {model}")
        self.symbols = elf_symbols(self.build.elf)
        self.board = SimBoard.from_image(self.build.elf)
        self.board.flash_config_changed(FLASH_LATENCY_120MHZ, True, True, True)
        self.board.fp_access_changed(True)
        self.layer_names = [layer.name for layer in self.cm.layers]
        self.layer_cycles: dict[str, int] = {}
        self.stack_bytes = 0
        self._marks: list[tuple[str, int]] = []
        uc = self.board.uc
        self._stop = self.symbols["Reset_Handler"][0] & ~1   # never executed during model_invoke

        def mark(_uc, _addr, _size, name):
            self._marks.append((name, self.board.cycles))
            if name == "<return>":
                self.board.request_stop()

        uc.hook_add(UC_HOOK_CODE, mark, "<return>", self._stop, self._stop)
        for name in ["model_invoke", *self.layer_names]:
            if name not in self.symbols:
                raise SimError(f"symbol {name} missing from {self.build.elf}")
            addr = self.symbols[name][0] & ~1
            uc.hook_add(UC_HOOK_CODE, mark, name, addr, addr)
        arena = self.symbols["model_arena"][0]
        self.input_address = arena + self.cm.input_arena_offset
        self.output_address = arena + self.cm.output_arena_offset

    def run(self, x: np.ndarray, max_cycles: int = 200_000_000) -> tuple[np.ndarray, int]:
        """One inference; returns (output tensor, cycles from model_invoke's entry to its return)."""
        x = np.ascontiguousarray(x, dtype=self.cm.input_dtype)
        if x.nbytes != self.cm.input_bytes:
            raise ValueError(f"input has {x.nbytes} bytes; the model takes {self.cm.input_bytes}")
        b = self.board
        b.uc.mem_write(self.input_address, x.tobytes())
        self._marks = []
        top = self.symbols["__stack_top__"][0]
        depth = int(b.platform.raw["firmware"]["stack_bytes"])
        b.uc.mem_write(top - depth, bytes([STACK_PAINT]) * depth)
        b.regs.set("lr", self._stop | 1)
        b.regs.set("msp", top)
        b.regs.set("pc", self.symbols["model_invoke"][0] & ~1)
        b.run(max_cycles=max_cycles, stop_when=lambda: bool(self._marks) and self._marks[-1][0] == "<return>")
        marks = self._marks
        start, end = marks[0][1], marks[-1][1]
        layers = marks[1:-1]
        self.layer_cycles = {name: (layers[i + 1][1] if i + 1 < len(layers) else end) - c
                             for i, (name, c) in enumerate(layers)}
        painted = bytes(b.uc.mem_read(top - depth, depth))
        self.stack_bytes = depth - (len(painted) - len(painted.lstrip(bytes([STACK_PAINT]))))
        out = bytes(b.uc.mem_read(self.output_address, self.cm.output_bytes))
        y = np.frombuffer(out, dtype=self.cm.output_dtype).reshape(self.cm.output_shape)
        return y, end - start
