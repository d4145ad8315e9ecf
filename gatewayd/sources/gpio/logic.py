"""Pure logic of digital inputs: debounce, pulse rates, shift calendar, OEE.

Times are milliseconds handed in by the caller (an injected clock), so tests run hours of
production in microseconds. No I/O, no threads.
"""

from __future__ import annotations

from collections import deque
from dataclasses import asdict, dataclass
from datetime import datetime, time, timedelta, tzinfo
from typing import Any


class Debouncer:
    """Accepts a new level only once it has held for `debounce_ms` (a bounce back cancels it).

    A transition is dated when the level first changed, not when it was confirmed."""

    def __init__(self, debounce_ms: int, level: bool) -> None:
        self.debounce_ms = debounce_ms
        self.level = level
        self._pending: tuple[bool, int] | None = None

    def feed(self, level: bool, t_ms: int) -> list[tuple[int, bool]]:
        """A raw level seen at `t_ms`; returns the transitions this confirms."""
        accepted = self.settle(t_ms)
        if level == self.level:
            self._pending = None
        elif self._pending is None or self._pending[0] != level:
            self._pending = (level, t_ms)
        return accepted + self.settle(t_ms)

    def settle(self, t_ms: int) -> list[tuple[int, bool]]:
        """The pending level, if it has held long enough by `t_ms`."""
        if self._pending is None or t_ms - self._pending[1] < self.debounce_ms:
            return []
        self.level, since = self._pending
        self._pending = None
        return [(since, self.level)]


class PulseRate:
    """Pulses a second over a sliding window (shorter while the window is still filling)."""

    def __init__(self, window_ms: int, start_ms: int) -> None:
        self.window_ms = window_ms
        self.start_ms = start_ms
        self._times: deque[int] = deque()

    def add(self, t_ms: int) -> None:
        self._times.append(t_ms)

    def per_s(self, now_ms: int) -> float:
        edge = now_ms - self.window_ms
        while self._times and self._times[0] <= edge:
            self._times.popleft()
        span_ms = min(self.window_ms, now_ms - self.start_ms)
        return len(self._times) * 1000 / span_ms if span_ms > 0 else 0.0


class RunTimer:
    """Time spent active, accumulated as the level changes and as time passes."""

    def __init__(self, total_ms: int, running: bool, t_ms: int) -> None:
        self.total_ms = total_ms
        self.running = running
        self._last_ms = t_ms

    def advance(self, t_ms: int) -> None:
        if self.running and t_ms > self._last_ms:
            self.total_ms += t_ms - self._last_ms
        self._last_ms = max(self._last_ms, t_ms)

    def set(self, running: bool, t_ms: int) -> None:
        self.advance(t_ms)
        self.running = running


class ShiftCalendar:
    """Shifts that start every day at the given local times."""

    def __init__(self, starts: list[time], tz: tzinfo | None) -> None:
        self.starts = starts
        self.tz = tz

    def _around(self, t_ms: int) -> list[int]:
        day = datetime.fromtimestamp(t_ms / 1000, self.tz).date()
        return sorted(
            int(datetime.combine(day + timedelta(days=d), s, self.tz).timestamp() * 1000)
            for d in (-1, 0, 1)
            for s in self.starts
        )

    def shift_start(self, t_ms: int) -> int:
        return max(s for s in self._around(t_ms) if s <= t_ms)

    def next_start(self, t_ms: int) -> int:
        return min(s for s in self._around(t_ms) if s > t_ms)


@dataclass
class ShiftTally:
    """What one shift produced so far. `counted_from_ms` is when counting began: the shift's
    start, or later when the gateway started during the shift; the time before it is not
    known to be downtime and does not count as such."""

    start_ms: int
    run_ms: int = 0
    parts: int = 0
    rejects: int = 0
    counted_from_ms: int = 0

    def __post_init__(self) -> None:
        self.counted_from_ms = max(self.counted_from_ms, self.start_ms)

    def elapsed_ms(self, now_ms: int) -> int:
        return now_ms - self.counted_from_ms

    def to_dict(self) -> dict[str, int]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ShiftTally:
        """(A tally saved before counted_from_ms existed counts from its shift's start.)"""
        return cls(**{k: int(data[k]) for k in ("start_ms", "run_ms", "parts", "rejects")},
                   counted_from_ms=int(data.get("counted_from_ms", data["start_ms"])))


def performance_impossible(parts: int, run_ms: int, ideal_per_min: float) -> bool:
    """More parts than the ideal rate allows in the run time, by more than the one part a
    count may be ahead: the ideal rate is set too low (the ideal cycle time too long)."""
    return run_ms > 0 and parts - 1 > ideal_per_min * run_ms / 60_000


def oee(elapsed_ms: int, run_ms: int, parts: int, rejects: int,
        ideal_per_min: float) -> dict[str, float | None]:
    """Availability, performance, quality and their product; None where not defined yet.

    availability = run time / elapsed shift time
    performance  = parts / (ideal rate * run time)   (above 1 means the ideal rate is too low)
    quality      = (parts - rejects) / parts
    """
    availability = run_ms / elapsed_ms if elapsed_ms > 0 else None
    performance = parts / (ideal_per_min * run_ms / 60_000) if run_ms > 0 else None
    quality = max(0, parts - rejects) / parts if parts > 0 else None
    figures = {"availability": availability, "performance": performance, "quality": quality}
    known = [v for v in figures.values() if v is not None]
    figures["oee"] = known[0] * known[1] * known[2] if len(known) == 3 else None
    return figures
