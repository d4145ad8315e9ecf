"""Serial lines: the only module that imports pyserial.

A `SerialLine` (alias `SerialBus`) is one physical port (an RS-232 instrument, or an RS-485
line several devices share), made by `gatewayd.buses.Buses` once per canonical port, so two
devices on one port share it and must agree on its framing. Devices take `line.lock` around a
transaction so two never interleave on the wire. When the port disappears (a USB adapter
unplugged) every pyserial error becomes a CommError naming the port, here and only here; the
line then reopens itself on later use, waiting an exponentially growing time between attempts
so a missing adapter is not hammered.
"""

from __future__ import annotations

import contextlib
import select
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import serial

from ..errors import CommError
from . import Bus
from .port_errors import explain


@dataclass(frozen=True)
class Framing:
    """How characters go on the wire."""

    baudrate: int = 9600
    bytesize: int = 8
    parity: str = "N"  # N, E, O, M, S
    stopbits: float = 1

    @property
    def text(self) -> str:
        return f"{self.baudrate} {self.bytesize}{self.parity}{self.stopbits:g}"


class Chunk(NamedTuple):
    """Bytes read up to a terminator (`complete`) or whatever came before the deadline."""

    data: bytes
    complete: bool


class Backoff:
    """Doubling delay between reopen attempts, reset by a success."""

    def __init__(self, min_s: float, max_s: float, clock: Callable[[], float]) -> None:
        self.min_s, self.max_s, self.clock = min_s, max_s, clock
        self.delay_s = 0.0
        self.next_try = 0.0

    def ready(self) -> bool:
        return self.clock() >= self.next_try

    def failed(self) -> None:
        self.delay_s = min(self.max_s, max(self.min_s, self.delay_s * 2))
        self.next_try = self.clock() + self.delay_s

    def succeeded(self) -> None:
        self.delay_s = 0.0
        self.next_try = 0.0


class SerialLine(Bus):
    """One port, opened lazily, reopened with backoff after it disappears."""

    kind = "plain serial"

    def __init__(
        self,
        key: str,
        port: str,
        framing: Framing,
        reopen_min_s: float = 0.5,
        reopen_max_s: float = 30.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        super().__init__(key, framing)
        self.port = port
        self.framing = framing
        self.opens = 0
        self._serial: serial.Serial | None = None
        self._buf = bytearray()
        self._backoff = Backoff(reopen_min_s, reopen_max_s, clock)

    @property
    def is_open(self) -> bool:
        return self._serial is not None

    def ensure_open(self) -> serial.Serial:
        """The open port; opens it if the backoff allows, else raises CommError."""
        if self._serial is not None:
            return self._serial
        if not self._backoff.ready():
            wait = self._backoff.next_try - self._backoff.clock()
            raise CommError(f"{self.port}: port gone, next reopen in {wait:.1f} s")
        try:
            self._serial = self._open()
        except (OSError, serial.SerialException, ValueError) as e:
            self._backoff.failed()
            raise CommError(explain(self.port, getattr(e, "errno", None), str(e))) from None
        self._backoff.succeeded()
        self.opens += 1
        return self._serial

    def _open(self) -> serial.Serial:
        f = self.framing
        s = serial.Serial(
            self.port, f.baudrate, bytesize=f.bytesize, parity=f.parity, stopbits=f.stopbits,
            timeout=0, write_timeout=1.0, exclusive=True,  # a second opener is told "busy"
        )
        s.reset_input_buffer()  # what piled up while nobody listened is stale
        self._buf.clear()
        return s

    def close(self) -> None:
        if self._serial is not None:
            with contextlib.suppress(OSError, serial.SerialException):
                self._serial.close()  # the port may be gone already; closing is all we want
            self._serial = None
        self._buf.clear()

    def _broken(self, what: str, err: Exception) -> CommError:
        """Close after an I/O failure so the next use reopens (after the backoff)."""
        self.close()
        self._backoff.failed()
        return CommError(f"{self.port}: {what} failed: {err}")

    def write(self, data: bytes) -> None:
        port = self.ensure_open()
        try:
            port.write(data)
            port.flush()
        except (OSError, serial.SerialException) as e:
            raise self._broken("write", e) from None

    def discard_input(self) -> None:
        """Forget unread bytes (before a poll, so an old reply is not taken for the new one)."""
        self._fill(0.0)
        self._buf.clear()

    def _fill(self, timeout_s: float) -> None:
        """Append what the port has; wait up to `timeout_s` for at least one byte."""
        port = self.ensure_open()
        try:
            # select rather than pyserial's timeout: setting that reconfigures the tty each time
            if select.select([port.fileno()], [], [], max(0.0, timeout_s))[0]:
                self._buf += port.read(max(1, port.in_waiting))
        except (OSError, serial.SerialException) as e:
            raise self._broken("read", e) from None

    def _wait(self, arrived: Callable[[], bool], timeout_s: float) -> bool:
        """Read until `arrived()` or the deadline; False when the deadline came first."""
        deadline = time.monotonic() + timeout_s
        while not arrived():
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            self._fill(left)
        return True

    def _take(self, n: int, skip: int = 0) -> bytes:
        data = bytes(self._buf[:n])
        del self._buf[: n + skip]
        return data

    def read_until(self, terminator: bytes, timeout_s: float) -> Chunk:
        """Bytes up to `terminator` (removed), or what arrived before the deadline."""
        if not self._wait(lambda: terminator in self._buf, timeout_s):
            return Chunk(self._take(len(self._buf)), False)
        return Chunk(self._take(self._buf.find(terminator), len(terminator)), True)

    def read_exactly(self, n: int, timeout_s: float) -> Chunk:
        """`n` bytes, or what arrived before the deadline."""
        if not self._wait(lambda: len(self._buf) >= n, timeout_s):
            return Chunk(self._take(len(self._buf)), False)
        return Chunk(self._take(n), True)

    def pending_until(self, terminator: bytes) -> list[bytes]:
        """Every complete piece already received (free-running instruments), without waiting."""
        self._fill(0.0)
        pieces = []
        while (end := self._buf.find(terminator)) >= 0:
            pieces.append(self._take(end, len(terminator)))
        return pieces


SerialBus = SerialLine
