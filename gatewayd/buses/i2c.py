"""I2C adapters: the only module that touches smbus2 handles.

An `I2CBus` is one adapter (/dev/i2c-N). It opens its handle from the process's backend once,
on first use, and closes it once, when the supervisor closes its buses. Every chip on it gets
an `I2CDevice` (port) that holds the bus's one lock around each transaction, so two devices
never interleave multi-step exchanges (an ADS1115 write-config / wait / read-result), and
turns OSError into CommError naming the chip, address and bus, here and only here.
"""

from __future__ import annotations

import errno
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ..errors import CommError
from ..model import Quality
from . import Bus
from .backend import Backend, Hardware

BusSpec = int | str  # a number, or any label a test gives a bus handle of its own
_NACK = {errno.ENXIO, errno.EREMOTEIO}  # how Linux adapters report a missing ACK


def bus_name(spec: BusSpec) -> str:
    """`i2c-1` for bus 1: the bus key and the name in messages."""
    return f"i2c-{spec}" if isinstance(spec, int) else spec


def open_bus(number: int, backend: Backend | None = None) -> Any:
    """The handle of /dev/i2c-<number> from the backend (the hardware by default)."""
    try:
        return (backend or Hardware()).open_i2c(number)
    except OSError as e:
        raise CommError(f"i2c-{number}: cannot open /dev/i2c-{number}: {e.strerror}") from None


class I2CBus(Bus):
    """One adapter: its handle (opened once), its lock, and a port per chip."""

    kind = "I2C"

    def __init__(self, number: int, backend: Backend | None = None, handle: Any = None) -> None:
        super().__init__(bus_name(number))
        self.number = number
        self.backend = backend or Hardware()
        self._handle = handle
        self._given = handle is not None  # a handle a test passed in stays the test's
        self.opens = 0

    def handle(self) -> Any:
        """The open handle; opened on first use (CommError when the adapter is missing)."""
        with self.lock:
            if self._handle is None:
                self._handle = open_bus(self.number, self.backend)
                self.opens += 1
            return self._handle

    def port(self, address: int, chip: str) -> I2CDevice:
        return I2CDevice(self.handle(), self.number, address, chip, self.lock)

    def close(self) -> None:
        with self.lock:
            if self._handle is not None and not self._given:
                self._handle.close()
                self._handle = None


class I2CDevice:
    """One chip at one address: register reads/writes under the bus lock, errors translated."""

    def __init__(self, bus: Any, spec: BusSpec, address: int, chip: str,
                 lock: threading.RLock | None = None) -> None:
        self.bus = bus
        self.address = address
        self.lock = lock or threading.RLock()
        self.label = f"{chip} 0x{address:02x} on {bus_name(spec)}"

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """Hold the bus for a multi-step exchange; an OSError inside becomes a CommError."""
        with self.lock:
            try:
                yield
            except OSError as e:
                raise _translate(e, self.label) from None

    def read(self, register: int, length: int) -> bytes:
        with self.transaction():
            return bytes(self.bus.read_i2c_block_data(self.address, register, length))

    def write(self, register: int, data: bytes) -> None:
        with self.transaction():
            self.bus.write_i2c_block_data(self.address, register, list(data))


I2CPort = I2CDevice


def _translate(e: OSError, label: str) -> CommError:
    if e.errno in _NACK:
        return CommError(f"{label}: NACK ({e.strerror or 'no acknowledge'})")
    if e.errno == errno.ETIMEDOUT:
        return CommError(f"{label}: bus timeout", Quality.BAD_TIMEOUT)
    return CommError(f"{label}: {e.strerror or e}")
