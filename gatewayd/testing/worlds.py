"""Simulated worlds: what `--simulate <world>` (or `GATEWAYD_SIMULATE`) puts behind the buses.

A world maps I2C bus numbers to simulated buses of chip models and may run a machine that
drives gpiozero mock pins. The daemon's config stays the one for real hardware (`bus = 1`);
only the backend changes, so a production config can never name a simulator.

"demo":  I2C bus 1 an ADS1115 reading 4-20 mA loops and a BME280 (scenarios_i2c.demo), bus 2
         an ADXL345 on a pump with a failing bearing, and the lathe's signals on the pins.
"stuck": I2C bus 1 a BME280 that hangs the bus after about 4 s (watchdog tests).
"empty": I2C bus 1 with nothing on it.
"""

from __future__ import annotations

import errno
import threading
from collections.abc import Callable
from typing import Any

from . import scenarios_i2c
from .i2c import SimBus


class SimWorld:
    """A Backend over simulated chips and pins; one SimBus per bus number, shared by its users."""

    def __init__(self, name: str, i2c: dict[int, Callable[[], SimBus]],
                 signals: Callable[[], Any] | None = None) -> None:
        self.name = name
        self._makers = i2c
        self._buses: dict[int, SimBus] = {}
        self._signals_maker = signals
        self._signals: Any = None
        self._factory: Any = None
        self._lock = threading.Lock()

    def open_i2c(self, number: int) -> SimBus:
        with self._lock:
            if number not in self._buses:
                if number not in self._makers:  # as smbus2 says when /dev/i2c-N is missing
                    raise FileNotFoundError(errno.ENOENT, "No such file or directory")
                self._buses[number] = self._makers[number]()
            return self._buses[number]

    def pin_factory(self) -> Any:
        with self._lock:
            if self._factory is None:
                if self._signals_maker is not None:
                    self._signals = self._signals_maker().start()
                    self._factory = self._signals.factory
                else:
                    from gpiozero.pins.mock import MockFactory

                    self._factory = MockFactory()
            return self._factory

    def close(self) -> None:
        with self._lock:
            if self._signals is not None:
                self._signals.stop()
            elif self._factory is not None:
                self._factory.close()
            self._signals = self._factory = None


def _lathe() -> Any:
    from .gpio_signals import LatheSignals  # gpiozero: only for worlds that drive pins

    return LatheSignals()


WORLDS: dict[str, Callable[[], SimWorld]] = {
    "demo": lambda: SimWorld("demo", {1: scenarios_i2c.demo, 2: scenarios_i2c.pump}, _lathe),
    "stuck": lambda: SimWorld("stuck", {1: scenarios_i2c.stuck}),
    "empty": lambda: SimWorld("empty", {1: SimBus}),
}


def build_world(name: str) -> SimWorld:
    """A fresh world of that name; ValueError naming the worlds for an unknown one."""
    if name not in WORLDS:
        raise ValueError(f"no simulated world {name!r}: one of {', '.join(WORLDS)}")
    return WORLDS[name]()
