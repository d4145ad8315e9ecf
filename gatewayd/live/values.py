"""The last reading of every point, for the live view (`Supervisor.status()`).

Recording is one dict store per reading under a lock held for no more than that, on the
runner's thread; the view reads a copy. Nothing here can block or fail a poll.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any

from ..model import Event, Point, Reading, now_ms, quality_label

KEEP_EVENTS = 8


class LastValues:
    def __init__(self) -> None:
        self._last: dict[int, Reading] = {}
        self._lock = threading.Lock()
        self.alarms: dict[str, str] = {}  # point (or device.feature) -> level, while active
        self.events: deque[dict[str, Any]] = deque(maxlen=KEEP_EVENTS)

    def tee_event(self, sink: Callable[[Event], None]) -> Callable[[Event], None]:
        """`sink` for events, keeping the active alarms and the last few events first."""
        def tee(ev: Event) -> None:
            self.note(ev)
            sink(ev)
        return tee

    def note(self, ev: Event) -> None:
        f = ev.fields
        key, level, active = None, "", False
        if ev.kind == "alarm":
            key, level, active = str(f.get("point")), str(f.get("level")), f.get("state") == "active"
        elif ev.kind == "vibration.alarm":
            key, level = f"{f.get('device')}.{f.get('feature')}", str(f.get("defect") or "ALARM")
            active = f.get("state") == "raised"
        elif ev.kind == "vibration.zone":
            key, level = f"{f.get('device')}.iso_zone", f"zone {f.get('zone')}"
            active = f.get("zone") in ("C", "D")
        with self._lock:
            if key is not None and active:
                self.alarms[key] = level
            elif key is not None:
                self.alarms.pop(key, None)
            self.events.append({"ts_ms": ev.ts_ms, "kind": ev.kind, **f})

    def recent(self) -> tuple[dict[str, str], list[dict[str, Any]]]:
        with self._lock:
            return dict(self.alarms), list(self.events)

    def record(self, readings: Iterable[Reading]) -> None:
        with self._lock:
            for r in readings:
                self._last[r.alias] = r

    def tee_many(self, sink: Callable[[list[Reading]], None]) -> Callable[[list[Reading]], None]:
        """`sink`, recording what passes through it first."""
        def tee(readings: list[Reading]) -> None:
            self.record(readings)
            sink(readings)
        return tee

    def tee_one(self, sink: Callable[[Reading], None]) -> Callable[[Reading], None]:
        def tee(reading: Reading) -> None:
            self.record((reading,))
            sink(reading)
        return tee

    def clear(self) -> None:
        with self._lock:
            self._last.clear()

    def by_device(self, points: Iterable[Point], now: int | None = None) -> dict[str, list[dict[str, Any]]]:
        """Each device's points with their last value, quality and age (None before the first)."""
        with self._lock:
            last = dict(self._last)
        now = now_ms() if now is None else now
        out: dict[str, list[dict[str, Any]]] = {}
        for p in points:
            r = last.get(p.alias)
            out.setdefault(p.device, []).append({
                "name": p.name, "alias": p.alias, "unit": p.unit, "resolution": p.resolution,
                "value": None if r is None else r.value,
                "quality": "no value yet" if r is None else quality_label(r.quality),
                "age_s": None if r is None else round(max(0, now - r.ts_ms) / 1000, 1)})
        return out
