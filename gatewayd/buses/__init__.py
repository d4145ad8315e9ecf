"""The bus layer: the only code that touches pymodbus, pyserial, smbus2, gpiozero and HTTP.

A `Bus` is one physical line (an RS-485 port, a TCP endpoint, an I2C adapter, a GPIO chip, an
IO-Link master's HTTP endpoint). The supervisor asks one `Buses` for the bus of every device:
asking twice for the same line (by its canonical key: a /dev/serial/by-id link and the tty it
points to are one line) gives the same Bus, so devices on one line share one client, one lock
and one runner thread. Devices talk through typed ports the bus hands out (`ModbusPort`,
`I2CPort`, ...), which carry the device's own settings (unit, timeout, retries, address).

Line settings belong to the line: two devices asking for one port with different baud rate,
parity, data bits or stop bits is a `BusConflict` (a ConfigError) naming both devices, which
`gatewayd check` reports and the daemon refuses.

    Buses ─┬─ ModbusBus   "serial:/dev/ttyUSB0", "tcp:10.0.0.5:502"  one pymodbus client
           ├─ SerialBus   "serial:/dev/ttyUSB1"                     one SerialLine
           ├─ I2CBus      "i2c-1"                                  one smbus handle
           ├─ GpioBus     "gpiochip0"                              one pin factory
           ├─ HttpBus     "http://10.0.0.9:80"                     one httpx client
           └─ Bus         "device:<name>"                          no line (a block sensor)
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any, TypeVar

from ..errors import BusConflict
from .backend import Backend, Hardware

B = TypeVar("B", bound="Bus")

# Libraries under the buses that log at INFO or below on every request (httpx logs each HTTP
# request: 86,400 journal lines a day for one IO-Link master polled every second). We report
# failures ourselves, once per transition; their warnings and errors still get through.
CHATTY_LIBRARIES = ("httpx", "httpcore", "pymodbus", "asyncua", "snap7", "pylogix", "urllib3")


def quiet_libraries() -> None:
    """No per-poll lines from libraries: called once where the daemon sets up logging."""
    for name in CHATTY_LIBRARIES:
        logger = logging.getLogger(name)
        if logger.level < logging.WARNING:
            logger.setLevel(logging.WARNING)


class Bus:
    """One physical line: its key, its lock (held for every transaction) and what it opened.

    Subclasses add the client; `close()` releases it (the registry calls it once, at the end)."""

    kind = "device"

    def __init__(self, key: str, settings: object = None) -> None:
        self.key = key
        self.settings = settings  # what every device on the line must agree on
        self.lock = threading.RLock()

    @property
    def label(self) -> str:
        """The line as messages name it."""
        return self.key

    def close(self) -> None:
        """Nothing opened."""


class Buses:
    """Every bus of one supervisor, one per canonical key, made on first ask and closed together."""

    def __init__(self, backend: Backend | None = None) -> None:
        self.backend: Backend = backend or Hardware()
        self._buses: dict[str, Bus] = {}
        self._owner: dict[str, str] = {}  # key -> the first device that asked (for conflicts)
        self._users: dict[str, set[str]] = {}  # key -> every device on the line
        self._lock = threading.Lock()

    def get(self, cls: type[B], key: str, settings: object, device: str,
            make: Callable[[], B]) -> B:
        """The bus of `key`, made by `make()` on first ask; BusConflict when `device` wants it
        with other settings (or as another kind of bus) than the device that made it."""
        with self._lock:
            bus = self._buses.get(key)
            if bus is None:
                bus = self._buses[key] = make()
                self._owner[key] = device
            first = self._owner[key]
            if not isinstance(bus, cls):
                raise BusConflict([f"{key} is wanted as a {cls.kind} line by device {device} but "
                                   f"is the {bus.kind} line of device {first}: one line, one "
                                   "protocol"])
            if bus.settings != settings:
                raise BusConflict([
                    f"{key} is {describe(settings)} for device {device} but "
                    f"{describe(bus.settings)} for device {first}: one line has one setting"])
            self._users.setdefault(key, set()).add(device)
            return bus

    def release(self, bus: Bus, device: str) -> None:
        """`device` is done with its line for now (closed after a fault, or stopped): the line
        closes when no other device is on it, and reopens on its next use."""
        with self._lock:
            alone = self._users.get(bus.key, {device}) <= {device}
        if alone:
            with bus.lock:
                bus.close()

    def all(self) -> list[Bus]:
        with self._lock:
            return list(self._buses.values())

    def close(self) -> None:
        """Close every bus (clients, file descriptors); the registry can be used again after."""
        with self._lock:
            buses = list(self._buses.values())
            self._buses, self._owner, self._users = {}, {}, {}
        for bus in buses:
            with bus.lock:
                bus.close()

    # -- typed constructors (imports are lazy: a config without a kind never loads its library)
    def modbus(self, endpoint: Any, device: str) -> Any:
        from .modbus import ModbusBus

        key = endpoint.key
        return self.get(ModbusBus, key, endpoint.line, device, lambda: ModbusBus(endpoint))

    def serial(self, port: str, framing: Any, device: str, reopen_min_s: float = 0.5,
               reopen_max_s: float = 30.0) -> Any:
        from . import keys
        from .serial import SerialBus

        key = f"serial:{keys.tty(port)}"
        return self.get(SerialBus, key, framing, device,
                        lambda: SerialBus(key, port, framing, reopen_min_s, reopen_max_s))

    def i2c(self, number: int, device: str) -> Any:
        from .i2c import I2CBus

        return self.get(I2CBus, f"i2c-{number}", None, device,
                        lambda: I2CBus(number, self.backend))

    def gpio(self, device: str, chip: int = 0) -> Any:
        from .gpio import GpioBus

        return self.get(GpioBus, f"gpiochip{chip}", None, device,
                        lambda: GpioBus(f"gpiochip{chip}", self.backend))

    def http(self, url: str, device: str) -> Any:
        from . import keys
        from .iolink_http import HttpBus

        key = keys.url(url)
        return self.get(HttpBus, key, None, device, lambda: HttpBus(key, url))

    def own(self, device: str) -> Bus:
        """A bus of its own for a device on no shared line (samples pushed by a driver)."""
        key = f"device:{device}"
        return self.get(Bus, key, None, device, lambda: Bus(key))


def describe(settings: object) -> str:
    """Line settings as an installer reads them (`9600 8E1`), or the kind of bus."""
    text = getattr(settings, "text", None)
    return str(text) if text else "in use"
