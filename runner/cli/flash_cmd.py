"""Flash a firmware image (.elf, .hex or .bin) into a NUCLEO-L4R5ZI through its ST-LINK with pyocd (the
optional extra `tinyperf[flash]`), then reset the board."""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from tinyperf.errors import RunnerError

NAME = "flash"
HELP = "flash a firmware image into a real board with pyocd (optional extra tinyperf[flash])"

log = logging.getLogger("tinyperf.flash")
FLASH_BASE = 0x0800_0000  # STM32L4R5 flash, where a raw .bin goes (RM0432, memory map)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("image", type=Path, metavar="IMAGE", help="firmware image: .elf, .hex or .bin")
    p.add_argument("--probe", help="probe unique id (default: the only probe connected)")
    p.add_argument(
        "--target",
        default="stm32l4r5zitx",
        help="pyocd target name (default stm32l4r5zitx; "
        "`pyocd pack install stm32l4r5` when pyocd does not know it)",
    )


def import_pyocd():
    try:
        from pyocd.core.helpers import ConnectHelper
        from pyocd.flash.file_programmer import FileProgrammer
    except ImportError:
        raise RunnerError(
            "flashing needs pyocd, which is not installed: pip install 'tinyperf[flash]'"
        ) from None
    return ConnectHelper, FileProgrammer


def flash(image: Path, probe: str | None = None, target: str = "stm32l4r5zitx") -> None:
    """Program `image` and reset the target; RunnerError with the reason when anything fails."""
    image = Path(image)
    if not image.is_file():
        raise RunnerError(f"firmware image {image} does not exist")
    suffix = image.suffix.lower()
    if suffix not in (".elf", ".hex", ".bin", ".axf"):
        raise RunnerError(f"{image}: unknown image format {suffix!r}; give an .elf, .hex or .bin")
    ConnectHelper, FileProgrammer = import_pyocd()
    session = ConnectHelper.session_with_chosen_probe(unique_id=probe, target_override=target, blocking=False)
    if session is None:
        raise RunnerError("no debug probe found; connect the NUCLEO's ST-LINK USB (or pass --probe ID)")
    try:
        with session:
            kwargs = {"base_address": FLASH_BASE} if suffix == ".bin" else {}
            FileProgrammer(session).program(str(image), **kwargs)
            session.target.reset()
    except Exception as e:  # pyocd raises many unrelated types; report them as one user error
        raise RunnerError(f"flashing {image} through pyocd failed: {e}") from None
    log.info("flashed %s", image)


def run(args: argparse.Namespace) -> int:
    flash(args.image, args.probe, args.target)
    print(f"flashed {args.image}")
    return 0
