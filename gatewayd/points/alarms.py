"""The one alarm engine: a level is decided with hysteresis, then debounced before it counts.

Every alarm in gatewayd goes through here: the HH/H/L/LL limits any point can declare, the
vibration features' thresholds and the ISO 10816 zone watch. Pure state machines: values and
the caller's `now_ms` in, changes out.

    value ──Limit.level (hysteresis)──▶ 0/1 ──Debounce (persistence samples, delay ms)──▶ change

A limit raises when the value reaches it and clears only once the value is back past it by the
hysteresis. A new level is taken once it has held for `persistence` samples in a row AND for
`delay_ms`, so one noisy sample neither raises nor clears an alarm. NaN keeps the present state.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple


@dataclass
class Debounce:
    """Reports a new level once it has been seen `persistence` samples in a row, for at least
    `delay_ms` (both: the default of 1 sample and 0 ms takes a change at once)."""

    persistence: int = 1
    delay_ms: int = 0
    state: int = 0
    candidate: int = 0
    count: int = 0
    since_ms: int = 0

    def update(self, level: int, now_ms: int = 0) -> int | None:
        """Feed one sample's level; return the new state when it changes, else None."""
        if level == self.state:
            self.count = 0
            return None
        if self.count and level == self.candidate:
            self.count += 1
        else:
            self.candidate, self.count, self.since_ms = level, 1, now_ms
        if self.count < self.persistence or now_ms - self.since_ms < self.delay_ms:
            return None
        self.state, self.count = level, 0
        return level


@dataclass
class Limit:
    """One limit, above (`high`) or below: active at or beyond `limit`, cleared when the value
    is back past it by more than `hysteresis`."""

    name: str
    limit: float
    high: bool = True
    hysteresis: float = 0.0
    debounce: Debounce = field(default_factory=Debounce)

    def __post_init__(self) -> None:
        if self.hysteresis < 0:
            raise ValueError("expected hysteresis >= 0")

    @property
    def active(self) -> bool:
        return self.debounce.state == 1

    def level(self, value: float) -> int:
        if value != value:  # NaN keeps the present state
            return self.debounce.state
        beyond = value - self.limit if self.high else self.limit - value
        if self.active:
            return int(beyond >= -self.hysteresis)
        return int(beyond >= 0)

    def update(self, value: float, now_ms: int = 0) -> bool | None:
        """True when raised, False when cleared by this sample, None when unchanged."""
        change = self.debounce.update(self.level(value), now_ms)
        return None if change is None else bool(change)


class AlarmChange(NamedTuple):
    level: str  # "HH", "H", "L", "LL" (or a feature's name)
    active: bool
    limit: float
    value: float


@dataclass
class LimitAlarms:
    """The HH/H/L/LL limits of one point, sharing hysteresis, persistence and delay."""

    limits: list[Limit]

    @classmethod
    def of(cls, hh: float | None = None, h: float | None = None, l: float | None = None,  # noqa: E741
           ll: float | None = None, hysteresis: float = 0.0, delay_ms: int = 0,
           persistence: int = 1) -> LimitAlarms:
        given = [("HH", hh, True), ("H", h, True), ("L", l, False), ("LL", ll, False)]
        return cls([Limit(n, v, up, hysteresis, Debounce(persistence, delay_ms))
                    for n, v, up in given if v is not None])

    def update(self, value: float, now_ms: int) -> list[AlarmChange]:
        out = []
        for a in self.limits:
            change = a.update(value, now_ms)
            if change is not None:
                out.append(AlarmChange(a.name, change, a.limit, value))
        return out


@dataclass
class Threshold:
    """A named alarm on a feature: on at `on` or above, off below `off`, debounced over
    `persistence` windows (a high Limit whose hysteresis is on - off)."""

    feature: str
    on: float
    off: float
    persistence: int = 3
    label: str = ""

    def __post_init__(self) -> None:
        if self.off > self.on:
            raise ValueError("expected off <= on (the clear level sits below the raise level)")
        self.limit = Limit(self.feature, self.on, True, self.on - self.off,
                           Debounce(self.persistence))
        self.debounce = self.limit.debounce

    @property
    def active(self) -> bool:
        return self.limit.active

    def level(self, value: float) -> int:
        return self.limit.level(value)

    def update(self, value: float) -> str | None:
        """'raised', 'cleared' or None for one window's value."""
        change = self.limit.update(value)
        return None if change is None else ("raised" if change else "cleared")


@dataclass
class ZoneWatch:
    """Reports a change of ISO zone (1..4) once the new zone has held `persistence` windows."""

    persistence: int = 3

    def __post_init__(self) -> None:
        self.debounce = Debounce(self.persistence, state=1)

    def update(self, zone: int) -> int | None:
        return self.debounce.update(zone)
