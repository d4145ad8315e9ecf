"""The wire format, version 2: exact round trips (property-based), compactness, and its
documented edge cases. The golden vectors (tests/pipeline/test_payload_vectors.py) pin the bytes."""

from __future__ import annotations

import json
import math
import struct

import msgpack
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from gatewayd.model import Point, Quality, Reading
from gatewayd.pipeline import codec

RES: dict[int, float | None] = {1: 0.01, 2: 0.25, 3: 2.5}  # aliases 4.. are exact


def f32(x: float) -> float:
    return float(struct.unpack("f", struct.pack("f", x))[0])


values = st.one_of(
    st.integers(-(2**63), 2**64 - 1),
    st.floats(allow_nan=False, allow_infinity=False),
    st.floats(allow_nan=False, allow_infinity=False, width=32),
    st.text(max_size=20),
    st.booleans(),
    st.none(),
)


@st.composite
def batches(draw: st.DrawFn) -> list[Reading]:
    out = []
    t0 = draw(st.integers(1_600_000_000_000, 1_900_000_000_000))
    for alias in draw(st.lists(st.integers(4, 2000), max_size=40)):
        ts = t0 + draw(st.sampled_from([0, 0, 0, 100, 200, 5000]))
        v = draw(values)
        out.append(Reading(alias, ts, v, Quality.BAD_COMM if v is None else
                           draw(st.sampled_from([0, 0, 0x41, 0x42]))))
    return out


def canon(rs: list[Reading]) -> list[tuple[int, int, str, str, int]]:
    """Comparable rows; repr tells float bits apart (-0.0, float32 rounding) and types apart."""
    return sorted((r.alias, r.ts_ms, type(r.value).__name__, repr(r.value), r.quality) for r in rs)


@settings(max_examples=300, deadline=None)
@given(batches())
def test_exact_points_round_trip_bit_for_bit(readings: list[Reading]) -> None:
    """Without a resolution every value comes back identical: integers to 64 bits, float32 and
    float64 bit for bit, strings, bools, nil; times and qualities too."""
    header, back = codec.decode_data(codec.encode_data(42, readings, {}, birth=7))
    assert header == {"v": 2, "seq": 42, "b": 7, "t": min((r.ts_ms for r in readings), default=0)}
    assert canon(back) == canon(readings)


@pytest.mark.parametrize(("res", "value", "expected"), [
    (0.25, 7.25, 7.25), (2.5, 2.5, 2.5), (2.5, 3.7, 2.5), (0.1, 7.25, 7.2), (0.001, 3.14159, 3.142),
    (0.01, 21.5, 21.5), (100.0, 12345.0, 12300.0), (0.000001, 0.000123, 0.000123),
])
def test_quantised_points_decode_to_the_nearest_step(res: float, value: float, expected: float) -> None:
    """A declared resolution is honoured exactly: value = q x step, rounded once (the issue's 7.25
    at 0.25 and 2.5 at 2.5 stay themselves)."""
    payload = codec.encode_data(1, [Reading(9, 0, value, 0)], {9: res})
    assert codec.decode_data(payload)[1] == [Reading(9, 0, expected, 0)]


def test_small_values_are_not_lost_without_a_resolution() -> None:
    """The old default (0.001) turned 0.000123 into 0.0 with good quality; exact points keep it."""
    rs = [Reading(1, 0, 0.000123, 0), Reading(2, 0, 3.14159, 0)]
    assert codec.decode_data(codec.encode_data(1, rs, {}))[1] == rs


@pytest.mark.parametrize("n", [2**53 + 1, 2**62 + 3, 2**63 - 1, 2**64 - 1, -(2**63)])
def test_64_bit_integers_are_exact(n: int) -> None:
    """Integers beyond 2^53 are carried as integers, not through a float."""
    assert codec.decode_data(codec.encode_data(1, [Reading(1, 0, n, 0)], {}))[1][0].value == n


def test_integer_beyond_64_bits_is_over_range() -> None:
    """A value msgpack cannot carry is sent as nil with 0x87, never wrapped."""
    rs = [Reading(1, 0, 2**64, 0), Reading(2, 0, 5, 0)]
    assert codec.decode_data(codec.encode_data(1, rs, {}))[1] == [
        Reading(1, 0, None, Quality.BAD_OVER_RANGE), Reading(2, 0, 5, 0)]


def test_float32_values_cost_four_bytes_and_float64_eight() -> None:
    """A float32 reading goes as msgpack float 32 (bit for bit); one that is not, as float 64."""
    single = codec.encode_data(1, [Reading(1, 0, f32(21.3), 0)], {})
    double = codec.encode_data(1, [Reading(1, 0, 21.3, 0)], {})
    assert b"\xca" + struct.pack(">f", 21.3) in single
    assert b"\xcb" + struct.pack(">d", 21.3) in double
    assert codec.decode_data(single)[1][0].value == f32(21.3)


def test_one_group_per_instant_with_alias_runs() -> None:
    """Readings of one poll share a time and their aliases travel as runs: 100 consecutive
    points cost one [skip, count] pair."""
    rs = [Reading(a, 5000, 10_000 + a, 0) for a in range(1, 101)]
    msg = msgpack.unpackb(codec.encode_data(1, rs, {}))
    assert msg["t"] == 5000
    (group,) = msg["g"]
    assert group[:2] == [0, [1, 100]] and group[3] == 0
    sparse = msgpack.unpackb(codec.encode_data(1, [Reading(a, 0, 1, 0) for a in (3, 4, 9, 9)], {}))
    assert sparse["g"][0][1] == [3, 2, 4, 1, -1, 1]  # 3-4, then 9 (skip 4 after 5), then 9 again


