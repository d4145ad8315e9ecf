"""The point stage: one small object per device that the runner calls between the device's
read and the pipeline's sink.

    device.read() ──raw Readings──▶ PointStage.process ──Readings──▶ sink
                                          └── alarm Events ──▶ event sink

A device hands over raw values and its quality; each point's `Transform` (built once from the
point's config) scales, checks, filters, raises alarms and decides whether the reading is sent.
Points whose config asks for nothing pass through with only the finite check, so a 1,000-point
Modbus gateway pays one dict lookup and one comparison a reading.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from ..model import Event, Point, Reading
from .alarms import AlarmChange, LimitAlarms
from .config import TransformFields
from .transform import Loop, ReportByException, Smoother, Transform, cast, finite_quality


def transform_of(fields: TransformFields, point: Point, loop: Loop | None = None,
                 scale: float | None = None, offset: float | None = None) -> Transform:
    """A point's transform from its config; a kind may supply the loop and the linear step
    (4-20 mA across a shunt is volts * 1000 / ohms) where its config says it another way."""
    if loop is None and fields.loop_4_20ma is not None:
        lc = fields.loop_4_20ma
        loop = Loop(lc.low, lc.high, lc.sqrt, lc.sqrt_cutoff_pct)
    smoother = Smoother(fields.filter, fields.filter_n) if fields.filter != "none" else None
    alarms = (LimitAlarms.of(**fields.alarms.as_dict()) if fields.alarms is not None
              else LimitAlarms([]))
    span = abs(loop.high - loop.low) if loop is not None else fields.span_abs()
    report = ReportByException(fields.deadband, round(fields.heartbeat_s * 1000),
                               fields.deadband_pct, span)
    return Transform(fields.scale if scale is None else scale,
                     fields.offset if offset is None else offset, point.type, loop, smoother,
                     fields.valid_min, fields.valid_max, report, alarms)


class PointStage:
    """Applies each point's transform to a device's raw readings; alarm changes become
    `alarm` events naming the device and the point."""

    def __init__(self, device: str, points: Iterable[Point], transforms: Mapping[int, Transform],
                 event: Callable[[Event], None] = lambda e: None) -> None:
        self.device = device
        self.points = {p.alias: p for p in points}
        # three paths: untouched (finite check only), a cast to the point's type, a transform
        self.casts = {a: t.type for a, t in transforms.items() if t.cast_only and not t.identity}
        self.transforms = {a: t for a, t in transforms.items() if not t.cast_only}
        self.event = event

    @classmethod
    def for_device(cls, device: Any, event: Callable[[Event], None] = lambda e: None
                   ) -> PointStage:
        """The stage of a built device: its points, transforms from its config's points."""
        points: list[Point] = list(device.points)
        return cls(device.name, points, transforms_of(device, points), event)

    def process(self, readings: Iterable[Reading]) -> list[Reading]:
        out: list[Reading] = []
        transforms, casts = self.transforms, self.casts
        for r in readings:
            t = transforms.get(r.alias)
            if t is None:
                v = r.value
                if v.__class__ is float and not math.isfinite(v):  # type: ignore[arg-type]
                    r = Reading(r.alias, r.ts_ms, None, finite_quality(v))  # type: ignore[arg-type]
                elif v is not None and not isinstance(v, str) and (to := casts.get(r.alias)):
                    typed = cast(v, to)
                    if typed is not v:
                        r = r._replace(value=typed)
                out.append(r)
                continue
            sent, changes = t.apply(r)
            if sent is not None:
                out.append(sent)
            for ch in changes:
                self._alarm(r, ch)
        return out

    def emit_to(self, sink: Callable[[Reading], None]) -> Callable[[Reading], None]:
        """An `emit` for an event-driven device: each reading through the stage, then `sink`."""
        def emit(r: Reading) -> None:
            for out in self.process((r,)):
                sink(out)
        return emit

    def _alarm(self, r: Reading, ch: AlarmChange) -> None:
        p = self.points.get(r.alias)
        self.event(Event(r.ts_ms, "alarm", {
            "device": self.device, "point": p.name if p else str(r.alias), "alias": r.alias,
            "level": ch.level, "state": "active" if ch.active else "cleared",
            "value": ch.value, "limit": ch.limit, "unit": p.unit if p else ""}))


def transforms_of(device: Any, points: Iterable[Point]) -> dict[int, Transform]:
    """Each point's transform: the device's config may build them itself (`point_transforms`,
    e.g. analog's 4-20 mA from its shunt), else each point config's own fields are used."""
    by_alias = {p.alias: p for p in points}
    cfg = getattr(device, "cfg", None)
    custom = getattr(cfg, "point_transforms", None)
    if custom is not None:
        return dict(custom(by_alias))
    out: dict[int, Transform] = {}
    for pc in getattr(cfg, "points", []) or []:
        point = by_alias.get(getattr(pc, "alias", None))  # type: ignore[arg-type]
        if point is not None and isinstance(pc, TransformFields):
            out[point.alias] = transform_of(pc, point)
    return out
