"""The alarm state machines moved to the one alarm engine, `gatewayd.points.alarms`; these
names stay importable from here for the analysis API's users."""

from __future__ import annotations

from ..points.alarms import Debounce, Threshold, ZoneWatch

__all__ = ["Debounce", "Threshold", "ZoneWatch"]
