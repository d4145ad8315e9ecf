"""Config of 4-20 mA loops (kind "analog"): read from an ADS1115 across a shunt, or from a
Modbus analog input module (registers in uA or in counts).

`profile = "transmitter_4_20ma"` on the device fills device keys and every point's keys from
hardware/; on a point it fills that point's keys. Keys set in the config win.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from ... import profiles
from ...buses import keys
from ...buses.i2c import bus_name
from ...config import DeviceConfig, PointConfig
from ...model import Point
from ...points.stage import transform_of
from ...points.transform import Loop, Transform
from ...validation import GIVEN, Annotated, Invalid, Meta, field
from ..i2c.config import (
    DataRateSps,
    FullScaleV,
    I2CBus,
    check_bus,
    check_data_rate,
    check_full_scale,
    check_profile,
)
from .loop import counts_ma, shunt_ma


def _silence_renamed(data: dict[str, Any]) -> dict[str, Any]:
    """`max_silence_ms` (ms) is the old name of every point's `heartbeat_s` (s)."""
    if "max_silence_ms" not in data:
        return data
    if "heartbeat_s" in data:
        raise Invalid("max_silence_ms", "`heartbeat_s` alone (`max_silence_ms` is its old name)")
    out = {k: v for k, v in data.items() if k != "max_silence_ms"}
    ms = data["max_silence_ms"]
    out["heartbeat_s"] = ms / 1000 if isinstance(ms, int | float) and not isinstance(ms, bool) else ms
    return out


class AnalogPoint(PointConfig):
    profile: str | None = None
    channel: Annotated[int, Meta(ge=0, le=3, description="ads1115: AINn to GND")] | None = None
    # `register` in the TOML; `address` in Python, as for Modbus points
    address: Annotated[int, Meta(ge=0, le=65535, description="modbus: 0-based register "
                                                              "address")] | None = (
        field(default=None, name="register"))
    low: Annotated[float, Meta(description="value at 4 mA")] = 0.0
    high: Annotated[float, Meta(description="value at 20 mA")] = 100.0
    sqrt: Annotated[bool, Meta(description="square-root extraction (flow from dp)")] = False
    sqrt_cutoff_pct: Annotated[float, Meta(ge=0, le=100, description="below: value = low")] = 0.0
    # filter, deadband, heartbeat_s and alarms are every point's keys (points/config.py)
    # The keys the config (or a profile) wrote (filled by `convert`): `gatewayd check` warns of
    # a range left at its default, and a default cannot tell.
    given: frozenset[str] = field(default_factory=frozenset, name=GIVEN)

    @classmethod
    def prepare(cls, data: dict[str, Any]) -> dict[str, Any]:
        check_profile(data, "analog")
        return _silence_renamed(profiles.apply(data, "point", "analog", "profile"))

    def check(self) -> None:
        if self.high == self.low:
            raise ValueError("high different from low")

    def loop(self) -> Loop:
        return Loop(self.low, self.high, self.sqrt, self.sqrt_cutoff_pct)


class Config(DeviceConfig):
    kind: Literal["analog"]
    profile: str | None = None
    input: Literal["ads1115", "modbus"] = "ads1115"
    bus: I2CBus = 1
    address: Annotated[int, Meta(ge=0x48, le=0x4B, description="ads1115 address")] = 0x48
    shunt_ohms: Annotated[float, Meta(gt=0)] = 150.0
    full_scale_v: FullScaleV = 4.096
    data_rate_sps: DataRateSps = 250
    host: str = "127.0.0.1"
    port: Annotated[int, Meta(ge=1, le=65535)] = 502
    unit: Annotated[int, Meta(ge=0, le=247)] = 1
    timeout_ms: Annotated[int, Meta(ge=10, le=60_000)] = 1000
    table: Literal["input", "holding"] = "input"
    encoding: Annotated[Literal["ua", "counts"], Meta(description="register unit")] = "ua"
    counts_4ma: Annotated[int, Meta(ge=-32768, le=65535)] = 0
    counts_20ma: Annotated[int, Meta(ge=-32768, le=65535)] = 27648
    points: list[AnalogPoint] = field(default_factory=list)

    @classmethod
    def prepare(cls, data: dict[str, Any]) -> dict[str, Any]:
        check_bus(data)
        check_profile(data, "analog")
        data = profiles.apply(data, "device", "analog", "profile")
        if not isinstance(data.get("points"), list):
            return data
        shared = profiles.apply({"profile": data.get("profile")}, "point", "analog", "profile")
        shared.pop("profile")  # a point's own `profile` stays its own
        return {**data, "points": [{**shared, **p} if isinstance(p, dict) else p
                                   for p in data["points"]]}

    def check(self) -> None:
        check_full_scale(self.full_scale_v)
        check_data_rate(self.data_rate_sps)
        attr, key = ("channel", "channel") if self.input == "ads1115" else ("address", "register")
        if any(getattr(p, attr) is None for p in self.points):
            raise ValueError(f"every point of an {self.input} input to give its {key}")
        if self.encoding == "counts" and self.counts_4ma == self.counts_20ma:
            raise ValueError("counts_20ma different from counts_4ma")

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
        return bus_name(self.bus) if self.input == "ads1115" else keys.tcp(self.host, self.port)
