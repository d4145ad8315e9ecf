"""Helpers of the I2C and 4-20 mA tests: a source context whose sleeps move a ManualClock."""

from __future__ import annotations

from pathlib import Path

from gatewayd.model import Event
from gatewayd.sims.clock import ManualClock
from gatewayd.sources.base import SourceContext


def make_ctx(tmp_path: Path, bus: object, clock: ManualClock, events: list[Event]) -> SourceContext:
    return SourceContext(emit=lambda r: None, event=events.append, state_dir=tmp_path,
                         clock_ms=lambda: int(clock() * 1000),
                         extras={"i2c_bus": bus, "sleep": clock.sleep})
