"""Pure GPIO logic: debounce, pulse rate, run timer, shift calendar and OEE formulas."""

from __future__ import annotations

from datetime import UTC, datetime, time

import pytest

from gatewayd.sources.gpio.logic import Debouncer, PulseRate, RunTimer, ShiftCalendar, oee


@pytest.mark.parametrize(
    ("debounce_ms", "feeds", "settle_at", "accepted"),
    [
        (0, [(True, 10)], 10, [(10, True)]),
        (20, [(True, 10)], 29, []),
        (20, [(True, 10)], 30, [(10, True)]),
        (20, [(True, 0), (False, 5), (True, 8)], 40, [(8, True)]),  # bounce restarts the wait
        (20, [(True, 0), (False, 5)], 100, []),  # back to the old level: nothing happened
        (20, [(True, 0), (True, 10)], 20, [(0, True)]),  # a repeat keeps the first time
        (5, [(True, 0), (False, 10), (True, 20)], 20, [(0, True), (10, False)]),
    ],
)
def test_debouncer(debounce_ms: int, feeds: list[tuple[bool, int]], settle_at: int,
                   accepted: list[tuple[int, bool]]) -> None:
    """A level counts only after holding for the debounce time, dated when it began."""
    d = Debouncer(debounce_ms, False)
    seen = [t for level, ts in feeds for t in d.feed(level, ts)]
    assert seen + d.settle(settle_at) == accepted


def test_pulse_rate_window() -> None:
    """The rate counts pulses inside the window, over the part of it that has elapsed."""
    r = PulseRate(10_000, start_ms=0)
    for t in range(0, 5000, 100):  # 10 Hz for 5 s
        r.add(t)
    assert r.per_s(5000) == pytest.approx(10.0)
    assert r.per_s(15_000) == pytest.approx(0.0)
    assert PulseRate(1000, 0).per_s(0) == 0.0


def test_run_timer() -> None:
    """Run time accrues only while active, including up to the time asked about."""
    r = RunTimer(500, running=False, t_ms=0)
    r.set(True, 1000)
    r.advance(3000)
    r.set(False, 4000)
    r.advance(9000)
    assert r.total_ms == 500 + 3000


def ms(text: str) -> int:
    return int(datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp() * 1000)


@pytest.mark.parametrize(
    ("now", "start", "next_start"),
    [
        ("2024-03-01T06:00:00", "2024-03-01T06:00:00", "2024-03-01T14:00:00"),
        ("2024-03-01T13:59:59", "2024-03-01T06:00:00", "2024-03-01T14:00:00"),
        ("2024-03-01T23:30:00", "2024-03-01T22:00:00", "2024-03-02T06:00:00"),
        ("2024-03-01T02:00:00", "2024-02-29T22:00:00", "2024-03-01T06:00:00"),
    ],
)
def test_shift_calendar(now: str, start: str, next_start: str) -> None:
    """The shift holding a time started at the latest start time at or before it."""
    cal = ShiftCalendar([time(6), time(14), time(22)], UTC)
    assert cal.shift_start(ms(now)) == ms(start)
    assert cal.next_start(ms(now)) == ms(next_start)


@pytest.mark.parametrize(
    ("elapsed", "run", "parts", "rejects", "ideal", "expected"),
    [
        (8 * 3600_000, 6 * 3600_000, 540, 54, 2.0, (0.75, 0.75, 0.9, 0.50625)),
        (3600_000, 3600_000, 60, 0, 1.0, (1.0, 1.0, 1.0, 1.0)),
        (3600_000, 0, 0, 0, 1.0, (0.0, None, None, None)),
        (0, 0, 0, 0, 1.0, (None, None, None, None)),
        (3600_000, 1800_000, 10, 12, 1.0, (0.5, 10 / 30, 0.0, 0.0)),
    ],
)
def test_oee(elapsed: int, run: int, parts: int, rejects: int, ideal: float,
             expected: tuple[float | None, ...]) -> None:
    """OEE is availability x performance x quality; undefined figures are None."""
    got = oee(elapsed, run, parts, rejects, ideal)
    keys = ("availability", "performance", "quality", "oee")
    assert tuple(got[k] for k in keys) == pytest.approx(expected)
