"""The tiny interface every source implements, and the context the supervisor hands it.

A *device* is one configured `[[devices]]` entry. It gets its physical line from the
supervisor's `Buses` (gatewayd.buses) when it is built, as a typed port, and `device.bus` is
that line. The supervisor runs one runner thread per bus; devices on the same bus are polled
one after another by that thread, so two devices never interleave transactions on one bus.

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

from ..buses import Bus, Buses
from ..model import Event, Point, Reading


@dataclass
class SourceContext:
    """What a device may use from the daemon: sinks for readings and events, and its state dir."""

    emit: Callable[[Reading], None]
    event: Callable[[Event], None]
    state_dir: Path
    clock_ms: Callable[[], int]
    extras: dict[str, Any] = field(default_factory=dict)
    buses: Buses = field(default_factory=Buses)  # the supervisor's: one Bus per physical line

    def __post_init__(self) -> None:
        if not isinstance(self.buses, Buses):  # a Backend, from callers of the older shape
            self.buses = Buses(self.buses)


def buses_of(ctx: SourceContext | None) -> Buses | None:
    """The context's bus registry (None: the device makes a private one, for tools and tests)."""
    return ctx.buses if ctx is not None else None


class Device:
    """What every device object starts from: its config, name, bus, period and points.

    `buses` is the supervisor's registry; without one (a tool, a test) the device makes a
    private registry and closes it with itself. Subclasses set `self.bus` from it."""

    def __init__(self, cfg: Any, points: list[Point] | None = None,
                 buses: Buses | None = None) -> None:
        self.cfg = cfg
        self.name: str = cfg.name
        self.period_s: float = cfg.period_ms / 1000
        self.points: list[Point] = (points if points is not None
                                    else [p.point(cfg.name) for p in cfg.points])
        self._private_buses = buses is None
        self.buses: Buses = buses if buses is not None else Buses()
        self._bus: Bus | None = None

    @property
    def bus(self) -> Bus:
        """The device's line. A kind that keeps its client itself (a PLC connection) and sets
        none gets a plain Bus keyed by its config (`s7:host:port`): one runner a PLC."""
        if self._bus is None:
            key = getattr(self.cfg, "bus_key", "") or f"device:{self.name}"
            self._bus = self.buses.get(Bus, key, None, self.name, lambda: Bus(key))
        return self._bus

    @bus.setter
    def bus(self, bus: Bus) -> None:
        self._bus = bus

    @property
    def bus_key(self) -> str:
        return self.bus.key

    def release_bus(self) -> None:
        """Done with the line for now: a private registry closes; a shared line closes only
        when no other device is on it (the supervisor's registry closes the rest at stop)."""
        if self._private_buses:
            self.buses.close()
        elif self._bus is not None:
            self.buses.release(self._bus, self.name)


@runtime_checkable
class PolledDevice(Protocol):
    name: str
    bus: Bus
    period_s: float
    points: list[Point]

    def open(self) -> None: ...
    def read(self, now_ms: int) -> Iterable[Reading]: ...
    def close(self) -> None: ...


@runtime_checkable
class EventDevice(Protocol):
    name: str
    bus: Bus
    points: list[Point]

    def start(self, ctx: SourceContext) -> None: ...
    def stop(self) -> None: ...
