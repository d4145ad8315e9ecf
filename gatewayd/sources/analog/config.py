"""Config of 4-20 mA loops (kind "analog"): read from an ADS1115 across a shunt, or from a
Modbus analog input module (registers in uA or in counts).

`profile = "transmitter_4_20ma"` on the device fills device keys and every point's keys from
hardware/; on a point it fills that point's keys. Keys set in the config win.
"""

from __future__ import annotations

from functools import partial
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, model_validator

from ... import profiles
from ...buses.i2c import bus_name
from ...config import DeviceConfig, Model, PointConfig
from ..i2c.config import DataRateSps, FullScaleV, I2CBus

AnalogProfile = Annotated[str | None, AfterValidator(partial(profiles.check, kind="analog"))]


class AlarmConfig(Model):
    hh: float | None = None
    h: float | None = None
    l: float | None = None  # noqa: E741 - the alarm level's name
    ll: float | None = None
    hysteresis: float = Field(default=0.0, ge=0, description="engineering units")
    delay_ms: int = Field(default=0, ge=0, le=3_600_000, description="to raise and to clear")

    @model_validator(mode="after")
    def _ordered(self) -> AlarmConfig:
        given = [v for v in (self.ll, self.l, self.h, self.hh) if v is not None]
        if given != sorted(given):
            raise ValueError("limits in the order ll <= l <= h <= hh")
        return self


class AnalogPoint(PointConfig):
    profile: AnalogProfile = None
    channel: int | None = Field(default=None, ge=0, le=3, description="ads1115: AINn to GND")
    # `register` in the TOML; another attribute name because pydantic's metaclass has one
    address: int | None = Field(default=None, alias="register", ge=0, le=65535,
                                description="modbus: 0-based register address")
    low: float = Field(default=0.0, description="value at 4 mA")
    high: float = Field(default=100.0, description="value at 20 mA")
    sqrt: bool = Field(default=False, description="square-root extraction (flow from dp)")
    sqrt_cutoff_pct: float = Field(default=0.0, ge=0, le=100, description="below: value = low")
    filter: Literal["none", "mean", "median"] = "none"
    filter_n: int = Field(default=1, ge=1, le=1000)
    deadband: float = Field(default=0.0, ge=0, description="engineering units")
    max_silence_ms: int = Field(default=0, ge=0, description="emit at least this often")
    alarms: AlarmConfig | None = None

    @model_validator(mode="before")
    @classmethod
    def _profile(cls, data: Any) -> Any:
        return profiles.apply(data, "point", "analog", "profile")

    @model_validator(mode="after")
    def _span(self) -> AnalogPoint:
        if self.high == self.low:
            raise ValueError("high different from low")
        return self


class Config(DeviceConfig):
    kind: Literal["analog"]
    profile: AnalogProfile = None
    input: Literal["ads1115", "modbus"] = "ads1115"
    bus: I2CBus = 1
    address: int = Field(default=0x48, ge=0x48, le=0x4B, description="ads1115 address")
    shunt_ohms: float = Field(default=150.0, gt=0)
    full_scale_v: FullScaleV = 4.096
    data_rate_sps: DataRateSps = 250
    host: str = "127.0.0.1"
    port: int = Field(default=502, ge=1, le=65535)
    unit: int = Field(default=1, ge=0, le=247)
    timeout_ms: int = Field(default=1000, ge=10, le=60_000)
    table: Literal["input", "holding"] = "input"
    encoding: Literal["ua", "counts"] = Field(default="ua", description="register unit")
    counts_4ma: int = Field(default=0, ge=-32768, le=65535)
    counts_20ma: int = Field(default=27648, ge=-32768, le=65535)
    points: list[AnalogPoint] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _profile(cls, data: Any) -> Any:
        data = profiles.apply(data, "device", "analog", "profile")
        if not isinstance(data, dict) or not isinstance(data.get("points"), list):
            return data
        shared = profiles.apply({"profile": data.get("profile")}, "point", "analog", "profile")
        shared.pop("profile")  # a point's own `profile` stays its own
        return {**data, "points": [{**shared, **p} if isinstance(p, dict) else p
                                   for p in data["points"]]}

    @model_validator(mode="after")
    def _addressed(self) -> Config:
        attr, key = ("channel", "channel") if self.input == "ads1115" else ("address", "register")
        if any(getattr(p, attr) is None for p in self.points):
            raise ValueError(f"every point of an {self.input} input to give its {key}")
        if self.encoding == "counts" and self.counts_4ma == self.counts_20ma:
            raise ValueError("counts_20ma different from counts_4ma")
        return self

    @property
    def bus_key(self) -> str:
        return bus_name(self.bus) if self.input == "ads1115" else f"tcp:{self.host}:{self.port}"
