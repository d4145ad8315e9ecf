"""The per-point transform as config: the keys every point of every kind may use.

One vocabulary for what used to be spelled three ways: `scale` and `offset`
(value = raw * scale + offset). The old spellings `gain` (modbus, serial) and `gradient`
(iolink) still load, as aliases of `scale`; giving both is an error naming the new key.
Plain tables: no hardware, no numpy.
"""

from __future__ import annotations

from typing import Any, Literal

from ..validation import Annotated, Invalid, Meta, Model

RENAMED = {"gain": "scale", "gradient": "scale"}  # old key -> the one spelling now
# every old point key that still loads: old -> (the key now, what to write instead)
OLD_POINT_KEYS = {
    "gain": ("scale", "old name of `scale`"),
    "gradient": ("scale", "old name of `scale`"),
    "max_silence_ms": ("heartbeat_s", "old name of `heartbeat_s` (in ms): analog points"),
}


class AlarmConfig(Model):
    """HH/H/L/LL limits in engineering units, one engine for all (points/alarms.py)."""

    hh: float | None = None
    h: float | None = None
    l: float | None = None  # noqa: E741 - the alarm level's name
    ll: float | None = None
    hysteresis: Annotated[float, Meta(ge=0, description="engineering units")] = 0.0
    delay_ms: Annotated[int, Meta(ge=0, le=3_600_000, description="to raise and to clear")] = 0
    persistence: Annotated[int, Meta(ge=1, le=1000, description="samples in a row")] = 1

    def check(self) -> None:
        given = [v for v in (self.ll, self.l, self.h, self.hh) if v is not None]
        if given != sorted(given):
            raise ValueError("limits in the order ll <= l <= h <= hh")


class LoopConfig(Model):
    """A 4-20 mA loop: the scaled value is the loop current in mA; NE43 quality, then span."""

    low: Annotated[float, Meta(description="value at 4 mA")] = 0.0
    high: Annotated[float, Meta(description="value at 20 mA")] = 100.0
    sqrt: Annotated[bool, Meta(description="square-root extraction (flow from dp)")] = False
    sqrt_cutoff_pct: Annotated[float, Meta(ge=0, le=100, description="below: value = low")] = 0.0

    def check(self) -> None:
        if self.high == self.low:
            raise ValueError("high different from low")


class TransformFields(Model):
    """The base of every point's config: what the point stage does with its raw value."""

    scale: Annotated[float, Meta(description="value = raw * scale + offset (was gain, "
                                             "gradient)")] = 1.0
    offset: float = 0.0
    loop_4_20ma: Annotated[LoopConfig, Meta(
        description="the scaled value is a 4-20 mA current: NE43, then low..high")] | None = None
    filter: Literal["none", "mean", "median"] = "none"
    filter_n: Annotated[int, Meta(ge=1, le=1000)] = 1
    valid_min: Annotated[float, Meta(description="below: bad_under_range")] | None = None
    valid_max: Annotated[float, Meta(description="above: bad_over_range")] | None = None
    deadband: Annotated[float, Meta(ge=0, description="report by exception, engineering "
                                                      "units")] = 0.0
    deadband_pct: Annotated[float, Meta(ge=0, le=100,
                                        description="report by exception, % of the span")] = 0.0
    heartbeat_s: Annotated[float, Meta(ge=0, le=86_400, description="send an unchanged value "
                                                                    "at least this often")] = 0.0
    alarms: AlarmConfig | None = None

    @classmethod
    def prepare(cls, data: dict[str, Any]) -> dict[str, Any]:
        if not any(k in data for k in RENAMED):
            return data
        out = dict(data)
        for old, new in RENAMED.items():
            if old not in out:
                continue
            if new in out:
                raise Invalid(old, f"`{new}` alone (`{old}` is its old name)")
            out[new] = out.pop(old)
        return out

    def check(self) -> None:
        if (self.valid_min is not None and self.valid_max is not None
                and self.valid_min >= self.valid_max):
            raise ValueError("valid_min below valid_max")

    def span_abs(self) -> float | None:
        """The point's span, which `deadband_pct` is a percentage of (None: no span known)."""
        if self.loop_4_20ma is not None:
            return abs(self.loop_4_20ma.high - self.loop_4_20ma.low)
        if self.valid_min is not None and self.valid_max is not None:
            return self.valid_max - self.valid_min
        return None
