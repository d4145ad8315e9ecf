"""Tables for the point stage's pure steps: the 4-20 mA chain (scaling, NAMUR NE43), filters,
report by exception, limit alarms, and the whole transform of one point."""

from __future__ import annotations

import pytest

from gatewayd.model import Quality, Reading
from gatewayd.points.alarms import AlarmChange, LimitAlarms
from gatewayd.points.transform import (
    Loop,
    ReportByException,
    Smoother,
    Transform,
    namur_quality,
    scale,
)
from gatewayd.sources.analog.loop import counts_ma, shunt_ma


@pytest.mark.parametrize(("ma", "low", "high", "sqrt", "cutoff", "value"), [
    (4.0, 0.0, 100.0, False, 0.0, 0.0), (20.0, 0.0, 100.0, False, 0.0, 100.0),
    (12.0, -20.0, 80.0, False, 0.0, 30.0), (3.8, 0.0, 16.0, False, 0.0, -0.2),
    (20.5, 0.0, 16.0, False, 0.0, 16.5), (12.0, 100.0, 0.0, False, 0.0, 50.0),
    (8.0, 0.0, 40.0, True, 0.0, 20.0),  # 25 % of dp is 50 % of flow
    (4.16, 0.0, 40.0, True, 0.0, 4.0),  # 1 % of dp is 10 % of flow
    (4.1, 0.0, 40.0, True, 1.0, 0.0),  # below the cut-off
    (3.9, 0.0, 40.0, True, 0.0, 0.0),  # no root of a negative fraction
])
def test_scale(ma: float, low: float, high: float, sqrt: bool, cutoff: float, value: float) -> None:
    """4 mA -> low, 20 mA -> high, linear or square-root extracted with a low-flow cut-off."""
    assert scale(ma, low, high, sqrt, cutoff) == pytest.approx(value)


@pytest.mark.parametrize(("ma", "quality"), [
    (0.0, Quality.BAD_WIRE_BREAK), (3.59, Quality.BAD_WIRE_BREAK),
    (3.6, Quality.UNCERTAIN_RANGE), (3.79, Quality.UNCERTAIN_RANGE), (3.8, Quality.GOOD),
    (4.0, Quality.GOOD), (20.0, Quality.GOOD), (20.5, Quality.GOOD),
    (20.51, Quality.UNCERTAIN_RANGE), (21.0, Quality.UNCERTAIN_RANGE),
    (21.01, Quality.BAD_SENSOR_FAULT), (24.0, Quality.BAD_SENSOR_FAULT),
])
def test_namur_ne43(ma: float, quality: Quality) -> None:
    """< 3.6 wire break, > 21 sensor fault, 3.6..3.8 and 20.5..21 uncertain, else good."""
    assert namur_quality(ma) == quality


@pytest.mark.parametrize(("volts", "ohms", "ma"), [(0.6, 150.0, 4.0), (3.0, 150.0, 20.0),
                                                   (1.0, 250.0, 4.0), (5.0, 250.0, 20.0)])
def test_shunt(volts: float, ohms: float, ma: float) -> None:
    """I = U / R across the shunt."""
    assert shunt_ma(volts, ohms) == pytest.approx(ma)


@pytest.mark.parametrize(("counts", "c4", "c20", "ma"), [
    (0, 0, 27648, 4.0), (27648, 0, 27648, 20.0), (13824, 0, 27648, 12.0),
    (-4838, 0, 27648, 1.2002), (6400, 6400, 32000, 4.0), (32000, 6400, 32000, 20.0),
])
def test_counts(counts: int, c4: int, c20: int, ma: float) -> None:
    """Module counts map linearly through the counts at 4 and at 20 mA."""
    assert counts_ma(counts, c4, c20) == pytest.approx(ma, abs=1e-4)


@pytest.mark.parametrize(("method", "n", "samples", "outputs"), [
    ("none", 1, [1, 5, 3], [1, 5, 3]),
    ("mean", 3, [3, 6, 9, 12], [3, 4.5, 6, 9]),
    ("median", 3, [1, 100, 2, 3, 4], [1, 50.5, 2, 3, 3]),
])
def test_smoother(method: str, n: int, samples: list[float], outputs: list[float]) -> None:
    """Moving mean or median over the last n samples."""
    s = Smoother(method, n)
    assert [s.push(x) for x in samples] == outputs


def test_report_by_exception_deadband_and_silence() -> None:
    """Emit on a move beyond the deadband, on a quality change, or after the heartbeat."""
    rbe = ReportByException(deadband=0.5, heartbeat_ms=10_000)
    steps = [(10.0, 0, 0, True), (10.4, 0, 1000, False), (10.6, 0, 2000, True),
             (10.2, 0, 3000, False), (10.2, 0x41, 4000, True), (10.2, 0x41, 13_999, False),
             (10.2, 0x41, 14_000, True), (None, 0x85, 15_000, True), (None, 0x85, 16_000, False),
             (10.2, 0, 17_000, True)]
    assert [rbe.due(v, q, t) for v, q, t, _ in steps] == [want for *_, want in steps]


def test_report_by_exception_defaults_emit_every_sample() -> None:
    """Deadband 0 and heartbeat 0 emit every poll, even an unchanged value."""
    rbe = ReportByException()
    assert all(rbe.due(1.0, 0, t) for t in range(5))


def test_alarm_hysteresis() -> None:
    """H raises above 80 and clears only below 80 - 2; HH rides on top of it."""
    alarms = LimitAlarms.of(hh=90, h=80, hysteresis=2)
    trace = [(79, []), (81, [("H", True)]), (79, []), (91, [("HH", True)]),
             (88.5, []), (87.9, [("HH", False)]), (78.1, []), (77.9, [("H", False)])]
    for t, (value, want) in enumerate(trace):
        got = [(c.level, c.active) for c in alarms.update(value, t * 1000)]
        assert got == want, f"value {value}"


def test_alarm_delay_on_raise_and_clear() -> None:
    """A limit change must hold for delay_ms; a blip shorter than that does nothing."""
    alarms = LimitAlarms.of(l=10, ll=5, hysteresis=1, delay_ms=2000)
    trace = [(0, 9), (1000, 11), (2000, 9), (3000, 9), (4000, 9), (5000, 12), (6000, 12),
             (7000, 12)]
    changes = {t: alarms.update(v, t) for t, v in trace}
    assert changes[4000] == [AlarmChange("L", True, 10, 9)]
    assert changes[7000] == [AlarmChange("L", False, 10, 12)]
    assert sum(len(c) for c in changes.values()) == 2


def test_loop_point_chain() -> None:
    """Wire break gives bad_wire_break with no value and empties the filter; alarms see scaled
    filtered values."""
    lp = Transform(loop=Loop(0.0, 100.0), smoother=Smoother("mean", 2), alarms=LimitAlarms.of(h=70))

    def process(ma: float, t: int) -> tuple[tuple[object, int] | None, list[AlarmChange]]:
        sent, changes = lp.apply(Reading(1, t, ma))
        return (None if sent is None else (sent.value, sent.quality)), changes

    assert process(12.0, 0) == ((50.0, Quality.GOOD), [])
    emit, changes = process(20.0, 100)
    assert emit == (75.0, Quality.GOOD) and changes == [AlarmChange("H", True, 70, 75.0)]
    assert process(1.0, 200) == ((None, Quality.BAD_WIRE_BREAK), [])
    assert process(4.0, 300) == ((0.0, Quality.GOOD), [AlarmChange("H", False, 70, 0.0)])
    assert process(3.7, 400)[0] == (pytest.approx(-0.9375), Quality.UNCERTAIN_RANGE)  # mean 3.85
