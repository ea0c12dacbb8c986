"""Build the MLPerf Tiny device firmware for one task: `build_firmware("kws01")` compiles the model
(.tflite to C with tinyperf.firmware.compiler), generates the board header, vector list and linker script
from the board description, compiles and links everything with the toolchain, and writes fw.elf, fw.bin,
fw.hex and build.json into a cache directory keyed by every input:

    $TINYPERF_CACHE/build/<key>/  (default ~/.cache/tinyperf/build/<key>/)

The key hashes all firmware, kernel and compiler sources, the board description, the .tflite bytes,
task, mode, baud rate, optimisation flags and the toolchain's name and version; a second build with the
same inputs returns the cached image without compiling.

With model="placeholder" the build links firmware/placeholder/model.c instead of a compiled model, says
so in a warning, marks the image (its profile reply contains "PLACEHOLDER") and records
`placeholder: true` in build.json; the runner refuses to publish results from such an image.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
from dataclasses import asdict, dataclass, field
from pathlib import Path

from tinyperf import __version__
from tinyperf.errors import BuildError, TinyperfError
from tinyperf.firmware import linker
from tinyperf.firmware.toolchain import SectionSize, Toolchain, find_toolchain, section_sizes
from tinyperf.platforms import DEFAULT_BOARD, load_board

log = logging.getLogger("tinyperf.firmware")

FIRMWARE_DIR = Path(__file__).resolve().parent
REPO = FIRMWARE_DIR.parent
SRC_DIR = FIRMWARE_DIR / "src"
INCLUDE_DIR = FIRMWARE_DIR / "include"
LIBC_DIR = INCLUDE_DIR / "libc"
PLACEHOLDER_DIR = FIRMWARE_DIR / "placeholder"
KERNELS_DIR = FIRMWARE_DIR / "kernels"
COMPILER_DIR = FIRMWARE_DIR / "compiler"

VENDOR = "tinyperf"
MODES = ("performance", "energy")
DEFAULT_BAUD = {"performance": 115200, "energy": 9600}
BAUD_RANGE = (1200, 4_000_000)   # bits/s the LPUART/USART reach from a 120 MHz PCLK1 [RM0432 51.4.7]
PLACEHOLDER = "placeholder"


@dataclass(frozen=True)
class TaskSpec:
    """A benchmark task: its reference model file, the bytes the host sends per input and the int8
    input bytes of the model (the firmware converts the former into the latter)."""

    name: str
    model_file: str
    input_bytes: int
    model_input_bytes: int


TASKS = {
    "kws01": TaskSpec("kws01", "kws_ref_model.tflite", 490, 490),                   # 49 x 10 int8 MFCC
    "vww01": TaskSpec("vww01", "vww_96_int8.tflite", 96 * 96 * 3, 96 * 96 * 3),     # uint8 RGB
    "ic01": TaskSpec("ic01", "pretrainedResnet_quant.tflite", 32 * 32 * 3, 32 * 32 * 3),  # uint8 RGB
    "ad01": TaskSpec("ad01", "ad01_int8.tflite", 640 * 4, 640),                      # 640 float32
}


@dataclass
class BuildResult:
    """A built image. Sizes in bytes; `sizes` lists every allocated section."""

    elf: Path
    bin: Path
    hex: Path
    sizes: list[SectionSize]
    task: str
    mode: str
    baud: int
    opt: str
    toolchain: str
    toolchain_version: str
    placeholder: bool
    model: str | None            # path of the .tflite, None for the placeholder
    model_md5: str | None
    key: str
    kernels: str = ""
    cached: bool = False
    warnings: list[str] = field(default_factory=list)

    @property
    def directory(self) -> Path:
        return self.elf.parent

    def as_dict(self) -> dict:
        """JSON-ready facts of the build (paths as strings, sizes as dicts, flash/RAM totals)."""
        d = asdict(self)
        d.update(elf=str(self.elf), bin=str(self.bin), hex=str(self.hex), flash_bytes=self.flash_bytes,
                 ram_bytes=self.ram_bytes)
        return d

    @property
    def flash_bytes(self) -> int:
        return sum(s.size for s in self.sizes if s.flash)

    @property
    def ram_bytes(self) -> int:
        return sum(s.size for s in self.sizes if s.ram)


def cache_root() -> Path:
    base = os.environ.get("TINYPERF_CACHE")
    return (Path(base) if base else Path.home() / ".cache" / "tinyperf") / "build"


def default_model(task: str) -> Path:
    """The task's reference .tflite: $TINYPERF_MODELS (md5-checked by the runner's model locator), the
    user cache, ../shared/models beside the checkout, and finally a download by the model locator.
    Raises BuildError saying what to do when none works."""
    spec = TASKS[task]
    try:
        from tinyperf.runner.models import reference_model
    except ImportError:
        reference_model = None
    env = os.environ.get("TINYPERF_MODELS")
    if reference_model and env and (Path(env) / spec.model_file).is_file():
        try:
            return Path(reference_model(task, download=False))   # a wrong file here is an error
        except TinyperfError as e:
            raise BuildError(str(e)) from None
    if reference_model:
        try:
            return Path(reference_model(task, download=False))
        except TinyperfError as e:
            log.debug("model locator: %s", e)
    for base in (env, REPO.parent / "shared" / "models"):
        if base and (Path(base) / spec.model_file).is_file():
            return Path(base) / spec.model_file
    if reference_model:
        try:
            return Path(reference_model(task, download=True))
        except TinyperfError as e:
            raise BuildError(f"no reference model for {task}: {e}; or pass --model PATH") from None
    raise BuildError(f"no reference model for {task} ({spec.model_file}) found: set TINYPERF_MODELS to the "
                     "directory holding it, or pass --model PATH")


def _model_compiler():
    """compile_model from tinyperf.firmware.compiler, or None when it cannot be imported."""
    try:
        from tinyperf.firmware.compiler import compile_model
    except ImportError as e:
        log.debug("model compiler: %s", e)
        return None
    return compile_model


def _files(directory: Path, patterns=("*.c", "*.h", "*.S", "*.py")) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(p for pat in patterns for p in directory.rglob(pat) if "__pycache__" not in p.parts)


def _hash_files(h, paths: list[Path], root: Path) -> None:
    for p in paths:
        rel = p.relative_to(root) if p.is_relative_to(root) else p
        h.update(str(rel).encode() + b"\0" + p.read_bytes() + b"\0")


def format_sizes(result: BuildResult) -> str:
    """Flash and RAM use per section, as a small table."""
    rows = [f"{'section':<14} {'bytes':>8}  {'address':>10}  region  use"]
    for s in result.sizes:
        use = "+".join(u for u, on in (("flash", s.flash), ("ram", s.ram)) if on) or "-"
        rows.append(f"{s.name:<14} {s.size:>8}  0x{s.address:08x}  {s.region:<6}  {use}")
    rows.append(f"flash {result.flash_bytes} bytes, RAM {result.ram_bytes} bytes "
                f"({result.task}, {result.mode}, {result.toolchain} {result.opt})")
    return "\n".join(rows)


def _config_header(task: str, mode: str, baud: int, version: str) -> str:
    spec = TASKS[task]
    flags = "\n".join(f"#define TP_TASK_{t.upper()} {int(t == task)}" for t in TASKS)
    return f"""/* generated by tinyperf.firmware.build: do not edit */
