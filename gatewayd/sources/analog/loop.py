"""Pure 4-20 mA loop logic: scaling, NAMUR NE43 quality, filtering, report by exception and
limit alarms. Numbers in, numbers out; time is the `now_ms` the caller passes.

    mA -> NE43 quality (on the raw current, so a wire break shows at once)
       -> filter (mean or median over N; emptied by a bad sample)
       -> scale 4..20 mA to low..high (optionally square-root extracted)
       -> alarms HH/H/L/LL (hysteresis, delay) -> report by exception (deadband, max silence)
"""

from __future__ import annotations

import math
import statistics
from collections import deque
from dataclasses import dataclass, field
from typing import NamedTuple

from ...model import Quality

WIRE_BREAK_MA, LOW_UNCERTAIN_MA = 3.6, 3.8
HIGH_UNCERTAIN_MA, SENSOR_FAULT_MA = 20.5, 21.0


def shunt_ma(volts: float, shunt_ohms: float) -> float:
    return volts / shunt_ohms * 1000.0


def counts_ma(counts: int, counts_4ma: int, counts_20ma: int) -> float:
    """Loop current from an analog module's counts, linear through its 4 and 20 mA counts."""
    return 4.0 + 16.0 * (counts - counts_4ma) / (counts_20ma - counts_4ma)


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


class Smoother:
    """Moving average or median over the last `n` samples ("none" passes samples through)."""

    def __init__(self, method: str = "none", n: int = 1) -> None:
        self.method = method
        self.window: deque[float] = deque(maxlen=n if method != "none" else 1)

    def push(self, x: float) -> float:
        self.window.append(x)
        if self.method == "median":
            return statistics.median(self.window)
        return math.fsum(self.window) / len(self.window)

    def clear(self) -> None:
        self.window.clear()


@dataclass
class ReportByException:
    """Emit when the value moved more than `deadband` since the last emitted one, when the
    quality changed, or when `max_silence_ms` passed since the last emission."""

    deadband: float = 0.0
    max_silence_ms: int = 0
    last: tuple[float | None, int, int] | None = None  # (value, quality, ts_ms) last emitted

    def due(self, value: float | None, quality: int, now_ms: int) -> bool:
        if self.last is not None:
            old, old_q, old_ms = self.last
            moved = value is not None and old is not None and abs(value - old) > self.deadband
            if not moved and quality == old_q and now_ms - old_ms < self.max_silence_ms:
                return False
        self.last = (value, quality, now_ms)
        return True


class AlarmChange(NamedTuple):
    level: str  # "HH", "H", "L", "LL"
    active: bool
    limit: float
    value: float


@dataclass
class LimitAlarm:
    """One limit: raises when the value is beyond it, clears when it is back past the
    hysteresis; either change must hold for `delay_ms` before it is taken."""

    level: str
    limit: float
    high: bool
    active: bool = False
    since_ms: int | None = None  # when the pending change was first seen

    def update(self, value: float, now_ms: int, hysteresis: float, delay_ms: int) -> bool:
        """True when the state changed on this sample."""
        sign = 1 if self.high else -1
        if self.active:
            changing = sign * (value - self.limit) < -hysteresis
        else:
            changing = sign * (value - self.limit) > 0
        if not changing:
            self.since_ms = None
            return False
        self.since_ms = now_ms if self.since_ms is None else self.since_ms
        if now_ms - self.since_ms < delay_ms:
            return False
        self.active, self.since_ms = not self.active, None
        return True


@dataclass
class LimitAlarms:
    limits: list[LimitAlarm]
    hysteresis: float = 0.0
    delay_ms: int = 0

    @classmethod
    def of(cls, hh: float | None = None, h: float | None = None, l: float | None = None,  # noqa: E741
           ll: float | None = None, hysteresis: float = 0.0, delay_ms: int = 0) -> LimitAlarms:
        given = [("HH", hh, True), ("H", h, True), ("L", l, False), ("LL", ll, False)]
        limits = [LimitAlarm(n, v, up) for n, v, up in given if v is not None]
        return cls(limits, hysteresis, delay_ms)

    def update(self, value: float, now_ms: int) -> list[AlarmChange]:
        return [AlarmChange(a.level, a.active, a.limit, value) for a in self.limits
                if a.update(value, now_ms, self.hysteresis, self.delay_ms)]


@dataclass
class LoopPoint:
    """The whole chain for one loop; `process` gives the reading to emit (or None) and the
    alarm changes of this sample."""

    low: float
    high: float
    sqrt: bool = False
    cutoff_pct: float = 0.0
    smoother: Smoother = field(default_factory=Smoother)
    report: ReportByException = field(default_factory=ReportByException)
    alarms: LimitAlarms = field(default_factory=lambda: LimitAlarms([]))

    def process(self, ma: float, now_ms: int) -> tuple[tuple[float | None, Quality] | None,
                                                        list[AlarmChange]]:
        quality = namur_quality(ma)
        changes: list[AlarmChange] = []
        value: float | None = None
        if quality.is_bad:
            self.smoother.clear()  # a recovered loop starts afresh, not averaged with a fault
        else:
            value = scale(self.smoother.push(ma), self.low, self.high, self.sqrt, self.cutoff_pct)
            changes = self.alarms.update(value, now_ms)
        emit = self.report.due(value, quality, now_ms)
        return ((value, quality) if emit else None), changes
