"""The tiny interface every source implements, and the context the supervisor hands it.

A *device* is one configured `[[devices]]` entry. The supervisor runs one thread per physical
bus (`bus_key`); devices on the same bus are polled one after another by that thread, so two
devices never interleave transactions on one bus.

Polled shape (most sources)::

    open()              connect / configure the chip; raise DeviceError if it cannot
    read(now_ms)        one poll -> readings (per-point bad quality for partial failures);
                        raise DeviceError when the whole device failed this time
    close()

Event-driven shape (GPIO edges): `start(ctx)` / `stop()`; readings go to `ctx.emit`.

Drivers raise; the supervisor owns failure policy: it turns a DeviceError into bad-quality
readings for every point of the device, backs off, and logs once on down and once on recovery.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from ..buses.backend import Backend, Hardware
from ..model import Event, Point, Reading


@dataclass
class SourceContext:
    """What a device may use from the daemon: sinks for readings and events, and its state dir."""

    emit: Callable[[Reading], None]
    event: Callable[[Event], None]
    state_dir: Path
    clock_ms: Callable[[], int]
    extras: dict[str, Any] = field(default_factory=dict)
    backend: Backend = field(default_factory=Hardware)  # chosen once per process


class Device:
    """What every device object starts from: its config, name, bus, period and points."""

    def __init__(self, cfg: Any, points: list[Point] | None = None) -> None:
        self.cfg = cfg
        self.name: str = cfg.name
        self.bus_key: str = cfg.bus_key
        self.period_s: float = cfg.period_ms / 1000
        self.points: list[Point] = (points if points is not None
                                    else [p.point(cfg.name) for p in cfg.points])


@runtime_checkable
class PolledDevice(Protocol):
    name: str
    bus_key: str
    period_s: float
    points: list[Point]

    def open(self) -> None: ...
    def read(self, now_ms: int) -> Iterable[Reading]: ...
    def close(self) -> None: ...


@runtime_checkable
class EventDevice(Protocol):
    name: str
    bus_key: str
    points: list[Point]

    def start(self, ctx: SourceContext) -> None: ...
    def stop(self) -> None: ...
