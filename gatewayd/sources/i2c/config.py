"""Config of an I2C sensor (kind "i2c"): an ADS1115 ADC or a BME280 environment sensor.

`chip = "bme280"` or `profile = "bme280"`: either way the profile of that name in hardware/
supplies defaults (address, oversampling, ...) and keys set in the config win.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, field_validator, model_validator

from ... import profiles
from ...buses.i2c import bus_name
from ...config import DeviceConfig, PointConfig
from .ads1115_codec import CHANNELS, DATA_RATES_SPS, FULL_SCALE_V
from .bme280_codec import STANDBY_MS

Oversampling = Literal[0, 1, 2, 4, 8, 16]


def check_bus(value: object) -> object:
    """Only a number: a simulated bus is chosen for the whole process, never in a config."""
    if isinstance(value, int) and not isinstance(value, bool) and value >= 0:
        return value
    raise ValueError("a bus number (1 for /dev/i2c-1)")


def check_full_scale(value: float) -> float:
    if value not in FULL_SCALE_V:
        raise ValueError(f"an ADS1115 full-scale range in volts: one of {FULL_SCALE_V[:6]}")
    return value


def check_data_rate(value: int) -> int:
    if value not in DATA_RATES_SPS:
        raise ValueError(f"an ADS1115 data rate: one of {DATA_RATES_SPS}")
    return value


# Field types shared with the analog source (4-20 mA loops on an ADS1115).
I2CBus = Annotated[int, BeforeValidator(check_bus)]
FullScaleV = Annotated[float, AfterValidator(check_full_scale)]
DataRateSps = Annotated[int, AfterValidator(check_data_rate)]
I2CProfile = Annotated[str | None, AfterValidator(partial(profiles.check, kind="i2c"))]


class I2CPoint(PointConfig):
    measurand: Literal["temperature", "pressure", "humidity"] | None = Field(
        default=None, description="bme280: °C, Pa, %RH")
    channel: Literal["ain0", "ain1", "ain2", "ain3", "ain0-ain1", "ain0-ain3", "ain1-ain3",
                     "ain2-ain3"] | None = Field(default=None, description="ads1115 input")
    full_scale_v: FullScaleV = Field(default=4.096, description="ads1115 PGA range, +- volts")

    @property
    def mux(self) -> int:
        return CHANNELS[self.channel or "ain0"]


class Config(DeviceConfig):
    kind: Literal["i2c"]
    profile: I2CProfile = None
    chip: Literal["ads1115", "bme280"]
    bus: I2CBus = 1
    address: int = Field(ge=0x03, le=0x77, description="7-bit address")
    data_rate_sps: DataRateSps = Field(default=128, description="ads1115: 8..860 samples/s")
    continuous: bool = Field(default=False, description="ads1115: one channel, free-running")
    mode: Literal["forced", "normal"] = "forced"
    oversampling_temperature: Literal[1, 2, 4, 8, 16] = 1
    oversampling_pressure: Oversampling = 1
    oversampling_humidity: Oversampling = 1
    iir_filter: Literal[0, 2, 4, 8, 16] = 0
    standby_ms: float = Field(default=1000, description="bme280 normal mode: time between cycles")
    compensation: Literal["integer", "float"] = "integer"
    points: list[I2CPoint] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _profile(cls, data: Any) -> Any:
        return profiles.apply(data, "device", "i2c", "profile", "chip")

    @field_validator("standby_ms")
    @classmethod
    def _standby(cls, value: float) -> float:
        if value not in STANDBY_MS:
            raise ValueError(f"a BME280 standby time in ms: one of {tuple(STANDBY_MS)}")
        return value

    @model_validator(mode="after")
    def _points_fit_chip(self) -> Config:
        need = "measurand" if self.chip == "bme280" else "channel"
        for p in self.points:
            if getattr(p, need) is None:
                raise ValueError(f"every point of a {self.chip} to give its {need}")
            if self.chip == "bme280" and getattr(self, f"oversampling_{p.measurand}") == 0:
                raise ValueError(f"oversampling_{p.measurand} > 0 for point {p.name}")
        if self.continuous and len({(p.mux, p.full_scale_v) for p in self.points}) > 1:
            raise ValueError("one channel and range with continuous = true")
        return self

    @property
    def bus_key(self) -> str:
        return bus_name(self.bus)
