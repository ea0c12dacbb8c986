"""The built firmware on the simulated NUCLEO-L4R5ZI: clock and UART set-up read back from the peripheral
models against RM0432, every protocol command and error path over the console byte stream, a full
load/infer/results round trip per task compared with the tflite-micro interpreter on the same input,
the same protocol through the board's pty with pyserial, and an energy-mode build (USART3 at 9600 baud,
timestamp pin PF13)."""

from __future__ import annotations

import hashlib
import re
import threading

import numpy as np
import pytest
from tinyperf.firmware.build import TASKS, build_firmware
from tinyperf.sim import SimBoard
from tinyperf.sim.console import ConsoleStream

pytestmark = pytest.mark.sim

HCLK_HZ = 120_000_000
LAP_RE = re.compile(r"^m-lap-us-(\d+)$")
CHUNK = 480          # bytes per `db` command: "db " + 960 hex digits < 1024 characters


@pytest.fixture(scope="module")
def build(models_dir):
    cache = {}

    def get(task: str, **kwargs):
        kwargs.setdefault("toolchain", "gcc")
        key = (task, tuple(sorted((k, str(v)) for k, v in kwargs.items())))
        if key not in cache:
            model = kwargs.pop("model", models_dir / TASKS[task].model_file)
            cache[key] = build_firmware(task, model=model, **kwargs)
        return cache[key]
    return get


class Device:
    """Protocol helper over a ConsoleStream: `cmd()` sends a command and returns the reply lines before
    its m-ready."""

    def __init__(self, board: SimBoard, stream: ConsoleStream | None = None):
        self.board = board
        self.stream = stream or board.console

    def boot(self) -> list[str]:
        return self._lines(self.stream.expect(b"m-ready\r\n", timeout_s=1.0))

    @staticmethod
    def _lines(raw: bytes) -> list[str]:
        text = raw.decode("ascii")
        assert text.endswith("m-ready\r\n"), text
        return text.split("\r\n")[:-2]

    def cmd(self, text: str, timeout_s: float = 5.0) -> list[str]:
        self.stream.send(text.encode("latin-1") + b"%")
        lines = self._lines(self.stream.expect(b"m-ready\r\n", timeout_s=timeout_s))
        assert "m-ready" not in lines
        return lines

    def load(self, data: bytes) -> None:
        assert self.cmd(f"db load {len(data)}") == [f"m-[Expecting {len(data)} bytes]"]
        for i in range(0, len(data), CHUNK):
            reply = self.cmd("db " + data[i:i + CHUNK].hex())
            assert reply == (["m-load-done"] if i + CHUNK >= len(data) else []), reply


@pytest.fixture(scope="module")
def kws_board(build):
    board = SimBoard.from_image(build("kws01").elf)
    dev = Device(board)
    dev.banner = dev.boot()
    yield dev
    board.close()


# ----------------------------------------------------------------------------- hardware set-up

def test_clock_flash_power_and_uart_setup(kws_board):
    """After boot the peripheral models hold what RM0432 prescribes for 120 MHz (range 1 boost, 5 wait
    states, ART on) and the console runs at 115200 baud."""
    b = kws_board.board
    assert b.clock_hz("SYSCLK") == HCLK_HZ and b.clock_hz("HCLK") == HCLK_HZ
    assert b.clock_hz("PCLK1") == HCLK_HZ
    acr = b.peripheral("FLASH_R").read(0x00, 4)
    assert acr & 0xF == 5                                  # LATENCY = 5 WS [RM0432 3.3.3 table 12]
    assert acr & (1 << 8) and acr & (1 << 9) and acr & (1 << 10)   # PRFTEN ICEN DCEN
    pwr = b.peripheral("PWR")
    assert (pwr.read(0x00, 4) >> 9) & 3 == 1               # VOS = range 1
    assert not pwr.read(0x80, 4) & (1 << 8)                # R1MODE = 0: boost
    assert pwr.read(0x04, 4) & (1 << 9)                    # IOSV: VDDIO2 valid for port G
    assert b.uart("LPUART1").baud() == pytest.approx(115200, rel=1e-3)
    gpiog = b.peripheral("GPIOG")
    moder, afrl, afrh = gpiog.read(0x00, 4), gpiog.read(0x20, 4), gpiog.read(0x24, 4)
    assert (moder >> 14) & 3 == 2 and (moder >> 16) & 3 == 2   # PG7, PG8 alternate function
    assert (afrl >> 28) & 0xF == 8 and afrh & 0xF == 8         # AF8 = LPUART1


