"""A checked connection to a device under test: open the backend, reset, handshake, and make sure the
firmware runs the model of the task being benchmarked (and is not a placeholder build)."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from tinyperf.errors import ProtocolError, RunnerError
from tinyperf.runner.backends.base import Backend
from tinyperf.runner.protocol import DutClient, Profile
from tinyperf.runner.tasks import Task

log = logging.getLogger("tinyperf.runner.session")

#: Our firmware (profile "tinyperf-fw ...") takes commands of up to 1024 characters (firmware/include/
#: protocol.h, TP_CMD_MAX), so inputs go in 240-byte chunks (`db ` + 480 hex digits); any other firmware
#: gets the EEMBC-safe 32-byte chunks (80-character command buffer). 240-byte chunks load about a third
#: faster on the simulated board.
OWN_FIRMWARE = "tinyperf-fw"
OWN_CHUNK_BYTES = 240


@dataclass
class Session:
    """An open, verified DUT: use `client` for protocol commands, `backend` for edges and device time.
    `timeout_scale` multiplies every device-time estimate used as a timeout (host-time links to a
    simulator that runs slower than real time need more)."""

    backend: Backend
    client: DutClient
    task: Task
    dut_name: str
    profile: Profile

    @property
    def timeout_scale(self) -> float:
        return float(getattr(self.backend, "timeout_scale", 1.0))

    def close(self) -> None:
        self.backend.close()

    def __enter__(self) -> "Session":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def check_profile(profile: Profile, task: Task, *, allow_placeholder: bool = False) -> None:
    """ProtocolError when the firmware runs another task's model; RunnerError for a placeholder model
    unless explicitly allowed (results are then marked as not publishable)."""
    if profile.model != task.name:
        raise ProtocolError(
            f"the firmware reports model {profile.model!r} (profile: {list(profile.lines)}), "
            f"but the benchmark is for {task.name}; flash or build the {task.name} firmware"
        )
    if profile.placeholder:
        msg = (
            f"the firmware runs a PLACEHOLDER model instead of the {task.name} network "
            f"({profile.firmware!r}); its figures mean nothing and are not published"
        )
        if not allow_placeholder:
            raise RunnerError(
                msg + "; build it with the model compiler (tinyperf build --task "
                f"{task.name}) or pass --allow-placeholder for a dry run"
            )
        log.warning(msg)


def open_session(
    backend: Backend,
    task: Task,
    *,
    allow_placeholder: bool = False,
    retries: int = 2,
    command_timeout_s: float = 2.0,
) -> Session:
    """Open, reset and handshake; verify the model (see check_profile). Closes the backend on failure."""
    backend.open()
    try:
        backend.reset()
        scale = float(getattr(backend, "timeout_scale", 1.0))
        client = DutClient(backend.transport, retries=retries, command_timeout_s=command_timeout_s * scale)
        name = client.sync(boot_timeout_s=float(getattr(backend, "boot_timeout_s", 1.0)) * scale)
        profile = client.profile()
        check_profile(profile, task, allow_placeholder=allow_placeholder)
        if profile.firmware.startswith(OWN_FIRMWARE):
            client.chunk_bytes = OWN_CHUNK_BYTES
        log.info(
            "%s: DUT %r, firmware %r, model %s", backend.transport.name, name, profile.firmware, profile.model
        )
        return Session(backend, client, task, name, profile)
    except BaseException:
        backend.close()
        raise
