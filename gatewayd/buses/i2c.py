"""The only code that touches smbus2. `open_bus(spec)` gives an smbus2-compatible bus: an int N
is /dev/i2c-N, "sim:<scenario>" a SimBus from gatewayd.testing.scenarios_i2c (demo and tests).
`I2CDevice` is one chip on a bus: every access holds that bus's lock (one per bus, so two
devices never interleave multi-step transactions, e.g. an ADS1115 write-config / wait /
read-result) and turns OSError into CommError naming the chip, address and bus.
"""

from __future__ import annotations

import errno
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from ..errors import CommError
from ..model import Quality
from .backend import Backend, Hardware

BusSpec = int | str
_NACK = {errno.ENXIO, errno.EREMOTEIO}  # how Linux adapters report a missing ACK
_LOCKS: dict[str, threading.RLock] = {}
_REGISTRY = threading.Lock()


def bus_name(spec: BusSpec) -> str:
    """`i2c-1` for bus 1: the bus key and the name in messages (tests may label a bus freely)."""
    return f"i2c-{spec}" if isinstance(spec, int) else spec


def bus_lock(spec: BusSpec) -> threading.RLock:
    """The one lock of a physical bus, shared by every device (and source kind) on it."""
    with _REGISTRY:
        return _LOCKS.setdefault(bus_name(spec), threading.RLock())


def open_bus(number: int, backend: Backend | None = None) -> Any:
    """The handle of /dev/i2c-<number> from the process's backend (the hardware by default)."""
    try:
        return (backend or Hardware()).open_i2c(number)
    except OSError as e:
        raise CommError(f"i2c-{number}: cannot open /dev/i2c-{number}: {e.strerror}") from None


class I2CDevice:
    """One chip at one address: register reads/writes under the bus lock, errors translated."""

    def __init__(self, bus: Any, spec: BusSpec, address: int, chip: str) -> None:
        self.bus = bus
        self.address = address
        self.lock = bus_lock(spec)
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


def _translate(e: OSError, label: str) -> CommError:
    if e.errno in _NACK:
        return CommError(f"{label}: NACK ({e.strerror or 'no acknowledge'})")
    if e.errno == errno.ETIMEDOUT:
        return CommError(f"{label}: bus timeout", Quality.BAD_TIMEOUT)
    return CommError(f"{label}: {e.strerror or e}")