def test_boot_banner_name_profile_help(kws_board, models_dir):
    dev = kws_board
    assert dev.banner[0] == "m-timestamp-mode-performance"
    assert LAP_RE.match(dev.banner[1]) and dev.banner[2] == "m-init-done"
    assert dev.cmd("name") == ["m-name-dut-[tinyperf]"]
    md5 = hashlib.md5((models_dir / "kws_ref_model.tflite").read_bytes()).hexdigest()
    profile = dev.cmd("profile")
    assert profile[0].startswith("m-profile-[tinyperf-fw") and "PLACEHOLDER" not in profile[0]
    assert profile[1:] == ["m-model-[kws01]", f"m-model-md5-[{md5}]"]
    help_lines = dev.cmd("help")
    assert any(line.startswith("infer N [W]") for line in help_lines)


def test_timestamps_follow_simulated_time(kws_board):
    """m-lap-us comes from TIM2 at 1 MHz: the difference of two timestamps equals the simulated time
    between them (the cycle counter at 120 MHz) to within one UART frame time."""
    dev = kws_board
    t1 = int(LAP_RE.match(dev.cmd("timestamp")[0]).group(1))
    s1 = dev.board.seconds
    dev.board.run(max_seconds=0.25, limit_is_error=False)
    t2 = int(LAP_RE.match(dev.cmd("timestamp")[0]).group(1))
    s2 = dev.board.seconds
    assert t2 - t1 == pytest.approx((s2 - s1) * 1e6, abs=200)      # one UART frame of jitter: 87 us
    assert t2 - t1 > 250_000


# ------------------------------------------------------------------------------- error paths

def test_error_paths(kws_board):
    dev = kws_board
    assert dev.cmd("bogus") == ["e-[Unknown command: bogus]"]
    assert dev.cmd("results") == ["e-[No results: run infer first]"]      # nothing inferred on this board
    assert dev.cmd("db 00") == ["e-[No buffer: send db load N first]"]
    assert dev.cmd("db load 100000") == ["e-[Buffer size 100000 exceeds the maximum of 490 bytes]"]
    assert dev.cmd("db load x") == ["e-[Invalid buffer size: x]"]
    assert dev.cmd("db load 4") == ["m-[Expecting 4 bytes]"]
    assert dev.cmd("db 123") == ["e-[Odd number of hex digits: 123]"]
    assert dev.cmd("db 12zz") == ["e-[Invalid hex digit: z]"]
    assert dev.cmd("db 01020304") == ["m-load-done"]
    assert dev.cmd("db 05") == ["e-[Buffer overrun: the buffer is already full; data ignored]"]
    assert dev.cmd("db print") == ["m-buffer-01-02-03-04"]
    assert dev.cmd("infer 0") == ["e-[Inference iterations must be >0]"]
    assert dev.cmd("infer 1 1") == ["e-[Input not loaded: need 490 bytes (db load 490), have 4 of 4]"]
    assert dev.cmd("db load 2") == ["m-[Expecting 2 bytes]"]
    assert dev.cmd("db 0a0b0c") == ["m-load-done", "e-[Buffer overrun: 1 bytes beyond the 2-byte buffer ignored]"]
    assert dev.cmd("x" * 1500) == ["e-[Command too long: more than 1024 characters; ignored]"]
    assert dev.cmd("") == []
    # garbage bytes, then the device still answers
    dev.stream.send(bytes(range(1, 256)).replace(b"%", b""))
    dev.stream.send(b"%")
    lines = Device._lines(dev.stream.expect(b"m-ready\r\n", timeout_s=2.0))
    assert len(lines) == 1 and lines[0].startswith("e-[")
    assert dev.cmd("name") == ["m-name-dut-[tinyperf]"]


def test_receive_overflow_is_reported_not_fatal(kws_board, samples_dir):
    """More than the 4096-byte receive ring arrives while the device is busy inferring: bytes are lost,
    the next command's reply starts with how many, and the protocol carries on."""
    dev = kws_board
    dev.load((samples_dir / "kws01" / "sample_000.bin").read_bytes())
    flood = b"x" * 6000                       # 6000 bytes at 115200 baud: 0.52 s; the ring is full after 0.36 s
    dev.stream.send(b"infer 40 0%" + flood)   # busy for >= 0.8 s as long as an inference takes >= 20 ms
    lines = Device._lines(dev.stream.expect(b"m-ready\r\n", timeout_s=5.0))
    assert lines[-1].startswith("m-results-[")
    dev.stream.send(b"%")                     # ends the flooded command once the device reads again
    rest = Device._lines(dev.stream.expect(b"m-ready\r\n", timeout_s=5.0))
    lost = re.fullmatch(r"e-\[Receive overflow: (\d+) bytes lost\]", rest[0])
    assert lost and 0 < int(lost.group(1)) < len(flood), rest
    assert rest[1:] == ["e-[Command too long: more than 1024 characters; ignored]"]
    assert dev.cmd("name") == ["m-name-dut-[tinyperf]"]


