"""I2C read overhead through the simulators: the full driver path (config, bus lock, error
translation, register conversation, compensation) with a simulated clock, so no conversion
time is waited and the figure is the per-reading cost of the gateway's own code.

Last line: `i2c_reads_per_s=...` (point readings per second, ADS1115 and BME280 mixed).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gatewayd.config import parse
from gatewayd.sources.i2c.source import I2CSensor
from gatewayd.testing.ads1115 import ADS1115
from gatewayd.testing.bme280 import BME280
from gatewayd.testing.clock import ManualClock
from gatewayd.testing.i2c import SimBus

POLLS = 2000




def _sensors(clock: ManualClock) -> list[I2CSensor]:
    adc, env = ADS1115(clock), BME280(clock)
    for pin in range(4):
        adc.set_input(pin, 0.6 + 0.6 * pin)
    bus = SimBus({0x48: adc, 0x76: env})
    cfg = parse({"gateway": {"id": "bench"}, "devices": [
        {"kind": "i2c", "name": "adc", "chip": "ads1115", "bus": 1, "data_rate_sps": 860,
         "points": [{"alias": 1 + i, "name": f"a{i}", "channel": f"ain{i}"} for i in range(4)]},
        {"kind": "i2c", "name": "env", "chip": "bme280", "bus": 1, "points": [
            {"alias": 10 + i, "name": m, "measurand": m}
            for i, m in enumerate(("temperature", "pressure", "humidity"))]}]})
    return [I2CSensor(c, bus, clock.sleep) for c in cfg.devices]


def measure(polls: int = POLLS) -> float:
    """Point readings per second through the I2C source and the register-level sims."""
    clock = ManualClock(0.0)
    sensors = _sensors(clock)
    for s in sensors:
        s.open()
    readings = 0
    start = time.perf_counter()
    for i in range(polls):
        for s in sensors:
            readings += len(s.read(i))
    return readings / (time.perf_counter() - start)


def main() -> None:
    for name, rate in (("ads1115 single-shot", _one(0)), ("bme280 forced", _one(1))):
        print(f"{name}: {rate:,.0f} readings/s")
    print(f"i2c_reads_per_s={measure():.0f}")


def _one(index: int) -> float:
    clock = ManualClock(0.0)
    s = _sensors(clock)[index]
    s.open()
    start = time.perf_counter()
    n = sum(len(s.read(i)) for i in range(POLLS // 2))
    return n / (time.perf_counter() - start)


if __name__ == "__main__":
    main()
