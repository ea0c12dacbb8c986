"""Firmware builds: toolchain discovery, images for all four tasks with arm-none-eabi-gcc and with zig,
the vector table and memory layout read back from the ELF, .bin/.hex against objcopy and intelhex, the
build cache, bad inputs, and the static image check (nothing simulator-specific in the image)."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
from pathlib import Path

import pytest
from elftools.elf.elffile import ELFFile
from tinyperf.errors import BuildError, TinyperfError
from tinyperf.firmware import toolchain as tcmod
from tinyperf.firmware.build import TASKS, build_firmware
from tinyperf.firmware.imagecheck import check_image
from tinyperf.platforms import load_board

BOARD = load_board()
TOOLCHAINS = ("gcc", "zig")


def _toolchain_or_skip(name: str) -> tcmod.Toolchain:
    try:
        return tcmod.find_toolchain(name)
    except BuildError as e:
        pytest.skip(str(e))


@pytest.fixture(scope="module", params=[(t, tc) for tc in TOOLCHAINS for t in TASKS],
                ids=lambda p: f"{p[0]}-{p[1]}")
def image(request, models_dir):
    task, tc = request.param
    _toolchain_or_skip(tc)
    return build_firmware(task, model=models_dir / TASKS[task].model_file, toolchain=tc)


def _symbols(elf: Path) -> dict[str, int]:
    with open(elf, "rb") as f:
        ef = ELFFile(f)
        return {s.name: s["st_value"] for s in ef.get_section_by_name(".symtab").iter_symbols() if s.name}


def test_find_toolchain():
    tc = tcmod.find_toolchain()
    assert tc.name in TOOLCHAINS and tc.version
    assert "-O3" in tc.cflags("-O3")
    with pytest.raises(BuildError, match="unknown toolchain"):
        tcmod.find_toolchain("clang")
    with pytest.raises(BuildError, match="optimisation level"):
        tc.cflags("-O9")


def test_no_toolchain_is_a_clear_error(monkeypatch):
    monkeypatch.setattr(tcmod.shutil, "which", lambda name: None)
    monkeypatch.setattr(tcmod.importlib.util, "find_spec", lambda name: None)
    tcmod._gcc.cache_clear()
    tcmod._zig.cache_clear()
    try:
        with pytest.raises(BuildError, match=r"gcc-arm-none-eabi.*tinyperf\[zig\]"):
            tcmod.find_toolchain()
        with pytest.raises(BuildError, match="toolchain zig not found"):
            tcmod.find_toolchain("zig")
    finally:
        tcmod._gcc.cache_clear()
        tcmod._zig.cache_clear()


def test_image_layout(image, models_dir):
    """Vector table, entry point, stack and sections as the board description and RM0432 require."""
    assert not image.placeholder
    own = [w for w in image.warnings if "firmware/src/" in w or "firmware/include/" in w]
    assert own == [], own                     # the firmware's own sources compile without warnings
    assert image.model_md5 == hashlib.md5((models_dir / TASKS[image.task].model_file).read_bytes()).hexdigest()
    sym = _symbols(image.elf)
    with open(image.elf, "rb") as f:
        ef = ELFFile(f)
        assert ef["e_machine"] == "EM_ARM"
        assert ef.header["e_entry"] | 1 == sym["Reset_Handler"] | 1
        vt = ef.get_section_by_name(".isr_vector")
        table = vt.data()
    n = 16 + BOARD.cpu["num_irqs"]
    assert vt["sh_addr"] == BOARD.flash.base and len(table) == 4 * n
    words = [int.from_bytes(table[4 * i: 4 * i + 4], "little") for i in range(n)]
    sram1 = BOARD.region("SRAM1")
    assert words[0] == sym["__stack_top__"] == sram1.base + BOARD.raw["firmware"]["stack_bytes"]
    assert words[1] == sym["Reset_Handler"] | 1
    for i, w in enumerate(words[1:], start=1):
        if i in (7, 8, 9, 10, 13):           # reserved entries
            assert w == 0
        else:
            assert w & 1 and BOARD.flash.contains(w & ~1), f"vector {i}: 0x{w:08x}"
    lpuart = BOARD.peripheral("LPUART1").irqs["global"]
    usart3 = BOARD.peripheral("USART3").irqs["global"]
    assert words[16 + lpuart] == sym["LPUART1_IRQHandler"] | 1
    assert words[16 + usart3] == sym["USART3_IRQHandler"] | 1
    assert words[16 + 0] == sym["Default_Handler"] | 1
    # every allocated section inside a board memory, flash sections below 2 MB, RAM below SRAM sizes
    for s in image.sizes:
        region = BOARD.region(s.region)
        assert region.base <= s.address and s.address + s.size <= region.end, s
    assert 0 < image.flash_bytes < BOARD.flash.size
    assert image.bin.stat().st_size >= image.flash_bytes


def test_bin_and_hex_match_objcopy(image, tmp_path):
    """Our pyelftools extraction against binutils' objcopy and intelhex's reading of our .hex."""
    from intelhex import IntelHex

    objcopy = shutil.which("arm-none-eabi-objcopy")
    if objcopy is None:
        pytest.skip("arm-none-eabi-objcopy not installed")
    ref = tmp_path / "ref.bin"
    subprocess.run([objcopy, "-O", "binary", str(image.elf), str(ref)], check=True)
    assert image.bin.read_bytes() == ref.read_bytes()
    ih = IntelHex(str(image.hex))
    assert ih.minaddr() == BOARD.flash.base
    assert ih.tobinstr(start=ih.minaddr(), size=image.bin.stat().st_size) == image.bin.read_bytes()


def test_image_has_nothing_simulator_specific(image):
    report = check_image(image.elf)
    assert report.problems == []
    assert report.instructions > 1000
    # the drivers' accesses were found: clocks, power, flash, console, timer, core
    assert {"RCC", "PWR", "FLASH_R", "LPUART1", "GPIOG", "TIM2", "SCS"} <= report.peripherals


def test_image_check_finds_semihosting_and_magic_addresses(tmp_path):
    """The checker can fail: an image with a semihosting call and a store to an address in no
    peripheral of the board."""
    tc = tcmod.find_toolchain()
    src = tmp_path / "bad.c"
    src.write_text("#include <stdint.h>\n"
                   "void Reset_Handler(void) {\n"
                   "  *(volatile uint32_t *)0x400FF000u = 1u;   /* no peripheral there */\n"
                   "  *(volatile uint32_t *)0x40008000u = 1u;   /* LPUART1: fine */\n"
                   "  __asm volatile(\"bkpt 0xab\");\n  for (;;) {}\n}\n")
    ld = tmp_path / "bad.ld"
    ld.write_text("MEMORY { FLASH (rx) : ORIGIN = 0x08000000, LENGTH = 64K }\nENTRY(Reset_Handler)\n"
                  "SECTIONS { .text : { *(.text*) } > FLASH }\n")
    elf = tmp_path / "bad.elf"
    tc.link([src], elf, linker_script=ld)
    report = check_image(elf)
    text = "\n".join(report.problems)
    assert "0x400ff000" in text and "breakpoint/semihosting" in text
    assert "LPUART1" in report.peripherals


def test_energy_build_uses_usart3_and_timestamp_pin():
    result = build_firmware("kws01", model="placeholder", mode="energy")
    assert result.baud == 9600 and result.mode == "energy"
    report = check_image(result.elf)
    assert report.problems == []
    assert {"USART3", "GPIOD", "GPIOF", "TIM2"} <= report.peripherals
    assert "LPUART1" not in report.peripherals and "GPIOG" not in report.peripherals


def test_placeholder_is_marked_loudly():
    result = build_firmware("ic01", model="placeholder")
    assert result.placeholder and result.model is None
    assert any("PLACEHOLDER" in w for w in result.warnings) or result.cached
    assert b"PLACEHOLDER model: results are not valid" in result.bin.read_bytes()
    assert '"placeholder": true' in (result.directory / "build.json").read_text()


def test_cache_hits_and_keys(models_dir):
    first = build_firmware("kws01", model="placeholder", opt="-Os")
    again = build_firmware("kws01", model="placeholder", opt="-Os")
    assert again.cached and again.key == first.key and again.elf == first.elf
    other = build_firmware("kws01", model="placeholder", opt="-O2", baud=921600)
    assert other.key != first.key


@pytest.mark.parametrize("kwargs, match", [
    ({"task": "kws02"}, "unknown task"),
    ({"task": "kws01", "mode": "turbo"}, "unknown mode"),
    ({"task": "kws01", "baud": 300}, "baud rate 300"),
    ({"task": "kws01", "model": "/nonexistent/model.tflite"}, "not found"),
    ({"task": "kws01", "opt": "-O7"}, "optimisation level"),
    ({"task": "kws01", "kernels": "neon"}, "kernels"),
])
def test_bad_build_arguments(kwargs, match):
    with pytest.raises(BuildError, match=match):
        build_firmware(**kwargs)


def test_model_of_another_task_is_a_clear_error(models_dir):
    with pytest.raises(BuildError, match="does not fit task kws01"):
        build_firmware("kws01", model=models_dir / "vww_96_int8.tflite")


def test_corrupt_model_is_a_clear_error(tmp_path):
    bad = tmp_path / "corrupt.tflite"
    bad.write_bytes(b"\x00" * 64)
    with pytest.raises(TinyperfError):
        build_firmware("kws01", model=bad)


def test_cli_build(tmp_path, capsys):
    from tinyperf.runner.cli import main

    assert main(["build", "--task", "ad01", "--model", "placeholder", "-o", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert ".text" in out and "flash" in out and "PLACEHOLDER" in out
    for name in ("fw.elf", "fw.bin", "fw.hex", "build.json"):
        assert (tmp_path / name).is_file()


def test_generated_files_follow_the_board_description(tmp_path):
    """Linker script, board.h and the vector list come from the YAML: change it and they change."""
    import yaml
    from tinyperf.firmware import linker
    from tinyperf.platforms import load_board_file

    data = yaml.safe_load(BOARD.source.read_text())
    data["firmware"]["stack_bytes"] = 0x2000
    for p in data["peripherals"]:
        if p["name"] == "LPUART1":
            p["irqs"] = {"global": 71}
    path = tmp_path / "variant.yaml"
    path.write_text(yaml.safe_dump(data))
    variant = load_board_file(path)
    ld = linker.linker_script(variant)
    assert "__stack_size = 0x2000;" in ld and "SRAM3  (rwx) : ORIGIN = 0x20040000, LENGTH = 0x00060000" in ld
    assert "#define LPUART1_IRQn 71" in linker.board_header(variant)
    vectors = linker.vectors_header(variant)
    assert "void LPUART1_IRQHandler(void) __attribute__((weak, alias(\"Default_Handler\")));  /* IRQ 71 */" \
        in vectors
    listed = vectors.split("#define BOARD_IRQ_VECTORS \\\n")[1].split("\n")
    assert listed[71].strip() == "LPUART1_IRQHandler, \\" and listed[70].strip() == "IRQ70_Handler, \\"
    assert len([x for x in listed if x.strip().endswith(", \\")]) == BOARD.cpu["num_irqs"]
