"""Helpers of the I2C and 4-20 mA tests: a source context whose sleeps move a ManualClock."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from gatewayd.model import Event, Reading
from gatewayd.points.stage import PointStage
from gatewayd.sources.base import SourceContext
from gatewayd.testing.clock import ManualClock


def make_ctx(tmp_path: Path, bus: object, clock: ManualClock, events: list[Event]) -> SourceContext:
    return SourceContext(emit=lambda r: None, event=events.append, state_dir=tmp_path,
                         clock_ms=lambda: int(clock() * 1000),
                         extras={"i2c_bus": bus, "sleep": clock.sleep})


class Staged:
    """A device read through its point stage, as the runner reads it: raw values in,
    scaled, checked, filtered readings out and alarm events to `events`."""

    def __init__(self, device: Any, events: list[Event] | None = None) -> None:
        self.device = device
        self.stage = PointStage.for_device(device, (events if events is not None else []).append)

    def read(self, now_ms: int) -> list[Reading]:
        return self.stage.process(self.device.read(now_ms))

    def __getattr__(self, name: str) -> Any:
        return getattr(self.device, name)