def test_quality_runs_and_bad_values() -> None:
    """Mixed quality is run-length encoded in alias order; a bad reading's value is nil."""
    rs = [Reading(2, 0, 5, 0), Reading(3, 0, None, Quality.BAD_TIMEOUT), Reading(4, 0, 7, 0)]
    payload = codec.encode_data(3, rs, {})
    (group,) = msgpack.unpackb(payload)["g"]
    assert group[2] == [5, None, 7] and group[3] == [0, 1, Quality.BAD_TIMEOUT, 1, 0, 1]
    assert codec.decode_data(payload)[1] == rs


def test_nan_and_infinity_are_nil_and_data_invalid() -> None:
    """NaN from a sensor never reaches the wire as a number, nor as good quality."""
    rs = [Reading(1, 0, math.nan, 0), Reading(2, 0, math.inf, Quality.BAD_SENSOR_FAULT),
          Reading(3, 0, 1.5, 0)]
    assert codec.decode_data(codec.encode_data(1, rs, {}))[1] == [
        Reading(1, 0, None, Quality.BAD_DATA_INVALID), Reading(2, 0, None, Quality.BAD_SENSOR_FAULT),
        Reading(3, 0, 1.5, 0)]


def test_quantised_value_too_large_is_over_range() -> None:
    """A value that cannot be quantised into 64 bits is sent as bad over-range, not wrapped."""
    payload = codec.encode_data(1, [Reading(3, 0, 1e300, 0)], RES)
    assert codec.decode_data(payload)[1] == [Reading(3, 0, None, Quality.BAD_OVER_RANGE)]


def test_small_batch_of_a_poll_is_near_the_size_of_its_values() -> None:
    """10 devices x 100 uint16 registers, one poll (a 100 ms batch): ≤ 3.5 bytes a reading."""
    rs = [Reading(d * 100 + i + 1, 1_795_000_000_000 + d, int(10000 + 10000 * math.sin(i)), 0)
          for d in range(10) for i in range(100)]
    size = len(codec.encode_data(123456, rs, {}, birth=0xDEADBEEF))
    assert size / len(rs) <= 3.5, size
    as_json = len(json.dumps([{"name": f"point.{r.alias}", "time": r.ts_ms, "value": r.value}
                              for r in rs]))
    assert as_json / size >= 8, (as_json, size)


@pytest.mark.parametrize("decode", [codec.decode_data, codec.decode_events, codec.decode_birth,
                                    codec.decode_state])
@pytest.mark.parametrize("version", [3, 0, None, "2"])
def test_unknown_version_is_refused_for_every_message(decode, version) -> None:  # type: ignore[no-untyped-def]
    """A decoder never silently misreads a payload version it does not know."""
    with pytest.raises(codec.FormatError, match="version"):
        decode(msgpack.packb({"v": version, "g": [], "ev": [], "pts": [], "state": "online"}))


def test_state_is_one_msgpack_value() -> None:
    """The retained state and the last will are msgpack maps like every other message."""
    assert msgpack.unpackb(codec.encode_state(True)) == {"v": 2, "state": "online"}
    assert codec.decode_state(codec.encode_state(False)) == "offline"


def test_event_quality_is_the_integer_code() -> None:
    """Events carry quality as the same integer code as data, never a label."""
    from gatewayd.model import Event

    seq, evs = codec.decode_events(codec.encode_events(
        4, [Event(10, "device_down", {"device": "m", "quality": Quality.BAD_TIMEOUT})]))
    assert seq == 4 and evs[0]["quality"] == 0x82 and type(evs[0]["quality"]) is int


def test_birth_round_trip_and_canonical_id() -> None:
    """The birth maps aliases to names, units and steps; its id hashes a canonical byte string
    of integers and text only, so any language recomputes it; renaming changes it."""
    pts = [Point(2, "b", "", "int", None, "m"), Point(1, "a", "V", "float", 0.1, "m")]
    assert codec.canonical_points(pts) == b"1\0a\0V\0float\x001e-1\0m\n2\0b\0\0int\0\0m\n"
    birth = codec.decode_birth(codec.encode_birth("g1", pts, "1.0", 5, next_seq=9))
    assert birth["points"][1] == pts[1] and birth["points"][2] == pts[0]
    assert birth["b"] == codec.birth_id(pts) and birth["n"] == 9
    assert msgpack.unpackb(codec.encode_birth("g1", pts, "1.0", 5))["pts"][1][4] == [1, -1]
    renamed = [Point(1, "a2", "V", "float", 0.1, "m"), pts[0]]
    assert codec.birth_id(renamed) != codec.birth_id(pts)


def test_birth_whose_id_does_not_match_is_refused() -> None:
    """A birth is checked against its own table, so a consumer never files it under a wrong id."""
    msg = msgpack.unpackb(codec.encode_birth("g", [Point(1, "a")], "1", 0))
    msg["b"] ^= 1
    with pytest.raises(codec.FormatError, match="does not match"):
        codec.decode_birth(msgpack.packb(msg))


def test_version_1_payloads_from_before_an_upgrade_still_decode() -> None:
    """A v1 batch still queued when the gateway is upgraded decodes with its birth's resolutions."""
    v1 = msgpack.packb({"v": 1, "seq": 5, "b": 1, "t": 1000,
                        "p": [[1, [0, 100], [29, 1, None], [0, 2, 0x82, 1]]]})
    assert codec.decode_data(v1, {1: 0.25})[1] == [
        Reading(1, 1000, 7.25, 0), Reading(1, 1100, 7.5, 0), Reading(1, 1200, None, 0x82)]
