"""The wire format: round trips (property-based), compactness, and its documented edge cases."""

from __future__ import annotations

import json

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gatewayd.model import Point, Quality, Reading
from gatewayd.pipeline import codec

RES = {1: 0.01, 2: 1.0, 3: 0.001}


@st.composite
def batches(draw: st.DrawFn) -> list[Reading]:
    out = []
    for alias, res in RES.items():
        n = draw(st.integers(0, 30))
        t0 = draw(st.integers(1_600_000_000_000, 1_900_000_000_000))
        regular = draw(st.booleans())
        step = draw(st.integers(1, 60_000))
        t = t0
        for _ in range(n):
            q = draw(st.integers(-(10**12), 10**12))
            bad = draw(st.integers(0, 9)) == 0
            value = None if bad else (q if res == 1.0 else q * res)
            quality = Quality.BAD_COMM if bad else draw(st.sampled_from([0, 0, 0, 0x41]))
            out.append(Reading(alias, t, value, quality))
            t += step if regular else draw(st.integers(0, 60_000))
    return out


@settings(max_examples=200, deadline=None)
@given(batches())
def test_round_trip_preserves_every_reading(readings: list[Reading]) -> None:
    """Any batch decodes to the same readings, values equal within half a resolution step."""
    payload = codec.encode_data(42, readings, RES, birth=7)
    header, back = codec.decode_data(payload, RES)
    assert header["seq"] == 42 and header["b"] == 7
    key = lambda r: (r.alias, r.ts_ms)  # noqa: E731
    expected = sorted(readings, key=key)
    got = sorted(back, key=key)
    assert [(r.alias, r.ts_ms, r.quality) for r in got] == [
        (r.alias, r.ts_ms, r.quality) for r in expected]
    for a, b in zip(got, expected, strict=True):
        if b.value is None:
            assert a.value is None
        else:
            assert a.value == pytest.approx(b.value, abs=RES[a.alias] / 2 + 1e-9 * abs(b.value))


def test_regular_series_uses_start_and_period() -> None:
    """A regularly sampled point carries its times as [offset, period], not one per reading."""
    rs = [Reading(1, 1000 + 100 * i, 20.0 + i / 100, 0) for i in range(50)]
    msg = msgpack.unpackb(codec.encode_data(1, rs, RES))
    _alias, times, deltas, quality = msg["p"][0]
    assert times == [0, 100]
    assert deltas[0] == 2000 and set(deltas[1:]) == {1}
    assert quality == 0


def test_quality_runs_and_bad_values() -> None:
    """Mixed quality is run-length encoded; a bad reading's value is nil and does not break deltas."""
    rs = [Reading(2, 0, 5, 0), Reading(2, 10, None, Quality.BAD_TIMEOUT), Reading(2, 20, 7, 0)]
    payload = codec.encode_data(3, rs, RES)
    _, cols = msgpack.unpackb(payload)["seq"], msgpack.unpackb(payload)["p"]
    assert cols[0][2] == [5, None, 2]
    assert cols[0][3] == [0, 1, Quality.BAD_TIMEOUT, 1, 0, 1]
    assert codec.decode_data(payload, RES)[1] == rs


def test_value_too_large_for_the_wire_is_over_range() -> None:
    """A value that cannot be quantised into 62 bits is sent as bad over-range, not wrapped."""
    payload = codec.encode_data(1, [Reading(3, 0, 1e300, 0)], RES)
    assert codec.decode_data(payload, RES)[1] == [Reading(3, 0, None, Quality.BAD_OVER_RANGE)]


def test_nan_is_sent_as_no_value() -> None:
    """NaN from a sensor never reaches the wire as a number."""
    (r,) = codec.decode_data(codec.encode_data(1, [Reading(1, 0, float("nan"), 0)], RES), RES)[1]
    assert r.value is None


def test_payload_at_least_8x_smaller_than_json() -> None:
    """1,000 points polled ten times encode far smaller than the same readings as plain JSON."""
    rs = [Reading(a, 1_795_000_000_000 + 100 * i, 20 + (a % 50) + 0.01 * ((i * a) % 7), 0)
          for a in range(1, 1001) for i in range(10)]
    res = {a: 0.01 for a in range(1, 1001)}
    size = len(codec.encode_data(1, rs, res))
    as_json = len(json.dumps([{"name": f"point.{r.alias}", "time": r.ts_ms, "value": r.value}
                              for r in rs]))
    assert as_json / size >= 8, (as_json, size)


def test_newer_version_is_refused() -> None:
    """A decoder never silently misreads a payload version it does not know."""
    with pytest.raises(ValueError, match="version"):
        codec.decode_data(msgpack.packb({"v": 2, "p": []}), RES)


def test_birth_round_trip_and_fingerprint() -> None:
    """The birth maps aliases to names and units; renaming a point changes its fingerprint."""
    pts = [Point(1, "a", "V", "float", 0.1, "m"), Point(2, "b", "", "int", 1.0, "m")]
    birth = codec.decode_birth(codec.encode_birth("g1", pts, "1.0", 5))
    assert birth["points"][1].name == "a" and birth["points"][1].unit == "V"
    assert birth["b"] == codec.birth_id(pts)
    renamed = [Point(1, "a2", "V", "float", 0.1, "m"), pts[1]]
    assert codec.birth_id(renamed) != codec.birth_id(pts)