# ------------------------------------------------------------------------------- round trips

def _reference(task: str, model_path, host_bytes: bytes):
    """tflite-micro's output for the input the firmware derives from `host_bytes`, as the firmware
    should print it: (list of result strings, quantized int8 input)."""
    from tflite_micro.python.tflite_micro import runtime

    interp = runtime.Interpreter.from_bytes(model_path.read_bytes())
    din, dout = interp.get_input_details(0), interp.get_output_details(0)
    s_in = np.float32(din["quantization_parameters"]["scales"][0])
    z_in = int(din["quantization_parameters"]["zero_points"][0])
    s_out = np.float32(dout["quantization_parameters"]["scales"][0])
    z_out = int(dout["quantization_parameters"]["zero_points"][0])
    raw = np.frombuffer(host_bytes, dtype=np.uint8)
    if task == "kws01":
        q = raw.view(np.int8)
    elif task in ("vww01", "ic01"):
        q = (raw.astype(np.int16) - 128).astype(np.int8)
    else:
        t = np.frombuffer(host_bytes, dtype="<f4") / s_in
        q = np.clip(np.sign(t) * np.floor(np.abs(t) + np.float32(0.5)) + z_in, -128, 127).astype(np.int8)
    interp.set_input(q.reshape(din["shape"]), 0)
    interp.invoke()
    y = interp.get_output(0).reshape(-1).astype(np.int32)
    deq = ((y - z_out).astype(np.float32) * s_out).astype(np.float32)
    if task != "ad01":
        return [f"{v:.3f}" for v in deq], q
    x = ((q.astype(np.int32) - z_in).astype(np.float32) * s_in).astype(np.float32)
    d = (x - deq).astype(np.float32)
    mse = np.float32(np.cumsum(d * d, dtype=np.float32)[-1] / np.float32(len(d)))
    return [f"{mse:.3f}"], q


