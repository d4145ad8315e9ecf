"""A clock that moves only when told: injected into stores, chips, drivers and watchdogs so
tests and benchmarks never sleep for real (the idea of trio's MockClock)."""

from __future__ import annotations


class ManualClock:
    """`clock()` reads the time; `clock.sleep(s)` (or `clock.t += s`) moves it."""

    def __init__(self, t: float = 0.0) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += seconds
