"""Config of an I2C sensor (kind "i2c"): an ADS1115 ADC or a BME280 environment sensor.

`chip = "bme280"` or `profile = "bme280"`: either way the profile of that name in hardware/
supplies defaults (address, oversampling, ...) and keys set in the config win.
"""

from __future__ import annotations

from typing import Any, Literal

from ... import profiles
from ...buses.i2c import bus_name
from ...config import DeviceConfig, PointConfig
from ...validation import Annotated, Invalid, Meta, field
from .ads1115_codec import CHANNELS, DATA_RATES_SPS, FULL_SCALE_V
from .bme280_codec import STANDBY_MS

Oversampling = Literal[0, 1, 2, 4, 8, 16]

# Key types shared with the analog and vibration sources. A struct's annotation cannot run
# code, so the rules beyond the type live in the functions below, which a table calls: the
# bus number from its `prepare` (to say what a bus is, rather than "an integer"), the ADS1115
# settings from its `check`.
I2CBus = Annotated[int, Meta(ge=0, description="I2C bus number (1 for /dev/i2c-1)")]
FullScaleV = Annotated[float, Meta(description="ADS1115 PGA range, +- volts: one of "
                                               f"{FULL_SCALE_V[:6]}")]
DataRateSps = Annotated[int, Meta(description=f"ADS1115 samples/s: one of {DATA_RATES_SPS}")]


def check_bus(data: dict[str, Any], key: str = "bus") -> None:
    """Only a number: a simulated bus is chosen for the whole process, never in a config."""
    value = data.get(key, 0)
    if not isinstance(value, int) or isinstance(value, bool) or value < 0:
        raise Invalid(key, "a bus number (1 for /dev/i2c-1)")


def check_full_scale(value: float, key: str = "full_scale_v") -> None:
    if value not in FULL_SCALE_V:
        raise Invalid(key, f"an ADS1115 full-scale range in volts: one of {FULL_SCALE_V[:6]}")


def check_data_rate(value: int, key: str = "data_rate_sps") -> None:
    if value not in DATA_RATES_SPS:
        raise Invalid(key, f"an ADS1115 data rate: one of {DATA_RATES_SPS}")


def check_profile(data: dict[str, Any], kind: str, key: str = "profile") -> None:
    """A profile the table names exists in hardware/ and fits `kind`. Asked in `prepare`:
    the defaults it would have given are missing, and that is the one problem to show."""
    name = data.get(key)
    try:
        profiles.check(name, kind)
    except ValueError as e:
        raise Invalid(key, str(e)) from None


class I2CPoint(PointConfig):
    measurand: Annotated[Literal["temperature", "pressure", "humidity"],
                         Meta(description="bme280: °C, Pa, %RH")] | None = None
    channel: Annotated[Literal["ain0", "ain1", "ain2", "ain3", "ain0-ain1", "ain0-ain3",
                               "ain1-ain3", "ain2-ain3"],
                       Meta(description="ads1115 input")] | None = None
    full_scale_v: FullScaleV = 4.096

    def check(self) -> None:
        check_full_scale(self.full_scale_v)

    @property
    def mux(self) -> int:
        return CHANNELS[self.channel or "ain0"]


class Config(DeviceConfig):
    kind: Literal["i2c"]
    profile: str | None = None
    chip: Literal["ads1115", "bme280"]
    bus: I2CBus = 1
    address: Annotated[int, Meta(ge=0x03, le=0x77, description="7-bit address")]
    data_rate_sps: Annotated[int, Meta(description="ads1115: 8..860 samples/s")] = 128
    continuous: Annotated[bool, Meta(description="ads1115: one channel, free-running")] = False
    mode: Literal["forced", "normal"] = "forced"
    oversampling_temperature: Literal[1, 2, 4, 8, 16] = 1
    oversampling_pressure: Oversampling = 1
    oversampling_humidity: Oversampling = 1
    iir_filter: Literal[0, 2, 4, 8, 16] = 0
    standby_ms: Annotated[float, Meta(description="bme280 normal mode: time between "
                                                  "cycles")] = 1000
    compensation: Literal["integer", "float"] = "integer"
    points: list[I2CPoint] = field(default_factory=list)

    @classmethod
    def prepare(cls, data: dict[str, Any]) -> dict[str, Any]:
        check_bus(data)
        check_profile(data, "i2c")
        out: dict[str, Any] = profiles.apply(data, "device", "i2c", "profile", "chip")
        return out

    def check(self) -> None:
        check_data_rate(self.data_rate_sps)
        if self.standby_ms not in STANDBY_MS:
            raise Invalid("standby_ms", f"a BME280 standby time in ms: one of "
                                        f"{tuple(STANDBY_MS)}")
        need = "measurand" if self.chip == "bme280" else "channel"
        for p in self.points:
            if getattr(p, need) is None:
                raise ValueError(f"every point of a {self.chip} to give its {need}")
            if self.chip == "bme280" and getattr(self, f"oversampling_{p.measurand}") == 0:
                raise ValueError(f"oversampling_{p.measurand} > 0 for point {p.name}")
        if self.continuous and len({(p.mux, p.full_scale_v) for p in self.points}) > 1:
            raise ValueError("one channel and range with continuous = true")

    @property
    def bus_key(self) -> str:
        return bus_name(self.bus)
