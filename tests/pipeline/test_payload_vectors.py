"""The golden vectors of docs/payload.md (tests/vectors/payload_v2.json): the encoder produces
exactly their bytes, and the decoder turns their bytes into exactly their rows or refuses them.
The JavaScript decoder (js/gatewayd-payload) is held to the same file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gatewayd.model import Event, Point, Reading
from gatewayd.pipeline import codec

VECTORS = json.loads((Path(__file__).parents[1] / "vectors" / "payload_v2.json").read_text())
CASES = {c["name"]: c for c in VECTORS["cases"]}


def untag(v: Any) -> Any:
    if v is None:
        return None
    ((kind, value),) = v.items()
    if kind == "float":
        return float(value)  # "nan" and "inf" are written as strings
    return int(value) if kind == "int" else value


def rows(readings: list[Reading]) -> list[list[Any]]:
    """Rows with the value's type, so 1 and 1.0 and True are told apart."""
    return [[r.alias, r.ts_ms, type(r.value).__name__, repr(r.value), r.quality] for r in readings]


def expected_rows(spec: list[list[Any]]) -> list[list[Any]]:
    out = []
    for alias, ts, v, q in spec:
        value = untag(v)
        out.append([alias, ts, type(value).__name__, repr(value), q])
    return out


def names(kind: str, refused: bool = False) -> list[str]:
    return [n for n, c in CASES.items() if c["message"] == kind and bool(c.get("refused")) == refused]


def test_vectors_cover_every_message_and_form() -> None:
    """Every message type has a vector, and every message type has a refused one."""
    assert {c["message"] for c in CASES.values()} == {"data", "birth", "event", "state"}
    assert {c["message"] for c in CASES.values() if c.get("refused")} == {
        "data", "birth", "event", "state"}
    assert len(names("data")) >= 10


@pytest.mark.parametrize("name", names("data"))
def test_data_vector_decodes_to_its_rows(name: str) -> None:
    """The decoder reproduces every row: alias, time, value with its type, quality."""
    case = CASES[name]
    header, readings = codec.decode_data(bytes.fromhex(case["hex"]))
    exp = case["expect"]
    assert (header["seq"], header["b"], header["t"]) == (exp["seq"], exp["b"], exp["t"])
    assert rows(readings) == expected_rows(exp["readings"])


@pytest.mark.parametrize("name", names("data"))
def test_encoder_produces_the_vector_bytes(name: str) -> None:
    """The encoder's bytes for the vector's input are the vector's bytes (the format is pinned)."""
    inp = CASES[name]["input"]
    readings = [Reading(a, t, untag(v), q) for a, t, v, q in inp["readings"]]
    res = {int(k): v for k, v in inp["resolution"].items()}
    assert codec.encode_data(inp["seq"], readings, res, inp["birth"]).hex() == CASES[name]["hex"]


def test_birth_vector() -> None:
    """The birth decodes to its table; its id is the SHA-256 of the canonical text given."""
    case = CASES["birth"]
    birth = codec.decode_birth(bytes.fromhex(case["hex"]))
    exp = case["expect"]
    assert {k: birth[k] for k in ("gw", "b", "sw", "up", "n")} == {
        k: exp[k] for k in ("gw", "b", "sw", "up", "n")}
    pts = [Point(a, n, u, t, codec.resolution_float(s), d) for a, n, u, t, s, d in exp["points"]]
    assert codec.canonical_points(pts).decode() == exp["canonical"]
    assert sorted(birth["points"].values(), key=lambda p: p.alias) == pts


def test_event_and_state_vectors() -> None:
    """Events and state decode to the fields given; the encoder makes the same bytes."""
    ev = CASES["events"]
    seq, events = codec.decode_events(bytes.fromhex(ev["hex"]))
    assert {"seq": seq, "ev": events} == ev["expect"]
    again = [Event(e["ts"], e["kind"], {k.rstrip("_"): v for k, v in e.items()
                                        if k not in ("ts", "kind")}) for e in events]
    assert codec.encode_events(seq, again).hex() == ev["hex"]
    for name in ("state_online", "state_offline"):
        assert codec.decode_state(bytes.fromhex(CASES[name]["hex"])) == CASES[name]["expect"]["state"]


DECODERS = {"data": codec.decode_data, "birth": codec.decode_birth,
            "event": codec.decode_events, "state": codec.decode_state}


@pytest.mark.parametrize("name", [n for n, c in CASES.items() if c.get("refused")])
def test_refused_vectors_are_refused(name: str) -> None:
    """Unknown versions and inconsistent messages raise FormatError, for every message type."""
    case = CASES[name]
    with pytest.raises(codec.FormatError):
        DECODERS[case["message"]](bytes.fromhex(case["hex"]))
