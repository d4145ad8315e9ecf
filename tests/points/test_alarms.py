"""The one alarm engine: limits with hysteresis, debounced by persistence and delay; the
vibration features' thresholds and zone watch are the same machines."""

from __future__ import annotations

import pytest

from gatewayd.analysis import alarms as analysis_alarms
from gatewayd.points.alarms import Debounce, Limit, LimitAlarms, Threshold, ZoneWatch


def test_threshold_raises_at_on_and_clears_below_off_after_persistence() -> None:
    """on = 3, off = 2, 2 windows: a value at `on` counts, one window alone does nothing."""
    th = Threshold("bearing_index", on=3.0, off=2.0, persistence=2)
    trace = [3.0, 1.0, 3.0, 3.5, 2.5, 2.0, 1.9, 1.8]
    assert [th.update(v) for v in trace] == [None, None, None, "raised", None, None, None,
                                             "cleared"]


def test_threshold_refuses_off_above_on() -> None:
    """The clear level sits below the raise level."""
    with pytest.raises(ValueError, match="off <= on"):
        Threshold("x", on=1.0, off=2.0)


def test_nan_keeps_the_present_state() -> None:
    """A NaN window neither raises nor clears: it counts as the present state, so a run of
    windows beyond the limit starts again after it."""
    lim = Limit("H", 10.0, debounce=Debounce(persistence=2))
    assert [lim.update(v) for v in [11, float("nan"), 11, 11, 1, float("nan"), 1, 1]] == [
        None, None, None, True, None, None, None, False]


def test_persistence_and_delay_both_hold() -> None:
    """With 3 samples and 2 s, a change needs both: 3 fast samples are not enough."""
    d = Debounce(persistence=3, delay_ms=2000)
    got = [d.update(1, t) for t in (0, 100, 200, 1000, 2000)]
    assert got == [None, None, None, None, 1]


def test_low_limits_and_persistence_from_config() -> None:
    """L/LL raise at or below their limit; persistence counts samples in a row."""
    alarms = LimitAlarms.of(l=10, ll=5, persistence=2)
    changes = [[(c.level, c.active) for c in alarms.update(v, t)]
               for t, v in enumerate([10, 10, 4, 4, 11, 11])]
    assert changes == [[], [("L", True)], [], [("LL", True)], [], [("L", False), ("LL", False)]]


def test_zone_watch_reports_a_held_zone() -> None:
    """A zone change counts once it held for the persistence windows; zones start at A (1)."""
    zw = ZoneWatch(2)
    assert [zw.update(z) for z in [1, 3, 3, 2, 2, 2]] == [None, None, 3, None, 2, None]


def test_analysis_names_are_the_engine() -> None:
    """The analysis API's alarm names are the point stage's engine, not a second one."""
    assert analysis_alarms.Threshold is Threshold and analysis_alarms.ZoneWatch is ZoneWatch
