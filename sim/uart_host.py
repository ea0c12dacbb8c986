"""Host endpoints of a simulated UART: an in-process byte stream, a pseudo-terminal and a TCP socket.

Bytes the device transmits reach every endpoint the moment the UART model finishes shifting them out (its
`tx_listeners`). Bytes from the host are read only when the run loop calls `poll()` and then go to the
model's receive queue (`uart.host_send`), which delivers them one per frame time in *simulated* time; the
host's own timing never reaches the model. Over the in-process stream the arrival cycle is fully
deterministic; over a pty or TCP it is the cycle of the `poll()` that picked the bytes up.

Lifecycle (the board's run loop drives it):
  1. ``host = UartHost(uart)``; attaches to ``uart.tx_listeners``. ``host.stream`` always exists.
  2. ``host.open_pty()`` -> "/dev/pts/N" (raw mode; any serial program or pyserial opens it as it would
     /dev/ttyACM0) and/or ``host.open_tcp(port=0)`` -> the port bound on 127.0.0.1 (0 picks one).
  3. At every run-loop stop: ``host.poll()`` (non-blocking: moves host bytes into the UART, flushes
     device output).
  4. When the firmware sleeps with no simulated event pending (WFI, nothing scheduled), the run loop
     calls ``host.wait(timeout_s)``: it blocks in host time until a host byte is readable (True) or the
     timeout passes (False), then ``poll()`` as in 3.
  5. ``host.close()``.
"""

from __future__ import annotations

import errno
import logging
import os
import select
import socket
import tty
from collections import deque
from typing import Protocol

log = logging.getLogger("tinyperf.sim.uart_host")

MAX_BUFFERED = 1 << 20      # bytes of device output kept for a host endpoint nobody reads (then dropped)


class UartModel(Protocol):
    tx_listeners: list

    def host_send(self, data: bytes) -> None: ...


class ByteStream:
    """In-process endpoint: `send(data)` queues bytes for the device at the current simulated cycle;
    `received` accumulates everything the device transmitted; `read()` returns and forgets it."""

    def __init__(self, uart: UartModel):
        self.uart = uart
        self.received = bytearray()

    def send(self, data: bytes) -> None:
        self.uart.host_send(bytes(data))

    def read(self) -> bytes:
        data, self.received = bytes(self.received), bytearray()
        return data

    def _device_output(self, data: bytes) -> None:
        self.received += data


class _FdEndpoint:
    """An endpoint backed by a non-blocking file descriptor, with an output buffer."""

    def __init__(self):
        self.out = bytearray()
        self.dropped = 0

    def _device_output(self, data: bytes) -> None:
        self.out += data
        if len(self.out) > MAX_BUFFERED:
            excess = len(self.out) - MAX_BUFFERED
            del self.out[:excess]
            self.dropped += excess
        self.flush()

    def flush(self) -> None:
        raise NotImplementedError

    def read_available(self) -> bytes:
        raise NotImplementedError

    def filenos(self) -> list[int]:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class PtyEndpoint(_FdEndpoint):
    """A pseudo-terminal. `path` is the device a serial program opens. The slave side is kept open by
    this process (in raw mode, no echo) so the pty survives clients opening and closing it."""

    def __init__(self):
        super().__init__()
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        os.set_blocking(self.master, False)
        self.path = os.ttyname(self.slave)

    def flush(self) -> None:
        while self.out:
            try:
                n = os.write(self.master, self.out)
            except BlockingIOError:
                return
            except OSError as e:
                if e.errno in (errno.EIO, errno.EAGAIN):
                    return
                raise
            del self.out[:n]

    def read_available(self) -> bytes:
        chunks = []
        while True:
            try:
                chunk = os.read(self.master, 4096)
            except (BlockingIOError, InterruptedError):
                break
            except OSError as e:
                if e.errno == errno.EIO:         # no process has the slave open
                    break
                raise
            if not chunk:
                break
            chunks.append(chunk)
        return b"".join(chunks)

    def filenos(self) -> list[int]:
        return [self.master]

    def close(self) -> None:
        for fd in (self.master, self.slave):
            try:
                os.close(fd)
            except OSError:
                pass


