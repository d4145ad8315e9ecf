"""The per-point transform as config: the keys every point of every kind may use.

One vocabulary for what used to be spelled three ways: `scale` and `offset`
(value = raw * scale + offset). The old spellings `gain` (modbus, serial) and `gradient`
(iolink) still load, as aliases of `scale`; giving both is an error naming the new key.
Pure pydantic: no hardware, no numpy.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

RENAMED = {"gain": "scale", "gradient": "scale"}  # old key -> the one spelling now
# every old point key that still loads: old -> (the key now, what to write instead)
OLD_POINT_KEYS = {
    "gain": ("scale", "old name of `scale`"),
    "gradient": ("scale", "old name of `scale`"),
    "max_silence_ms": ("heartbeat_s", "old name of `heartbeat_s` (in ms): analog points"),
}


class AlarmConfig(BaseModel):
    """HH/H/L/LL limits in engineering units, one engine for all (points/alarms.py)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    hh: float | None = None
    h: float | None = None
    l: float | None = None  # noqa: E741 - the alarm level's name
    ll: float | None = None
    hysteresis: float = Field(default=0.0, ge=0, description="engineering units")
    delay_ms: int = Field(default=0, ge=0, le=3_600_000, description="to raise and to clear")
    persistence: int = Field(default=1, ge=1, le=1000, description="samples in a row")

    @model_validator(mode="after")
    def _ordered(self) -> AlarmConfig:
        given = [v for v in (self.ll, self.l, self.h, self.hh) if v is not None]
        if given != sorted(given):
            raise ValueError("limits in the order ll <= l <= h <= hh")
        return self


class LoopConfig(BaseModel):
    """A 4-20 mA loop: the scaled value is the loop current in mA; NE43 quality, then span."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    low: float = Field(default=0.0, description="value at 4 mA")
    high: float = Field(default=100.0, description="value at 20 mA")
    sqrt: bool = Field(default=False, description="square-root extraction (flow from dp)")
    sqrt_cutoff_pct: float = Field(default=0.0, ge=0, le=100, description="below: value = low")

    @model_validator(mode="after")
    def _span(self) -> LoopConfig:
        if self.high == self.low:
            raise ValueError("high different from low")
        return self


class TransformFields(BaseModel):
    """Mixed into every point's config: what the point stage does with its raw value."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    scale: float = Field(default=1.0, description="value = raw * scale + offset (was gain, "
                                                   "gradient)")
    offset: float = 0.0
    loop_4_20ma: LoopConfig | None = Field(
        default=None, description="the scaled value is a 4-20 mA current: NE43, then low..high")
    filter: Literal["none", "mean", "median"] = "none"
    filter_n: int = Field(default=1, ge=1, le=1000)
    valid_min: float | None = Field(default=None, description="below: bad_under_range")
    valid_max: float | None = Field(default=None, description="above: bad_over_range")
    deadband: float = Field(default=0.0, ge=0, description="report by exception, engineering units")
    deadband_pct: float = Field(default=0.0, ge=0, le=100,
                                description="report by exception, % of the span")
    heartbeat_s: float = Field(default=0.0, ge=0, le=86_400,
                               description="send an unchanged value at least this often")
    alarms: AlarmConfig | None = None

    @model_validator(mode="before")
    @classmethod
    def _renamed(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not any(k in data for k in RENAMED):
            return data
        out = dict(data)
        for old, new in RENAMED.items():
            if old not in out:
                continue
            if new in out:
                raise ValueError(f"`{old}` is the old name of `{new}`: give `{new}` only")
            out[new] = out.pop(old)
        return out

    @model_validator(mode="after")
    def _valid_range(self) -> TransformFields:
        if (self.valid_min is not None and self.valid_max is not None
                and self.valid_min >= self.valid_max):
            raise ValueError("valid_min below valid_max")
        return self

    def span_abs(self) -> float | None:
        """The point's span, which `deadband_pct` is a percentage of (None: no span known)."""
        if self.loop_4_20ma is not None:
            return abs(self.loop_4_20ma.high - self.loop_4_20ma.low)
        if self.valid_min is not None and self.valid_max is not None:
            return self.valid_max - self.valid_min
        return None
