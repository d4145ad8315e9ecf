"""Fixtures for the I2C and 4-20 mA tests: a simulated clock that sleeping advances."""

from __future__ import annotations

from pathlib import Path

from gatewayd.model import Event
from gatewayd.sources.base import SourceContext


class SimClock:
    """Seconds that pass only when someone sleeps: chips and drivers share it, nobody waits."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.t += seconds


def make_ctx(tmp_path: Path, bus: object, clock: SimClock, events: list[Event]) -> SourceContext:
    return SourceContext(emit=lambda r: None, event=events.append, state_dir=tmp_path,
                         clock_ms=lambda: int(clock() * 1000),
                         extras={"i2c_bus": bus, "sleep": clock.sleep})
