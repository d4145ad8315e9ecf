"""What one point's value means: the declarative per-point transform, as pure steps.

A source hands over a raw value and a device quality; `Transform.apply` turns them into the
reading to send (or None when report by exception holds it back) and the alarm changes:

    raw, device quality
      -> finite?            NaN: bad_data_invalid, +-inf: bad_over/under_range
      -> linear             value = raw * scale + offset
      -> 4-20 mA loop       NAMUR NE43 quality on the current, filter, span 4..20 mA to low..high
         (or filter alone)  (mean or median over N; emptied by a bad sample)
      -> valid range        outside valid_min..valid_max: bad_under/over_range, no value
      -> type               int: rounded, bool: non-zero
      -> alarms             HH/H/L/LL with hysteresis, persistence and delay (alarms.py)
      -> report by exception: deadband (absolute or % of span), heartbeat

Numbers in, numbers out; time is the `now_ms` the caller passes.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass, field

from ..model import Quality, Reading
from .alarms import AlarmChange, LimitAlarms

WIRE_BREAK_MA, LOW_UNCERTAIN_MA = 3.6, 3.8
HIGH_UNCERTAIN_MA, SENSOR_FAULT_MA = 20.5, 21.0
Value = float | int | bool | str | None


def namur_quality(ma: float) -> Quality:
    """NE43: < 3.6 mA wire break, > 21 mA sensor fault, 3.6..3.8 and 20.5..21 uncertain."""
    if ma < WIRE_BREAK_MA:
        return Quality.BAD_WIRE_BREAK
    if ma > SENSOR_FAULT_MA:
        return Quality.BAD_SENSOR_FAULT
    if ma < LOW_UNCERTAIN_MA or ma > HIGH_UNCERTAIN_MA:
        return Quality.UNCERTAIN_RANGE
    return Quality.GOOD


def scale(ma: float, low: float, high: float, sqrt: bool = False, cutoff_pct: float = 0.0) -> float:
    """4 mA -> low, 20 mA -> high; with `sqrt` the fraction is square-rooted (flow from a
    differential pressure) and forced to 0 below `cutoff_pct` where the root amplifies noise."""
    fraction = (ma - 4.0) / 16.0
    if sqrt:
        fraction = math.sqrt(fraction) if fraction * 100 >= cutoff_pct and fraction > 0 else 0.0
    return low + fraction * (high - low)


def finite_quality(value: float) -> Quality:
    """Why a float is no value: NaN is invalid data, an infinity is out of range."""
    if value != value:
        return Quality.BAD_DATA_INVALID
    return Quality.BAD_OVER_RANGE if value > 0 else Quality.BAD_UNDER_RANGE


class Smoother:
    """Moving average or median over the last `n` samples ("none" passes samples through)."""

    def __init__(self, method: str = "none", n: int = 1) -> None:
        self.method = method
        self.window: deque[float] = deque(maxlen=n if method != "none" else 1)

    def push(self, x: float) -> float:
        self.window.append(x)
        if self.method == "median":  # (not `statistics`: 0.7 MB resident for three lines)
            ordered = sorted(self.window)
            mid = len(ordered) // 2
            return ordered[mid] if len(ordered) % 2 else (ordered[mid - 1] + ordered[mid]) / 2
        return math.fsum(self.window) / len(self.window)

    def clear(self) -> None:
        self.window.clear()


def cast(value: float, type_: str) -> Value:
    """A value as its point's type: int rounded, bool non-zero, float as it came."""
    if type_ == "int":
        return value if value.__class__ is int else round(value)
    if type_ == "bool":
        return bool(value)
    return value


