"""Writes payload_v2.json: the golden vectors of docs/payload.md.

Each case states its input and, written out by hand here, the rows a decoder must produce; the
bytes come from the encoder when this script is run (python tests/vectors/generate.py). The
tests then hold both the encoder (same bytes) and every decoder (same rows) to the file, so a
change of bytes is a deliberate, reviewed regeneration.
"""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path
from typing import Any

import msgpack

from gatewayd.model import Event, Point, Reading
from gatewayd.pipeline import codec

T = 1_795_000_000_000
OUT = Path(__file__).with_name("payload_v2.json")


def f32(x: float) -> float:
    return float(struct.unpack("f", struct.pack("f", x))[0])


def tag(v: Any) -> Any:
    """A value as JSON without loss: integers as decimal strings (they may pass 2^53)."""
    if v is None:
        return None
    if isinstance(v, bool):
        return {"bool": v}
    if isinstance(v, int):
        return {"int": str(v)}
    if isinstance(v, float):
        return {"float": v if math.isfinite(v) else str(v)}  # "nan", "inf": JSON has no such numbers
    return {"str": v}


def data(name: str, why: str, readings: list[Reading], expect: list[tuple[int, int, Any, int]],
         resolution: dict[int, float] | None = None, seq: int = 1, birth: int = 0) -> dict[str, Any]:
    payload = codec.encode_data(seq, readings, resolution or {}, birth)
    return {"name": name, "why": why, "message": "data", "hex": payload.hex(),
            "input": {"seq": seq, "birth": birth, "resolution": {str(k): v for k, v in
                                                                  (resolution or {}).items()},
                      "readings": [[r.alias, r.ts_ms, tag(r.value), r.quality] for r in readings]},
            "expect": {"seq": seq, "b": birth, "t": min((r.ts_ms for r in readings), default=0),
                       "readings": [[a, t, tag(v), q] for a, t, v, q in expect]}}


def same(readings: list[Reading]) -> list[tuple[int, int, Any, int]]:
    return [(r.alias, r.ts_ms, r.value, r.quality) for r in readings]


def data_cases() -> list[dict[str, Any]]:
    ints = [Reading(a, T, v, 0) for a, v in enumerate([0, 127, -32, 128, -33, 65535, -1], 1)]
    wide = [Reading(a, T, v, 0) for a, v in
            enumerate([2**53 + 1, 2**63 - 1, 2**64 - 1, -(2**63), 2**32, -(2**31) - 1], 1)]
    f32s = [Reading(1, T, 21.5, 0), Reading(2, T, f32(0.1), 0), Reading(3, T, -0.0, 0),
            Reading(4, T, f32(3.4e38), 0)]
    f64s = [Reading(1, T, 0.1, 0), Reading(2, T, 1e-300, 0), Reading(3, T, 3.14159, 0),
            Reading(4, T, 0.000123, 0)]
    text = [Reading(1, T, "OK", 0), Reading(2, T, "", 0), Reading(3, T, "Grüße °C", 0),
            Reading(4, T, True, 0), Reading(5, T, False, 0)]
    bad = [Reading(1, T, 5, 0), Reading(2, T, None, 0x82), Reading(3, T, None, 0x82),
           Reading(4, T, 7, 0x41), Reading(5, T, 9, 0)]
    res = {1: 0.25, 2: 2.5, 3: 0.1, 4: 100.0, 5: 0.25, 6: 0.001}
    quant = [Reading(1, T, 7.25, 0), Reading(2, T, 2.5, 0), Reading(3, T, 7.25, 0),
             Reading(4, T, 12345.0, 0), Reading(5, T, -7.25, 0), Reading(6, T, 3.14159, 0)]
    quant_expect = [(1, T, 7.25, 0), (5, T, -7.25, 0), (2, T, 2.5, 0), (3, T, 7.2, 0),
                    (4, T, 12300.0, 0), (6, T, 3.142, 0)]
    runs = [Reading(a, T, a, 0) for a in (3, 4, 9, 200, 201, 202, 65535)]
    times = [Reading(a, T + dt, dt + a, 0) for dt in (200, 0, 100) for a in (1, 2)]
    times_expect = sorted(same(times), key=lambda r: (r[1], r[0]))
    nonfinite = [Reading(1, T, math.nan, 0), Reading(2, T, math.inf, 0x86),
                 Reading(3, T, 2**64, 0), Reading(4, T, 1e300, 0)]
    nonfinite_expect = [(4, T, None, 0x87), (1, T, None, 0x8B), (2, T, None, 0x86),
                        (3, T, None, 0x87)]
    poll = [Reading(a, T, 10000 + a * 37, 0) for a in range(1, 101)]
    mixed = [Reading(1, T, 3, 0), Reading(2, T, 21.5, 0), Reading(3, T, 0.1, 0),
             Reading(4, T, 1.0, 0), Reading(5, T, "x", 0)]
    mixed_expect = [(2, T, 21.5, 0), (3, T, 0.1, 0), (4, T, 1.0, 0), (1, T, 3, 0),
                    (5, T, "x", 0)]
    return [
        data("integers", "fixint, uint8, int8, uint16 and negative forms", ints, same(ints),
             seq=7, birth=0x01020304),
        data("integers_64bit", "beyond 2^53 up to uint64 and int64: exact", wide, same(wide)),
        data("float32", "float32 values bit for bit, -0.0 kept", f32s, same(f32s)),
        data("float64", "values that are not float32 go as float64", f64s, same(f64s)),
        data("mixed_exact", "floats and others of one instant in separate groups", mixed,
             mixed_expect),
        data("strings_bools", "string points and bools", text, same(text)),
        data("bad_and_quality_runs", "nil values and run-length quality", bad, same(bad)),
        data("quantised", "declared steps 0.25, 2.5, 0.1, 100, 0.001: value = q*m/10^-e",
             quant, quant_expect, resolution=res),
        data("alias_runs", "aliases with gaps as [skip, count] runs, up to 65535", runs,
             same(runs)),
        data("instants", "three instants in one message, base time the earliest", times,
             times_expect),
        data("not_carried", "NaN, infinity, 2^64 and an unquantisable value become nil",
             nonfinite, nonfinite_expect, resolution={4: 0.001}),
        data("one_poll", "a 100-point poll: one group, one run", poll, same(poll), seq=2**40),
        data("empty", "no readings", [], []),
    ]