#ifndef TP_BUILD_CONFIG_H
#define TP_BUILD_CONFIG_H
#define TP_TASK_NAME "{task}"
{flags}
#define TP_ENERGY_MODE {int(mode == "energy")}
#define TP_BAUD {baud}u
#define TP_VENDOR "{VENDOR}"
#define TP_FW_VERSION "{version}"
#define TP_DB_BUFFER_BYTES {spec.input_bytes}
#endif
"""


def build_firmware(task: str, model: str | Path | None = None, baud: int | None = None,
                   mode: str = "performance", toolchain: Toolchain | str | None = None, opt: str = "-O2",
                   board: str = DEFAULT_BOARD, force: bool = False, kernels: str | None = None) -> BuildResult:
    """Build (or take from the cache) the firmware for `task` (kws01, vww01, ic01, ad01).

    model: a .tflite path; None for the task's reference model; "placeholder" for the stand-in model.
    baud: console bits/s (default 115200 in performance mode, 9600 in energy mode).
    mode: "performance" (LPUART1 console, m-lap-us timestamps) or "energy" (USART3, timestamp pin).
    toolchain: a Toolchain, "gcc", "zig" or None (find_toolchain()). force: rebuild even if cached.
    kernels: "m4" (DSP kernels, the default) or "ref" (portable reference kernels).
    """
    kernels = kernels or "m4"
    if kernels not in ("m4", "ref"):
        raise BuildError(f"kernels {kernels!r}: choose m4 or ref")
    if task not in TASKS:
        raise BuildError(f"unknown task {task!r}: choose one of {', '.join(TASKS)}")
    if mode not in MODES:
        raise BuildError(f"unknown mode {mode!r}: choose performance or energy")
    baud = DEFAULT_BAUD[mode] if baud is None else int(baud)
    if not BAUD_RANGE[0] <= baud <= BAUD_RANGE[1]:
        raise BuildError(f"baud rate {baud} outside {BAUD_RANGE[0]}..{BAUD_RANGE[1]} bits/s")
    tc = toolchain if isinstance(toolchain, Toolchain) else find_toolchain(toolchain)
    tc.cflags(opt)   # validates opt
    brd = load_board(board)

    compile_model = None
    tflite: Path | None = None
    if model is None or str(model) != PLACEHOLDER:
        tflite = Path(model) if model is not None else default_model(task)
        if not tflite.is_file():
            raise BuildError(f"model file {tflite} not found")
        compile_model = _model_compiler()
        if compile_model is None:
            raise BuildError(f"cannot compile {tflite}: the model compiler (tinyperf.firmware.compiler) "
                             f"does not import; reinstall tinyperf, or build a protocol-only image with "
                             f"--model {PLACEHOLDER}")
    placeholder = tflite is None
    model_bytes = tflite.read_bytes() if tflite else b""
    model_md5 = hashlib.md5(model_bytes).hexdigest() if tflite else None

    version = f"tinyperf-fw {__version__} {tc.name} {opt}"
    config_h = _config_header(task, mode, baud, version)
    h = hashlib.sha256()
    for text in (config_h, linker.linker_script(brd), linker.board_header(brd), linker.vectors_header(brd),
                 tc.name, tc.version, " ".join(tc.cflags(opt)), " ".join(tc.link_flags), kernels):
        h.update(text.encode() + b"\0")
    _hash_files(h, _files(SRC_DIR) + _files(INCLUDE_DIR) + [Path(__file__), FIRMWARE_DIR / "toolchain.py",
                                                              FIRMWARE_DIR / "linker.py"], FIRMWARE_DIR)
    if placeholder:
        _hash_files(h, _files(PLACEHOLDER_DIR), FIRMWARE_DIR)
    else:
        _hash_files(h, _files(KERNELS_DIR) + _files(COMPILER_DIR), FIRMWARE_DIR)
        h.update(model_bytes)
    key = h.hexdigest()[:24]
    out_dir = cache_root() / key

    if not force and (out_dir / "build.json").is_file():
        result = _load_manifest(out_dir)
        if result is not None:
            result.cached = True
            _announce(result)
            return result

    cache_root().mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{key}-", dir=cache_root()))
    try:
        result = _build_in(work, key, task, mode, baud, opt, tc, brd, config_h, tflite, model_md5,
                           compile_model, kernels)
        if force and out_dir.exists():
            shutil.rmtree(out_dir)
        try:
            os.rename(work, out_dir)
        except OSError:   # another process finished the same build first: use its (identical) result
            shutil.rmtree(work, ignore_errors=True)
        final = _load_manifest(out_dir)
        if final is None:
            raise BuildError(f"build cache entry {out_dir} is incomplete; delete it and rebuild")
        final.warnings = result.warnings
        _announce(final)
        return final
    finally:
        if work.exists():
            shutil.rmtree(work, ignore_errors=True)


def _build_in(work: Path, key: str, task: str, mode: str, baud: int, opt: str, tc: Toolchain, brd,
              config_h: str, tflite: Path | None, model_md5: str | None, compile_model,
              kernels: str) -> BuildResult:
    gen = work / "gen"
    gen.mkdir()
    (gen / "build_config.h").write_text(config_h)
    (gen / "board.h").write_text(linker.board_header(brd))
    (gen / "board_vectors.h").write_text(linker.vectors_header(brd))
    ld = work / "firmware.ld"
    ld.write_text(linker.linker_script(brd))

    sources = sorted(SRC_DIR.glob("*.c"))
    include_dirs = [gen, INCLUDE_DIR]
    if tflite is None:
        sources.append(PLACEHOLDER_DIR / "model.c")
        include_dirs.append(PLACEHOLDER_DIR)
    else:
        model_dir = work / "model"
        compiled = compile_model(tflite, model_dir, kernels=kernels)
        spec = TASKS[task]
        if compiled.input_bytes != spec.model_input_bytes or str(compiled.input_dtype) != "int8":
            raise BuildError(f"{tflite.name} does not fit task {task}: its input is {compiled.input_bytes} "
                             f"bytes of {compiled.input_dtype}, {task} needs {spec.model_input_bytes} int8 "
                             "values; pick the --task that matches the model")
        from tinyperf.firmware.compiler import INCLUDE_DIR as KERNEL_INCLUDE
        from tinyperf.firmware.compiler import kernel_sources
        sources += sorted(model_dir.glob("*.c"))
        kernel_files = [Path(s) for s in kernel_sources()]
        if kernels == "ref":   # the reference kernels alone (m4 sources may not even be needed to compile)
            kernel_files = [s for s in kernel_files if s.parent.name == "ref"]
        sources += kernel_files
        include_dirs += [model_dir, KERNEL_INCLUDE]
        log.info("compiled %s: arena %d bytes, weights %d bytes, %d layers", tflite.name,
                 compiled.arena_bytes, compiled.weights_bytes, len(compiled.layers))

    elf = work / "fw.elf"
    warnings = tc.link(sources, elf, linker_script=ld, include_dirs=include_dirs, opt=opt,
                       extra_flags=["-isystem", str(LIBC_DIR)])
    tc.to_bin(elf, work / "fw.bin")
    tc.to_hex(elf, work / "fw.hex")
    sizes = section_sizes(elf, brd)
    result = BuildResult(elf=elf, bin=work / "fw.bin", hex=work / "fw.hex", sizes=sizes, task=task,
                         mode=mode, baud=baud, opt=opt, toolchain=tc.name, toolchain_version=tc.version,
                         placeholder=tflite is None, model=str(tflite) if tflite else None,
                         model_md5=model_md5, key=key, kernels=kernels if tflite else "", warnings=warnings)
    manifest = {k: v for k, v in asdict(result).items() if k not in ("elf", "bin", "hex", "sizes", "cached")}
    manifest["sizes"] = [asdict(s) for s in sizes]
    (work / "build.json").write_text(json.dumps(manifest, indent=1))
    return result


def _load_manifest(directory: Path) -> BuildResult | None:
    try:
        data = json.loads((directory / "build.json").read_text())
        sizes = [SectionSize(**s) for s in data.pop("sizes")]
        result = BuildResult(elf=directory / "fw.elf", bin=directory / "fw.bin", hex=directory / "fw.hex",
                             sizes=sizes, **data)
    except (OSError, ValueError, TypeError, KeyError) as e:
        log.warning("ignoring unreadable build cache entry %s: %s", directory, e)
        return None
    if not all(p.is_file() for p in (result.elf, result.bin, result.hex)):
        return None
    return result


def _announce(result: BuildResult) -> None:
    if result.placeholder:
        log.warning("%s image %s links the PLACEHOLDER model: its results are not valid and the runner "
                    "will not publish them", result.task, result.elf)
    log.info("%s firmware %s (%s)\n%s", result.task, result.elf, "cached" if result.cached else "built",
             format_sizes(result))