@dataclass
class ReportByException:
    """Emit when the value moved more than the deadband since the last emitted one, when the
    quality changed, or when `heartbeat_ms` passed since the last emission. With no deadband
    every sample goes out; with no heartbeat an unchanged value is held back for good.

    `deadband_pct` is a percentage of `span_abs` when the point has a span (a loop's low..high,
    or its valid range), else of the last emitted value's magnitude."""

    deadband: float = 0.0
    heartbeat_ms: int = 0
    deadband_pct: float = 0.0
    span_abs: float | None = None
    last: tuple[Value, int, int] | None = None  # (value, quality, ts_ms) last emitted

    @property
    def active(self) -> bool:
        return self.deadband > 0 or self.deadband_pct > 0

    def band(self, old: float) -> float:
        base = self.span_abs if self.span_abs is not None else abs(old)
        return max(self.deadband, self.deadband_pct / 100 * base)

    def due(self, value: Value, quality: int, now_ms: int) -> bool:
        if self.active and self.last is not None:
            old, old_q, old_ms = self.last
            if isinstance(value, str) or isinstance(old, str):  # text: any change is a move
                moved = value != old
            else:
                moved = (value is None) != (old is None) or (
                    value is not None and old is not None and abs(value - old) > self.band(old))
            quiet = not self.heartbeat_ms or now_ms - old_ms < self.heartbeat_ms
            if not moved and quality == old_q and quiet:
                return False
        self.last = (value, quality, now_ms)
        return True


@dataclass
class Loop:
    """A 4-20 mA current loop: the value (in mA by then) is checked against NAMUR NE43 and
    spanned from 4..20 mA to low..high."""

    low: float
    high: float
    sqrt: bool = False
    cutoff_pct: float = 0.0


@dataclass
class Transform:
    """Everything one point declares, in the order it is applied. Built by `points.specs`."""

    scale: float = 1.0
    offset: float = 0.0
    type: str = "float"
    loop: Loop | None = None
    smoother: Smoother | None = None
    valid_min: float | None = None
    valid_max: float | None = None
    report: ReportByException = field(default_factory=ReportByException)
    alarms: LimitAlarms = field(default_factory=lambda: LimitAlarms([]))

    @property
    def identity(self) -> bool:
        """Nothing to do beyond the finite check: the stage's fast path."""
        return self.type == "float" and self.cast_only

    @property
    def cast_only(self) -> bool:
        """Nothing to do but give the value the point's type: the stage's second fast path."""
        return (self.scale == 1.0 and self.offset == 0.0 and self.loop is None
                and self.smoother is None and self.valid_min is None and self.valid_max is None
                and not self.report.active and not self.alarms.limits)

    def value(self, raw: Value, quality: int) -> tuple[Value, int]:
        """The engineering value and quality of one raw sample (no state but the filter)."""
        if raw is None or quality >= Quality.BAD:  # no value: the device said why
            self._clear()
            return None, quality
        if isinstance(raw, str):  # a string point: text has no scale, range or deadband
            return raw, quality
        if isinstance(raw, float) and not math.isfinite(raw):
            self._clear()
            return None, finite_quality(raw)
        value: float = raw * self.scale + self.offset if self._linear else raw
        if self.loop is not None:
            ne43 = namur_quality(value)
            if ne43.is_bad:
                self._clear()
                return None, ne43
            quality = max(quality, ne43)
            value = scale(self._smooth(value), self.loop.low, self.loop.high, self.loop.sqrt,
                          self.loop.cutoff_pct)
        elif self.smoother is not None:
            value = self._smooth(value)
        if self.valid_min is not None and value < self.valid_min:
            return None, Quality.BAD_UNDER_RANGE
        if self.valid_max is not None and value > self.valid_max:
            return None, Quality.BAD_OVER_RANGE
        return self._typed(value), quality

    @property
    def _linear(self) -> bool:
        return self.scale != 1.0 or self.offset != 0.0

    def _typed(self, value: float) -> Value:
        return cast(value, self.type)

    def _smooth(self, value: float) -> float:
        return self.smoother.push(value) if self.smoother is not None else value

    def _clear(self) -> None:
        if self.smoother is not None:  # a recovered input starts afresh, not averaged with a fault
            self.smoother.clear()

    def apply(self, r: Reading) -> tuple[Reading | None, list[AlarmChange]]:
        """The reading to send for one raw reading (None: held back) and its alarm changes."""
        if isinstance(r.value, str):  # a text point: nothing to scale or compare, sent as read
            return r, []
        value, quality = self.value(r.value, r.quality)
        changes = (self.alarms.update(float(value), r.ts_ms)
                   if value is not None and self.alarms.limits else [])
        if not self.report.due(value, quality, r.ts_ms):
            return None, changes
        return Reading(r.alias, r.ts_ms, value, quality), changes