def birth_case() -> dict[str, Any]:
    pts = [Point(2, "press.count", "", "int", None, "plc"),
           Point(1, "press.temperature", "°C", "float", 0.25, "plc"),
           Point(3, "press.state", "", "string", None, "plc"),
           Point(10, "pump.flow", "l/min", "float", None, "pump")]
    payload = codec.encode_birth("press-7", pts, "0.2.0", T, next_seq=42)
    return {"name": "birth", "why": "exact and quantised points; the id over the canonical text",
            "message": "birth", "hex": payload.hex(),
            "expect": {"gw": "press-7", "b": codec.birth_id(pts), "sw": "0.2.0", "up": T,
                       "n": 42,
                       "canonical": codec.canonical_points(pts).decode(),
                       "points": [[1, "press.temperature", "°C", "float", [25, -2], "plc"],
                                  [2, "press.count", "", "int", None, "plc"],
                                  [3, "press.state", "", "string", None, "plc"],
                                  [10, "pump.flow", "l/min", "float", None, "pump"]]}}


def other_cases() -> list[dict[str, Any]]:
    events = [Event(T, "device_down", {"device": "plc", "reason": "unit 1: timeout",
                                       "quality": 0x82}),
              Event(T + 5, "batch_set_aside", {"seq_from": 9, "seq_to": 9, "kind": "data"})]
    ev = codec.encode_events(12, events)
    refused = {
        "data_v3": msgpack.packb({"v": 3, "seq": 1, "b": 0, "t": 0, "g": []}),
        "birth_v1": msgpack.packb({"v": 1, "gw": "g", "b": 0, "sw": "", "up": 0, "pts": []}),
        "event_v99": msgpack.packb({"v": 99, "seq": 1, "ev": []}),
        "state_v1_bare_bytes": b"online",
        "state_no_version": msgpack.packb({"state": "online"}),
        "birth_wrong_id": msgpack.packb({"v": 2, "gw": "g", "b": 1, "sw": "", "up": 0,
                                         "pts": [[1, "a", "", "int", None, ""]]}),
    }
    kinds = {"data_v3": "data", "birth_v1": "birth", "event_v99": "event",
             "state_v1_bare_bytes": "state", "state_no_version": "state",
             "birth_wrong_id": "birth"}
    return [
        {"name": "events", "why": "quality as the integer code; a field named kind goes as kind_",
         "message": "event", "hex": ev.hex(),
         "expect": {"seq": 12, "ev": [
             {"ts": T, "kind": "device_down", "device": "plc", "reason": "unit 1: timeout",
              "quality": 0x82},
             {"ts": T + 5, "kind": "batch_set_aside", "seq_from": 9, "seq_to": 9,
              "kind_": "data"}]}},
        {"name": "state_online", "why": "state is a msgpack map", "message": "state",
         "hex": codec.encode_state(True).hex(), "expect": {"state": "online"}},
        {"name": "state_offline", "why": "also the last will", "message": "state",
         "hex": codec.encode_state(False).hex(), "expect": {"state": "offline"}},
        *({"name": f"refuse_{k}", "why": "unknown version or inconsistent message: refused",
           "message": kinds[k], "hex": v.hex(), "refused": True} for k, v in refused.items()),
    ]


def main() -> None:
    cases = [*data_cases(), birth_case(), *other_cases()]
    doc = {"format": "gatewayd payload", "version": 2, "spec": "docs/payload.md",
           "values": ("tagged: {int: decimal string} | {float: number, nan/inf as a string in"
                      " inputs} | {str} | {bool} | null"),
           "cases": cases}
    head = json.dumps({k: v for k, v in doc.items() if k != "cases"}, ensure_ascii=False)
    rows = ",\n".join(json.dumps(c, ensure_ascii=False, allow_nan=False) for c in cases)  # one case a line
    OUT.write_text(head[:-1] + ', "cases": [\n' + rows + "\n]}\n")
    print(f"{len(cases)} cases -> {OUT}")


if __name__ == "__main__":
    main()
