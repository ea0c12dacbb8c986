"""UART host endpoints: a real pseudo-terminal driven with pyserial, a real TCP socket, the in-process
stream; the simulated side is the LPUART1 model with a firmware-like echo loop."""

import socket
import time

import pytest
import serial

from test_peripherals_uart import ISR, RDR, RXNE, TDR, lpuart_at
from tinyperf.sim.uart_host import UartHost

pytestmark = pytest.mark.unit


def echo_until(b, host, count, host_seconds=5.0):
    """Run the simulation like the board's run loop, echoing every received byte as polled firmware
    would, until `count` bytes went out (or a host-time limit)."""
    deadline = time.monotonic() + host_seconds
    while len(host.stream.received) < count and time.monotonic() < deadline:
        if not host.poll() and not b.models["LPUART1"].rx_pending() and not b.read(ISR) & RXNE:
            host.wait(0.05)                      # firmware idle: block in host time for input
        b.run(400)                               # polls faster than one frame (1302 cycles)
        if b.read(ISR) & RXNE:
            b.write(TDR, b.read(RDR))
    b.run(20_000)                                # let the last byte finish shifting out
    host.poll()


def test_pty_round_trip_with_pyserial():
    b = lpuart_at(0x823)
    host = UartHost(b.models["LPUART1"])
    path = host.open_pty()
    try:
        with serial.Serial(path, 921_600, timeout=2) as port:
            port.write(b"name%\n")
            port.flush()
            echo_until(b, host, 6)
            assert port.read(6) == b"name%\n"
    finally:
        host.close()
    assert bytes(host.stream.received) == b"name%\n"


def test_pty_wait_blocks_until_input():
    b = lpuart_at(0x823)
    host = UartHost(b.models["LPUART1"])
    path = host.open_pty()
    try:
        with serial.Serial(path, 115_200, timeout=1) as port:
            assert host.wait(0.01) is False
            port.write(b"x")
            port.flush()
            assert host.wait(2.0) is True
            assert host.poll() == 1
    finally:
        host.close()


def test_tcp_round_trip():
    b = lpuart_at(0x823)
    host = UartHost(b.models["LPUART1"])
    port = host.open_tcp(0)
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as client:
            client.sendall(b"ping")
            echo_until(b, host, 4)
            got = b""
            while len(got) < 4:
                got += client.recv(16)
            assert got == b"ping"
    finally:
        host.close()


def test_in_process_stream_is_deterministic():
    def run_once():
        b = lpuart_at(0x411B)
        host = UartHost(b.models["LPUART1"])
        arrivals = []
        b.models["LPUART1"].tx_listeners.append(lambda data: arrivals.append(b.cycles))
        host.stream.send(b"abc")
        echo_until(b, host, 3)
        return host.stream.read(), arrivals

    first, second = run_once(), run_once()
    assert first == second and first[0] == b"abc"
