"""Simulated I2C buses behind the simulated worlds (worlds.py: the demo) and the benchmarks.

"demo": an ADS1115 at 0x48 whose inputs are 4-20 mA transmitters across 150 ohm shunts
(AIN0 a tank level moving slowly, AIN1 a differential-pressure flow transmitter, AIN2 a steady
12 mA, AIN3 a loop with a broken wire), and a BME280 at 0x76 in a slowly warming enclosure.
"pump": an ADXL345 at 0x53 on a pump with a bearing fault (the vibration demo).
"stuck": a BME280 at 0x76 that hangs the bus for good after a few seconds (watchdog tests).
"empty": a bus with nothing on it (every address NACKs).
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from .ads1115 import ADS1115
from .bme280 import BME280
from .i2c import SimBus

DEMO_SHUNT_OHMS = 150.0


@dataclass
class Transmitter:
    """A 2-wire 4-20 mA transmitter: process value -> loop current, NAMUR NE43 signalling.

    The measuring range saturates at 3.8 / 20.5 mA; `fault` drives the loop to a failure
    current (e.g. 0 for a broken wire, 21.5 for a detected sensor fault)."""

    low: float
    high: float
    process: Callable[[float], float]
    fault: float | None = None

    def milliamps(self, t: float) -> float:
        if self.fault is not None:
            return self.fault
        ma = 4.0 + 16.0 * (self.process(t) - self.low) / (self.high - self.low)
        return min(max(ma, 3.8), 20.5)

    def volts_across(self, shunt_ohms: float) -> Callable[[float], float]:
        return lambda t: self.milliamps(t) / 1000 * shunt_ohms


def demo(clock: Callable[[], float] = time.monotonic) -> SimBus:
    adc = ADS1115(clock)
    loops = [
        Transmitter(0.0, 5.0, lambda t: 2.5 + 2.0 * math.sin(t / 60)),  # level, m
        Transmitter(0.0, 250.0, lambda t: 100 + 20 * math.sin(t / 7)),  # dp, mbar
        Transmitter(0.0, 100.0, lambda t: 50.0),
        Transmitter(0.0, 100.0, lambda t: 0.0, fault=0.0),
    ]
    for pin, loop in enumerate(loops):
        adc.set_input(pin, loop.volts_across(DEMO_SHUNT_OHMS))
    env = BME280(clock)
    env.temperature_c = lambda t: 24.0 + 3.0 * math.sin(t / 600)
    env.humidity_pct = lambda t: 40.0 + 5.0 * math.sin(t / 900)
    return SimBus({0x48: adc, 0x76: env})


def pump(clock: Callable[[], float] = time.monotonic) -> SimBus:
    """An ADXL345 at 0x53 on a pump whose drive-end bearing has an inner-race defect (SKF 6205
    at 1,485 rpm, impacts ringing a 1.2 kHz resonance). On a bus of its own: at 3,200 Hz its
    32-sample FIFO fills in 10 ms, less than one ADS1115 conversion on a shared bus takes."""
    from .adxl345 import Adxl345  # numpy: only for scenarios that have an accelerometer
    from .vibration import Machine

    machine = Machine(shaft_hz=24.75, defect="bpfi", impact_g=1.0, resonance_hz=1200.0,
                      noise_g=0.01)
    return SimBus({0x53: Adxl345(z=lambda t: 1.0 + machine.signal(t), clock=clock)})


class Stuck:
    """A chip that answers `healthy` transactions, then holds the bus forever mid-transfer:
    a slave that crashed with SCL or SDA held low. On some controllers the caller then blocks
    for good; the daemon's watchdog has to notice that."""

    def __init__(self, chip: BME280, healthy: int) -> None:
        self.chip, self.left = chip, healthy

    def read(self, reg: int, n: int) -> bytes:
        self._maybe_hang()
        return self.chip.read(reg, n)

    def write(self, reg: int, data: bytes) -> None:
        self._maybe_hang()
        self.chip.write(reg, data)

    def _maybe_hang(self) -> None:
        self.left -= 1
        if self.left < 0:
            threading.Event().wait()  # never set: the transaction never ends


def stuck(clock: Callable[[], float] = time.monotonic) -> SimBus:
    """A BME280 at 0x76 that hangs the bus after 120 transactions (4 s of polling at 100 ms)."""
    return SimBus({0x76: Stuck(BME280(clock), healthy=120)})
