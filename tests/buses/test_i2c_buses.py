"""The I2C bus layer: one handle per adapter, opened once, closed once, shared by every chip
and every kind (an i2c sensor and a vibration channel) on it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gatewayd import config
from gatewayd.buses import Buses
from gatewayd.sources import source_module
from gatewayd.sources.base import SourceContext
from gatewayd.testing.adxl345 import Adxl345
from gatewayd.testing.bme280 import BME280
from gatewayd.testing.i2c import SimBus


class CountingBus(SimBus):
    closes = 0

    def close(self) -> None:
        self.closes += 1


class CountingBackend:
    """A backend whose adapters count how often they are opened and closed."""

    name = "counting"

    def __init__(self) -> None:
        self.opened: list[CountingBus] = []

    def open_i2c(self, number: int) -> Any:
        bus = CountingBus({0x53: Adxl345(), 0x76: BME280()})
        self.opened.append(bus)
        return bus

    def pin_factory(self) -> Any:
        return None

    def close(self) -> None:
        """Nothing runs."""


def test_vibration_and_i2c_share_one_handle_opened_and_closed_once(tmp_path: Path) -> None:
    """A vibration channel reopened after faults does not open the adapter again, and the
    registry closes the one handle once at the end."""
    backend = CountingBackend()
    buses = Buses(backend)  # type: ignore[arg-type]
    cfg = config.parse({"gateway": {"id": "t"}, "devices": [
        {"kind": "vibration", "name": "pump", "bus": 1, "window_len": 256,
         "features": ["rms_g"]},
        {"kind": "i2c", "name": "env", "chip": "bme280", "bus": 1, "address": 0x76,
         "points": [{"alias": 9, "name": "t", "measurand": "temperature"}]}]})
    ctx = SourceContext(lambda r: None, lambda e: None, tmp_path, lambda: 0, buses=buses)
    devices = [source_module(d.kind).build(d, ctx) for d in cfg.devices]
    assert devices[0].bus is devices[1].bus and devices[0].bus_key == "i2c-1"
    for _ in range(3):  # the runner closes and reopens a device after each failure
        for d in devices:
            d.open()
            d.read(0)
            d.close()
    assert len(backend.opened) == 1 and backend.opened[0].closes == 0
    buses.close()
    assert backend.opened[0].closes == 1
