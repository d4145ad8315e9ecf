"""The I2C source: one configured chip, polled by its bus thread, readings per point."""

from __future__ import annotations

import time
from typing import Any

from ...buses import Buses
from ...buses.i2c import I2CBus, I2CDevice
from ...model import Quality, Reading
from ..base import Device, SourceContext, buses_of
from . import ads1115_codec as ads
from .config import Config
from .drivers import Ads1115, Bme280, Bme280Settings, Sleep


def saturation_quality(code: int) -> Quality:
    """An ADS1115 code pinned at full scale means the input is at or beyond the range."""
    return {ads.CODE_MAX: Quality.BAD_OVER_RANGE,
            ads.CODE_MIN: Quality.BAD_UNDER_RANGE}.get(code, Quality.GOOD)


class I2CSensor(Device):
    """A PolledDevice for one chip on bus `cfg.bus` (a test may hand the bus's handle in)."""

    cfg: Config
    max_poll_s = 2.0  # conversions take milliseconds: a poll this long means a hung bus

    def __init__(self, cfg: Config, handle: Any = None, sleep: Sleep = time.sleep,
                 buses: Buses | None = None) -> None:
        super().__init__(cfg, buses=buses)
        self._sleep = sleep
        self.bus: I2CBus = i2c_bus(self.buses, cfg.bus, cfg.name, handle)
        self._chip: Ads1115 | Bme280 | None = None

    def open(self) -> None:
        self._chip = None
        dev = self.bus.port(self.cfg.address, self.cfg.chip)
        chip = self._make(dev)
        chip.open()
        if isinstance(chip, Ads1115) and self.cfg.continuous and self.cfg.points:
            chip.start_continuous(self.cfg.points[0].mux, self.cfg.points[0].full_scale_v)
        self._chip = chip

    def _make(self, dev: I2CDevice) -> Ads1115 | Bme280:
        c = self.cfg
        if c.chip == "ads1115":
            return Ads1115(dev, c.data_rate_sps, self._sleep)
        settings = Bme280Settings(c.oversampling_temperature, c.oversampling_pressure,
                                  c.oversampling_humidity, c.iir_filter, c.standby_ms,
                                  c.mode == "normal", c.compensation == "float")
        return Bme280(dev, settings, self._sleep)

    def read(self, now_ms: int) -> list[Reading]:
        if self._chip is None:
            self.open()
        chip = self._chip
        if isinstance(chip, Bme280):
            values = dict(zip(("temperature", "pressure", "humidity"), chip.sample(), strict=True))
            return [_raw(a.alias, now_ms, values.get(p.measurand or ""), Quality.GOOD)
                    for p, a in zip(self.cfg.points, self.points, strict=True)]
        assert isinstance(chip, Ads1115)
        out = []
        for p, a in zip(self.cfg.points, self.points, strict=True):
            code = chip.latest() if self.cfg.continuous else chip.convert(p.mux, p.full_scale_v)
            volts = ads.code_to_volts(code, p.full_scale_v)
            out.append(_raw(a.alias, now_ms, volts, saturation_quality(code)))
        return out

    def close(self) -> None:
        """The adapter closes when no other chip is on it (the bus layer decides)."""
        self._chip = None
        self.release_bus()


def i2c_bus(buses: Buses, number: int, device: str, handle: Any = None) -> I2CBus:
    """The bus of adapter `number` (with a handle a test passed in, when it did)."""
    if handle is None:
        bus: I2CBus = buses.i2c(number, device)
        return bus
    return buses.get(I2CBus, f"i2c-{number}", None, device,
                     lambda: I2CBus(number, buses.backend, handle))


def _raw(alias: int, ts_ms: int, value: float | None, q: Quality) -> Reading:
    """The chip's value in its own unit (volts, °C, Pa, %RH); the point stage scales it."""
    if value is None and not q.is_bad:
        q = Quality.BAD_CONFIG
    return Reading(alias, ts_ms, None if q.is_bad else value, q)


def build(cfg: Config, ctx: SourceContext) -> I2CSensor:
    return I2CSensor(cfg, ctx.extras.get("i2c_bus"), ctx.extras.get("sleep", time.sleep),
                     buses_of(ctx))
