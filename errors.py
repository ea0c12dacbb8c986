"""One exception tree for tinyperf. Messages give the fact, the value and the remedy."""


class TinyperfError(Exception):
    """Base of every error tinyperf reports to the user (exit code 1, no traceback unless -v)."""


class PlatformError(TinyperfError):
    """A board description is missing, malformed or inconsistent."""


class SimError(TinyperfError):
    """The simulated board could not run the firmware."""


class LoaderError(SimError):
    """A firmware image (ELF, Intel HEX, raw .bin) is corrupt or does not fit the board's memory."""


class BusFault(SimError):
    """An access to an address no memory or peripheral answers (with --strict: any unmodelled address)."""


class FirmwareFault(SimError):
    """The firmware faulted (HardFault with no handler progress, lockup, invalid instruction)."""


class SimTimeout(SimError):
    """The firmware exceeded its simulated-time or host-time limit."""


class BuildError(TinyperfError):
    """Firmware could not be built (no toolchain, compiler error)."""


class CompileError(TinyperfError):
    """A .tflite model cannot be compiled (unsupported operator, type or quantization)."""


class RunnerError(TinyperfError):
    """The benchmark procedure failed (protocol error, bad dataset, device error reply)."""


class ProtocolError(RunnerError):
    """The device answered something the EEMBC / MLPerf Tiny protocol does not allow."""


class SerialTimeout(RunnerError):
    """The device did not answer within the time limit."""


class DatasetError(RunnerError):
    """A dataset directory is missing, truncated or malformed."""