class TcpEndpoint(_FdEndpoint):
    """A TCP server on 127.0.0.1 with one client at a time (a newer connection replaces the older)."""

    def __init__(self, port: int = 0, host: str = "127.0.0.1"):
        super().__init__()
        self.server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.server.bind((host, port))
        self.server.listen(1)
        self.server.setblocking(False)
        self.port = self.server.getsockname()[1]
        self.client: socket.socket | None = None

    def _accept(self) -> None:
        try:
            conn, addr = self.server.accept()
        except BlockingIOError:
            return
        conn.setblocking(False)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        if self.client is not None:
            self.client.close()
        self.client = conn
        log.info("UART TCP client connected from %s:%d", *addr)

    def flush(self) -> None:
        if self.client is None:
            self._accept()
        while self.out and self.client is not None:
            try:
                n = self.client.send(self.out)
            except BlockingIOError:
                return
            except OSError:
                self._drop_client()
                return
            del self.out[:n]

    def _drop_client(self) -> None:
        if self.client is not None:
            self.client.close()
            self.client = None

    def read_available(self) -> bytes:
        self._accept()
        chunks = []
        while self.client is not None:
            try:
                chunk = self.client.recv(4096)
            except BlockingIOError:
                break
            except OSError:
                self._drop_client()
                break
            if not chunk:
                self._drop_client()
                break
            chunks.append(chunk)
        return b"".join(chunks)

    def filenos(self) -> list[int]:
        fds = [self.server.fileno()]
        if self.client is not None:
            fds.append(self.client.fileno())
        return fds

    def close(self) -> None:
        self._drop_client()
        self.server.close()


class UartHost:
    """All host endpoints of one UART model (see the module docstring for the call order)."""

    def __init__(self, uart: UartModel):
        self.uart = uart
        self.stream = ByteStream(uart)
        self.endpoints: list[_FdEndpoint] = []
        self.recent = deque(maxlen=4096)        # last device output bytes, for fault reports
        uart.tx_listeners.append(self._device_output)

    def open_pty(self) -> str:
        """Open a pseudo-terminal; returns the path a serial program opens."""
        endpoint = PtyEndpoint()
        self.endpoints.append(endpoint)
        log.info("UART %s on pty %s", getattr(self.uart, "name", "?"), endpoint.path)
        return endpoint.path

    def open_tcp(self, port: int = 0) -> int:
        """Listen on 127.0.0.1:`port` (0 = any free port); returns the bound port."""
        endpoint = TcpEndpoint(port)
        self.endpoints.append(endpoint)
        log.info("UART %s on tcp 127.0.0.1:%d", getattr(self.uart, "name", "?"), endpoint.port)
        return endpoint.port

    def _device_output(self, data: bytes) -> None:
        self.recent.extend(data)
        self.stream._device_output(data)
        for endpoint in self.endpoints:
            endpoint._device_output(data)

    def poll(self) -> int:
        """Move bytes the host wrote into the UART's receive queue and flush device output; returns the
        number of host bytes taken. Never blocks."""
        taken = 0
        for endpoint in self.endpoints:
            endpoint.flush()
            data = endpoint.read_available()
            if data:
                taken += len(data)
                self.uart.host_send(data)
        return taken

    def filenos(self) -> list[int]:
        return [fd for endpoint in self.endpoints for fd in endpoint.filenos()]

    def wait(self, timeout_s: float) -> bool:
        """Block (host time) until some endpoint has input or `timeout_s` passes; True if input is ready.
        With no pty/TCP endpoint there is nothing to wait for: returns False at once."""
        fds = self.filenos()
        if not fds:
            return False
        readable, _, _ = select.select(fds, [], [], max(0.0, timeout_s))
        return bool(readable)

    def close(self) -> None:
        for endpoint in self.endpoints:
            endpoint.close()
        self.endpoints.clear()
        if self._device_output in self.uart.tx_listeners:
            self.uart.tx_listeners.remove(self._device_output)
