"""Alarms as pure state machines: hysteresis decides the level, persistence debounces it.

A level (0 normal, 1 alarm; or a zone 1..4) is reported only after it has held for
`persistence` consecutive windows, so one noisy window neither raises nor clears an alarm.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Debounce:
    """Reports a new level once it has been seen `persistence` windows in a row."""

    persistence: int = 1
    state: int = 0
    candidate: int = 0
    count: int = 0

    def update(self, level: int) -> int | None:
        """Feed one window's level; return the new state when it changes, else None."""
        if level == self.state:
            self.count = 0
            return None
        self.count = self.count + 1 if level == self.candidate else 1
        self.candidate = level
        if self.count < self.persistence:
            return None
        self.state, self.count = level, 0
        return level


@dataclass
class Threshold:
    """A feature alarm: on at `on` or above, off below `off` (hysteresis), both debounced."""

    feature: str
    on: float
    off: float
    persistence: int = 3
    label: str = ""

    def __post_init__(self) -> None:
        if self.off > self.on:
            raise ValueError("expected off <= on (the clear level sits below the raise level)")
        self.debounce = Debounce(self.persistence)

    @property
    def active(self) -> bool:
        return self.debounce.state == 1

    def level(self, value: float) -> int:
        if value != value:  # NaN keeps the present state
            return self.debounce.state
        limit = self.off if self.active else self.on
        return int(value >= limit)

    def update(self, value: float) -> str | None:
        """'raised', 'cleared' or None for one window's value."""
        change = self.debounce.update(self.level(value))
        return None if change is None else ("raised" if change else "cleared")


@dataclass
class ZoneWatch:
    """Reports a change of ISO zone once the new zone has held `persistence` windows."""

    persistence: int = 3

    def __post_init__(self) -> None:
        self.debounce = Debounce(self.persistence, state=1)

    def update(self, zone: int) -> int | None:
        return self.debounce.update(zone)