def _input(task: str, samples_dir) -> bytes:
    if task == "kws01":
        return (samples_dir / "kws01" / "sample_000.bin").read_bytes()
    if task == "ad01":
        return (samples_dir / "ad01" / "normal_id_01_00000000_hist_librosa.bin").read_bytes()[:2560]
    rng = np.random.default_rng(2024)
    n = TASKS[task].input_bytes
    side = 96 if task == "vww01" else 32
    # a smooth image with noise (not a constant), deterministic
    yy, xx = np.mgrid[0:side, 0:side]
    base = np.stack([(xx * 255 // side), (yy * 255 // side), ((xx + yy) * 127 // side)], axis=-1)
    img = np.clip(base + rng.integers(-40, 40, base.shape), 0, 255).astype(np.uint8)
    assert img.size == n
    return img.tobytes()


def _zig_or_skip():
    from tinyperf.errors import BuildError
    from tinyperf.firmware.toolchain import find_toolchain
    try:
        find_toolchain("zig")
    except BuildError as e:
        pytest.skip(str(e))


@pytest.mark.parametrize("task, toolchain", [(t, "gcc") for t in TASKS] + [("kws01", "zig"), ("ad01", "zig")])
def test_round_trip_matches_tflite_micro(task, toolchain, build, models_dir, samples_dir):
    if toolchain == "zig":
        _zig_or_skip()
    image = build(task, toolchain=toolchain)
    board = SimBoard.from_image(image.elf)
    dev = Device(board)
    dev.boot()
    data = _input(task, samples_dir)
    dev.load(data)
    assert dev.cmd("db print 8 0") == ["m-buffer-" + "-".join(f"{b:02x}" for b in data[:8])]
    lines = dev.cmd("infer 1 0", timeout_s=5.0)
    assert lines[:3] == ["m-warmup-start-0", "m-warmup-done", "m-infer-start-1"]
    t0, t1 = (int(LAP_RE.match(x).group(1)) for x in lines[3:5])
    assert lines[5] == "m-infer-done"
    got = re.fullmatch(r"m-results-\[(.*)\]", lines[6]).group(1).split(",")
    want, _ = _reference(task, models_dir / TASKS[task].model_file, data)
    if task == "ad01":
        assert float(got[0]) == pytest.approx(float(want[0]), abs=0.0015)
        assert float(got[0]) > 0
    else:
        assert got == want
        assert abs(sum(map(float, got)) - 1.0) < 0.02      # softmax probabilities
    assert t1 > t0
    assert dev.cmd("results") == [lines[6]]
    # stack high-water mark (SRAM starts zeroed; the stack is the first 16 KB of SRAM1): well inside
    stack = board.platform.raw["firmware"]["stack_bytes"]
    mem = bytes(board.uc.mem_read(board.platform.region("SRAM1").base, stack))
    used = stack - next((i for i in range(0, stack, 4) if mem[i:i + 4] != bytes(4)), stack)
    assert 256 < used < stack // 2, used
    if task == "kws01":
        assert got[5] == "0.996"          # the sample is class 5 ("on") with int8 output 127
    board.close()


# --------------------------------------------------------------------------- pty + pyserial

def test_protocol_over_pty_with_pyserial(build, samples_dir, models_dir):
    import serial

    image = build("kws01")
    board = SimBoard.from_image(image.elf)
    path = board.uart_host("LPUART1").open_pty()
    stop = threading.Event()
    errors: list[BaseException] = []

    def run():
        try:
            board.run(max_seconds=120.0, stop_when=stop.is_set, host_timeout_s=120.0, limit_is_error=False)
        except Exception as e:   # noqa: BLE001 - reported by the test thread
            errors.append(e)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    try:
        port = serial.Serial(path, 115200, timeout=30)

        def read_until_ready() -> list[str]:
            out = port.read_until(b"m-ready\r\n")
            assert out.endswith(b"m-ready\r\n"), (out, errors)
            return out.decode().split("\r\n")[:-2]

        assert read_until_ready()[-1] == "m-init-done"
        for cmd, want in (("name", ["m-name-dut-[tinyperf]"]), ("bogus", ["e-[Unknown command: bogus]"]),
                          ("results", ["e-[No results: run infer first]"]),
                          ("db load 490", ["m-[Expecting 490 bytes]"]), ("db 0g", ["e-[Invalid hex digit: g]"]),
                          ("db 012", ["e-[Odd number of hex digits: 012]"]),
                          ("infer 0", ["e-[Inference iterations must be >0]"]),
                          ("infer 1 0", ["e-[Input not loaded: need 490 bytes (db load 490), have 0 of 490]"])):
            port.write(cmd.encode() + b"%")
            assert read_until_ready() == want
        port.write(b"profile%timestamp%")
        lines = read_until_ready() + read_until_ready()
        assert lines[1:3] == ["m-model-[kws01]", f"m-model-md5-[{image.model_md5}]"]
        assert LAP_RE.match(lines[3])
        data = (samples_dir / "kws01" / "sample_000.bin").read_bytes()
        for i in range(0, len(data), CHUNK):
            port.write(b"db " + data[i:i + CHUNK].hex().encode() + b"%")
            read_until_ready()
        port.write(b"infer 1 0%")
        lines = read_until_ready()
        want, _ = _reference("kws01", models_dir / "kws_ref_model.tflite", data)
        assert lines[-1] == "m-results-[" + ",".join(want) + "]"
        port.write(b"db print 8 482%db 00%")
        assert read_until_ready() == ["m-buffer-" + "-".join(f"{b:02x}" for b in data[482:])]
        assert read_until_ready() == ["e-[Buffer overrun: the buffer is already full; data ignored]"]
        port.close()
    finally:
        stop.set()
        thread.join(timeout=30)
        board.close()
    assert not errors, errors


# ------------------------------------------------------------------------------ energy mode

def test_energy_mode_usart3_and_timestamp_pin(build):
    image = build("kws01", model="placeholder", mode="energy")
    board = SimBoard.from_image(image.elf)
    usart3 = ConsoleStream(board, board.uart_host("USART3"))
    edges: list[tuple[int, int]] = []
    board.peripheral("GPIOF").listeners.append(
        lambda pin, level, cycles: edges.append((level, cycles)) if pin == "PF13" else None)
    dev = Device(board, usart3)
    banner = dev.boot()
    assert banner == ["m-timestamp-mode-energy", "m-init-done"]          # no m-lap-us in energy mode
    assert board.uart("USART3").baud() == pytest.approx(9600, rel=1e-3)
    assert board.uart("LPUART1").baud() == 0
    levels = [lvl for lvl, _ in edges]                                      # boot: the line ends high
    assert levels[-2:] == [0, 1] and levels.count(0) == 1, levels
    edges.clear()
    assert dev.cmd("timestamp") == []
    assert [lvl for lvl, _ in edges] == [0, 1]
    width_us = (edges[1][1] - edges[0][1]) / HCLK_HZ * 1e6
    assert 1.0 <= width_us <= 5.0
    edges.clear()
    dev.load(bytes(range(256)) + bytes(234))
    lines = dev.cmd("infer 2 1", timeout_s=5.0)
    assert lines[:3] == ["m-warmup-start-1", "m-warmup-done", "m-infer-start-2"]
    assert lines[3] == "m-infer-done" and lines[4].startswith("m-results-[")
    falls = [c for lvl, c in edges if lvl == 0]
    assert len(falls) == 2                                                  # start and end of the timed run
    profile = dev.cmd("profile")
    assert "PLACEHOLDER" in profile[0]
    board.close()
