"""The only code that touches smbus2. `open_bus(spec)` gives an smbus2-compatible bus: an int N
is /dev/i2c-N, "sim:<scenario>" a SimBus from gatewayd.sims.scenarios_i2c (demo and tests).
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

BusSpec = int | str
_NACK = {errno.ENXIO, errno.EREMOTEIO}  # how Linux adapters report a missing ACK
_LOCKS: dict[str, threading.RLock] = {}
_SIMS: dict[str, Any] = {}
_REGISTRY = threading.Lock()


def bus_name(spec: BusSpec) -> str:
    """`i2c-1` for bus 1, `sim:demo` for a simulated bus: the bus key and the name in messages."""
    return f"i2c-{spec}" if isinstance(spec, int) else spec


def bus_lock(spec: BusSpec) -> threading.RLock:
    """The one lock of a physical bus, shared by every device (and source kind) on it."""
    with _REGISTRY:
        return _LOCKS.setdefault(bus_name(spec), threading.RLock())


def open_bus(spec: BusSpec) -> Any:
    """An smbus2.SMBus for bus N, or the process's SimBus of a "sim:<scenario>" spec."""
    if isinstance(spec, str):
        if not spec.startswith("sim:"):
            raise CommError(f"{spec}: expected a bus number or sim:<scenario>", Quality.BAD_CONFIG)
        with _REGISTRY:
            if spec not in _SIMS:  # one SimBus per scenario so devices share its chips
                from ..sims.scenarios_i2c import build_scenario

                try:
                    _SIMS[spec] = build_scenario(spec.removeprefix("sim:"))
                except ValueError as e:
                    raise CommError(f"{spec}: expected {e}", Quality.BAD_CONFIG) from None
            return _SIMS[spec]
    import smbus2

    try:
        return smbus2.SMBus(spec)
    except OSError as e:
        raise CommError(f"i2c-{spec}: cannot open /dev/i2c-{spec}: {e.strerror}") from None


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
