"""Config of 4-20 mA loops (kind "analog"): read from an ADS1115 across a shunt, or from a
Modbus analog input module (registers in uA or in counts).

`profile = "transmitter_4_20ma"` on the device fills device keys and every point's keys from
hardware/; on a point it fills that point's keys. Keys set in the config win.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, Field, model_validator

from ... import profiles
from ...buses.i2c import bus_name
from ...config import DeviceConfig, PointConfig
from ...model import Point
from ...points.stage import transform_of
from ...points.transform import Loop, Transform
from ..i2c.config import DataRateSps, FullScaleV, I2CBus
from .loop import counts_ma, shunt_ma

AnalogProfile = Annotated[str | None, AfterValidator(partial(profiles.check, kind="analog"))]


def _silence_renamed(data: Any) -> Any:
    """`max_silence_ms` (ms) is the old name of every point's `heartbeat_s` (s)."""
    if not isinstance(data, dict) or "max_silence_ms" not in data:
        return data
    if "heartbeat_s" in data:
        raise ValueError("`max_silence_ms` is the old name of `heartbeat_s`: give `heartbeat_s` only")
    out = {k: v for k, v in data.items() if k != "max_silence_ms"}
    ms = data["max_silence_ms"]
    out["heartbeat_s"] = ms / 1000 if isinstance(ms, int | float) and not isinstance(ms, bool) else ms
    return out


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
    # filter, deadband, heartbeat_s and alarms are every point's keys (points/config.py)

    @model_validator(mode="before")
    @classmethod
    def _profile(cls, data: Any) -> Any:
        return _silence_renamed(profiles.apply(data, "point", "analog", "profile"))

    def loop(self) -> Loop:
        return Loop(self.low, self.high, self.sqrt, self.sqrt_cutoff_pct)

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

    def linear_ma(self) -> tuple[float, float]:
        """(k, c) with loop current in mA = raw * k + c for this device's raw values: volts
        across the shunt, microamps, or a module's counts between its 4 and 20 mA counts."""
        if self.input == "ads1115":
            return shunt_ma(1.0, self.shunt_ohms), 0.0
        if self.encoding == "ua":
            return 0.001, 0.0
        c = counts_ma(0, self.counts_4ma, self.counts_20ma)
        return counts_ma(1, self.counts_4ma, self.counts_20ma) - c, c

    def point_transforms(self, points: Mapping[int, Point]) -> dict[int, Transform]:
        """Every loop is the 4-20 mA transform: the device's unit to mA, NE43, span."""
        k, c = self.linear_ma()
        out = {}
        for p in self.points:
            if p.alias in points:
                out[p.alias] = transform_of(p, points[p.alias], p.loop(), k * p.scale,
                                            c * p.scale + p.offset)
        return out

    @property
    def bus_key(self) -> str:
        return bus_name(self.bus) if self.input == "ads1115" else f"tcp:{self.host}:{self.port}"
