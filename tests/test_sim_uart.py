"""LPUART1 interrupt-driven echo through the in-process console and through a pty with pyserial."""

from __future__ import annotations

import threading

import pytest
from sim_support import boot, build, read_u32

pytestmark = pytest.mark.sim


@pytest.fixture(scope="session")
def fw_echo(tmp_path_factory):
    return build("fw_echo", tmp_path_factory.mktemp("simfw_echo"))


@pytest.mark.parametrize("mailbox,baud", [(0, 115200), (1, 921600)])
def test_echo_console_stream(fw_echo, mailbox, baud):
    """Bytes sent through the console come back; 10 bits per frame (8N1) at the BRR baud rate
    (256 * 7.5 MHz / BRR [RM0432 52.4.7]) bound the simulated time the echo takes."""
    board = boot(fw_echo, mailbox)
    assert board.console.expect(b"ready\r\n", timeout_s=0.5) == b"ready\r\n"
    brr = 0x823 if mailbox else 0x411B
    assert board.uart("LPUART1").baud() == pytest.approx(256 * 7_500_000 / brr)
    message = b"hello, board 0123456789!"
    t0 = board.seconds
    board.console.send(message)
    assert board.console.expect(b"!", timeout_s=0.5) == message
    frame_s = 10 / baud
    # every byte is received (one frame) then sent (one frame); the echo overlaps reception
    assert len(message) * frame_s <= board.seconds - t0 <= (len(message) + 3) * frame_s
    assert board.run(max_seconds=0.1) == "exit"
    assert read_u32(board, "rx_count")[0] == len(message)


@pytest.mark.parametrize("mailbox,baud", [(0, 115200), (1, 921600)])
def test_echo_through_pty(fw_echo, mailbox, baud):
    """A serial program (pyserial) talks to the simulated board through the pty as to /dev/ttyACM0."""
    serial = pytest.importorskip("serial")
    board = boot(fw_echo, mailbox)
    path = board.uart_host("LPUART1").open_pty()
    result: dict = {}
    done = threading.Event()

    def simulate():
        try:
            result["reason"] = board.run(max_seconds=5.0, host_timeout_s=60)
        except Exception as e:  # noqa: BLE001 - reported by the test thread
            result["error"] = e
        finally:
            done.set()

    port = serial.Serial(path, baudrate=baud, timeout=20)
    thread = threading.Thread(target=simulate, daemon=True)
    thread.start()
    try:
        assert port.read_until(b"ready\r\n") == b"ready\r\n"
        port.write(b"ping over pty!")
        assert port.read_until(b"!") == b"ping over pty!"
    finally:
        done.wait(60)
        port.close()
        board.close()
    assert result.get("error") is None, result.get("error")
    assert result["reason"] == "exit"


def test_uart_determinism(fw_echo):
    """Two runs with the same input give identical output bytes and identical cycle counts."""
    runs = []
    for _ in range(2):
        board = boot(fw_echo, 1)
        out = board.console.expect(b"ready\r\n", timeout_s=0.5)
        board.console.send(b"deterministic!")
        out += board.console.expect(b"!", timeout_s=0.5)
        board.run(max_seconds=0.1)
        runs.append((out, board.cycles, board.counter.instructions))
    assert runs[0] == runs[1]
    assert runs[0][0] == b"ready\r\ndeterministic!"
