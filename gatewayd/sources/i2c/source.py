"""The I2C source: one configured chip, polled by its bus thread, readings per point."""

from __future__ import annotations

import time
from typing import Any

from ...buses.backend import Backend
from ...buses.i2c import I2CDevice, open_bus
from ...model import Quality, Reading
from ..base import Device, SourceContext
from . import ads1115_codec as ads
from .config import Config
from .drivers import Ads1115, Bme280, Bme280Settings, Sleep


def saturation_quality(code: int) -> Quality:
    """An ADS1115 code pinned at full scale means the input is at or beyond the range."""
    return {ads.CODE_MAX: Quality.BAD_OVER_RANGE,
            ads.CODE_MIN: Quality.BAD_UNDER_RANGE}.get(code, Quality.GOOD)


class I2CSensor(Device):
    """A PolledDevice for one chip; the bus comes from ctx.extras["i2c_bus"] or `cfg.bus`."""

    cfg: Config
    max_poll_s = 2.0  # conversions take milliseconds: a poll this long means a hung bus

    def __init__(self, cfg: Config, bus: Any = None, sleep: Sleep = time.sleep,
                 backend: Backend | None = None) -> None:
        super().__init__(cfg)
        self._bus, self._sleep, self._backend = bus, sleep, backend
        self._chip: Ads1115 | Bme280 | None = None
        self._opened: Any = None

    def open(self) -> None:
        self.close()
        bus = self._bus if self._bus is not None else open_bus(self.cfg.bus, self._backend)
        self._opened = bus if self._bus is None else None  # ours to close
        dev = I2CDevice(bus, self.cfg.bus, self.cfg.address, self.cfg.chip)
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
        self._chip = None
        if self._opened is not None:
            self._opened.close()  # a real bus's file descriptor; a SimBus ignores it
            self._opened = None


def _raw(alias: int, ts_ms: int, value: float | None, q: Quality) -> Reading:
    """The chip's value in its own unit (volts, °C, Pa, %RH); the point stage scales it."""
    if value is None and not q.is_bad:
        q = Quality.BAD_CONFIG
    return Reading(alias, ts_ms, None if q.is_bad else value, q)


def build(cfg: Config, ctx: SourceContext) -> I2CSensor:
    return I2CSensor(cfg, ctx.extras.get("i2c_bus"), ctx.extras.get("sleep", time.sleep),
                     ctx.backend)
