"""The wire format, version 2 (specified in docs/payload.md). Pure functions: values in, bytes out.

Data messages are self-describing: a value is carried exactly as the point produced it (an
integer up to 64 bits, a float32 bit for bit, a float64, a string, a bool) unless its point
declares a resolution, and then the group that carries it says the step. Readings taken at one
instant travel as one group: one time, the aliases as runs, the values as one array. At a
100 ms batch that is what keeps a reading near the size of its value.
"""

from __future__ import annotations

import hashlib
import math
from array import array
from collections.abc import Iterable, Mapping, Sequence
from decimal import Decimal
from functools import lru_cache
from typing import Any

import msgpack

from ..errors import FormatError
from ..model import Event, Point, Quality, Reading

VERSION = 2
VALUE_TYPES = ("float", "int", "bool", "string")
_INT_MIN, _INT_MAX = -(1 << 63), (1 << 64) - 1  # what msgpack can carry as an integer
_QUANT_MAX = 1 << 63  # a quantised value is a signed 64-bit integer
_PACK = msgpack.Packer(autoreset=True)
_PACK_F32 = msgpack.Packer(autoreset=True, use_single_float=True)
_HEADER = msgpack.packb("v") + msgpack.packb(VERSION)


def _pack(message: Any) -> bytes:
    packed: bytes = msgpack.packb(message, default=str)  # str(): an odd event field, not a crash
    return packed


def unpack(payload: bytes) -> Any:
    """The raw msgpack value of a message (integer map keys allowed)."""
    return msgpack.unpackb(payload, strict_map_key=False)


def _checked(payload: bytes, kind: str) -> dict[Any, Any]:
    try:
        msg = unpack(payload)
    except Exception as e:  # msgpack raises several kinds for garbage
        raise FormatError(f"{kind}: not msgpack ({e})") from None
    if not isinstance(msg, dict):
        raise FormatError(f"{kind}: not a msgpack map")
    if msg.get("v") != VERSION:
        raise FormatError(f"{kind}: payload version {msg.get('v')!r}, this decoder reads {VERSION}")
    return msg


# -- resolution as a decimal: mantissa and exponent, the same in every language -----------------
@lru_cache(maxsize=1024)
def decimal_step(res: float) -> tuple[int, int]:
    """A resolution as integers (m, e) with res == m x 10^e: 0.25 → (25, -2), 100 → (1, 2).

    Taken from the shortest decimal that reads back as the float, which is what the user wrote.
    """
    d = Decimal(repr(float(res))).normalize()
    sign, digits, exp = d.as_tuple()
    if sign or not digits or not isinstance(exp, int) or d == 0:
        raise ValueError(f"resolution {res!r}: a positive finite number")
    return int("".join(map(str, digits))), exp


def step_value(q: int, m: int, e: int) -> float:
    """q steps of m x 10^e, correctly rounded to the nearest float (7.25 at 0.25 stays 7.25)."""
    if e >= 0:
        return float(q * m * 10**e)
    exact: float = q * m / 10**-e  # int / int: Python rounds the exact quotient once
    return exact


def resolution_float(step: Sequence[int] | None) -> float | None:
    return None if step is None else step_value(1, step[0], step[1])


# -- birth ----------------------------------------------------------------------------------------
def _step_text(res: float | None) -> str:
    if res is None:
        return ""
    m, e = decimal_step(res)
    return f"{m}e{e}"


def canonical_points(points: Sequence[Point]) -> bytes:
    """The byte string the birth id hashes: points by alias, ascending, one line each:
    alias NUL name NUL unit NUL type NUL step NUL device LF, with step "<m>e<e>" or empty."""
    lines = []
    for p in sorted(points, key=lambda p: (p.alias, p.name)):
        lines.append(f"{p.alias}\0{p.name}\0{p.unit}\0{p.type}\0{_step_text(p.resolution)}"
                     f"\0{p.device}\n")
    return "".join(lines).encode()


def birth_id(points: Sequence[Point]) -> int:
    """First 4 bytes, big-endian, of the SHA-256 of canonical_points: data names the birth it needs."""
    return int.from_bytes(hashlib.sha256(canonical_points(points)).digest()[:4], "big")


def _step(res: float | None) -> list[int] | None:
    return None if res is None else list(decimal_step(res))


def encode_birth(gateway: str, points: Sequence[Point], version: str, started_ms: int,
                 next_seq: int = 0) -> bytes:
    """`next_seq` (`n`): the seq the store assigns next, above every seq it ever handed out, so
    a consumer that has seen one at or above it knows the numbering restarted. 0: not known."""
    table = [[p.alias, p.name, p.unit, p.type, _step(p.resolution), p.device] for p in points]
    msg = {"v": VERSION, "gw": gateway, "b": birth_id(points), "sw": version, "up": started_ms,
           "pts": table}
    if next_seq:
        msg["n"] = next_seq
    return _pack(msg)


def decode_birth(payload: bytes) -> dict[str, Any]:
    """The birth's fields, plus `points`: alias → Point. Refuses a birth whose id does not match."""
    msg = _checked(payload, "birth")
    points = {row[0]: Point(row[0], row[1], row[2], row[3], resolution_float(row[4]), row[5])
              for row in msg["pts"]}
    if birth_id(list(points.values())) != msg["b"]:
        raise FormatError(f"birth: id {msg['b']:#010x} does not match its point table")
    return {**msg, "points": points}


# -- state ----------------------------------------------------------------------------------------
def encode_state(online: bool) -> bytes:
    """The retained state message (and the last will): {"v": 2, "state": "online"|"offline"}."""
    return _pack({"v": VERSION, "state": "online" if online else "offline"})


def decode_state(payload: bytes) -> str:
    state = _checked(payload, "state").get("state")
    if state not in ("online", "offline"):
        raise FormatError(f"state: {state!r}")
    return str(state)


# -- data -----------------------------------------------------------------------------------------
def _alias_runs(aliases: list[int]) -> list[int]:
    """[skip, count, ...]: a run starts `skip` after the alias following the previous run (the
    first run at `skip` itself) and holds `count` consecutive aliases."""
    runs: list[int] = []
    nxt = 0  # the alias after the previous run
    start = prev = aliases[0]
    for a in aliases[1:]:
        if a == prev + 1:
            prev = a
            continue
        runs += [start - nxt, prev - start + 1]
        nxt, start, prev = prev + 1, a, a
    runs += [start - nxt, prev - start + 1]
    return runs


def _runs(codes: list[int]) -> int | list[int]:
    """One code when all readings share it, else run-length pairs [code, count, ...]."""
    first = codes[0]
    if codes.count(first) == len(codes):
        return first
    out: list[int] = []
    for c in codes:
        if out and out[-2] == c:
            out[-1] += 1
        else:
            out += [c, 1]
    return out


def _invalid(code: int) -> int:
    """A value that cannot be carried keeps a bad quality, or gets 'data invalid' if it had none."""
    return code if code >= Quality.BAD else Quality.BAD_DATA_INVALID


def _quantised(rs: list[Reading], res: float, codes: list[int]) -> list[int | None]:
    m, e = decimal_step(res)
    out: list[int | None] = []
    for i, r in enumerate(rs):
        v = r.value
        if v is None or isinstance(v, str):
            out.append(None)
            continue
        if isinstance(v, float) and not math.isfinite(v):
            out.append(None)
            codes[i] = _invalid(codes[i])
            continue
        q = round(v * 10**-e / m) if e < 0 else round(v / (m * 10**e))
        if not -_QUANT_MAX <= q < _QUANT_MAX:
            out.append(None)
            codes[i] = Quality.BAD_OVER_RANGE
            continue
        out.append(q)
    return out


def _floats(values: list[Any], codes: list[int]) -> bytes:
    """Floats exactly: all as float32 when each is one (4 bytes), else all as float64."""
    if not all(map(math.isfinite, values)):
        for i, v in enumerate(values):
            if not math.isfinite(v):
                values[i] = None
                codes[i] = _invalid(codes[i])
        finite = [v for v in values if v is not None]
    else:
        finite = values
    single = array("f", finite).tolist() == finite
    packed: bytes = (_PACK_F32 if single else _PACK).pack(values)
    return packed


def _others(values: list[Any], codes: list[int]) -> bytes:
    """Integers, bools, strings and nil as msgpack has them; an integer past 64 bits is over range."""
    try:
        packed: bytes = _PACK.pack(values)
        return packed
    except (OverflowError, TypeError, ValueError):
        for i, v in enumerate(values):
            ok = (v is None or isinstance(v, (bool, str))
                  or (isinstance(v, int) and _INT_MIN <= v <= _INT_MAX))
            if not ok:
                values[i] = None
                codes[i] = Quality.BAD_OVER_RANGE if isinstance(v, int) else _invalid(codes[i])
        packed = _PACK.pack(values)
        return packed


_FLOAT, _OTHER = 1, 2


def encode_data(seq: int, readings: Iterable[Reading], resolution: Mapping[int, float | None],
                birth: int = 0) -> bytes:
    """One data message for a batch of readings (any order, any points).

    `resolution` holds the points that declare one (a None entry or no entry: exact).
    Readings sharing a time (a device poll; devices polled on the same tick) form one group.
    """
    groups: dict[tuple[int, int, float], list[Reading]] = {}
    get = resolution.get
    for r in readings:
        res = get(r.alias)
        if res is not None:
            key = (r.ts_ms, 0, res)
        else:
            key = (r.ts_ms, _FLOAT if type(r.value) is float else _OTHER, 0.0)
        col = groups.get(key)
        if col is None:
            groups[key] = [r]
        else:
            col.append(r)
    base = min((k[0] for k in groups), default=0)
    parts = [b"\x85", _HEADER, _PACK.pack("seq"), _PACK.pack(seq), _PACK.pack("b"),
             _PACK.pack(birth), _PACK.pack("t"), _PACK.pack(base), _PACK.pack("g"),
             _PACK.pack_array_header(len(groups))]
    for (ts, form, res), rs in sorted(groups.items(), key=lambda kv: kv[0][:2]):
        rs.sort(key=lambda r: r.alias)
        codes = [r.quality for r in rs]
        if form == 0:
            values = _PACK.pack(_quantised(rs, res, codes))
        elif form == _FLOAT:
            values = _floats([r.value for r in rs], codes)
        else:
            values = _others([r.value for r in rs], codes)
        parts += [b"\x95" if form == 0 else b"\x94", _PACK.pack(ts - base),
                  _PACK.pack(_alias_runs([r.alias for r in rs])), values, _PACK.pack(_runs(codes))]
        if form == 0:
            parts.append(_PACK.pack(list(decimal_step(res))))
    return b"".join(parts)


def _expand_runs(runs: list[int]) -> list[int]:
    if len(runs) % 2:
        raise FormatError("data: alias runs must come in pairs")
    out: list[int] = []
    nxt = 0
    for skip, count in zip(runs[::2], runs[1::2], strict=True):
        start = nxt + skip
        out.extend(range(start, start + count))
        nxt = start + count
    return out


def _decode_quality(spec: int | list[int], n: int) -> list[int]:
    if isinstance(spec, int):
        return [spec] * n
    out: list[int] = []
    for code, count in zip(spec[::2], spec[1::2], strict=True):
        out += [code] * count
    if len(out) != n:
        raise FormatError(f"data: quality runs cover {len(out)} of {n} values")
    return out


def _decode_group(group: list[Any], base: int) -> list[Reading]:
    if len(group) not in (4, 5):
        raise FormatError(f"data: a group of {len(group)} entries")
    offset, runs, values, quality = group[:4]
    aliases = _expand_runs(runs)
    if len(aliases) != len(values):
        raise FormatError(f"data: {len(aliases)} aliases for {len(values)} values")
    codes = _decode_quality(quality, len(values))
    ts = base + offset
    if len(group) == 5:
        m, e = group[4]
        values = [None if q is None else step_value(q, m, e) for q in values]
    return [Reading(a, ts, v, c) for a, v, c in zip(aliases, values, codes, strict=True)]


def decode_data(payload: bytes, resolution: Mapping[int, float | None] | None = None,
                ) -> tuple[dict[str, Any], list[Reading]]:
    """Header and readings of a data message. Values need no birth (the message says each
    quantisation step); names and units do: look the birth up by the header's `b`.
    `resolution` is only read for version-1 payloads still queued from before an upgrade."""
    msg = unpack(payload)
    if isinstance(msg, dict) and msg.get("v") == 1:
        from . import codec_v1

        return codec_v1.decode_data(msg, resolution or {})
    msg = _checked(payload, "data")
    readings: list[Reading] = []
    for group in msg["g"]:
        readings += _decode_group(group, msg["t"])
    header = {k: msg[k] for k in ("v", "seq", "b", "t")}
    return header, readings


# -- events ---------------------------------------------------------------------------------------
_RESERVED = ("ts", "kind")


def _event_row(e: Event) -> dict[str, Any]:
    """ts and kind first; a field that would shadow them gets a trailing underscore ("kind_")."""
    row: dict[str, Any] = {"ts": e.ts_ms, "kind": e.kind}
    for k, v in e.fields.items():
        row[f"{k}_" if k in _RESERVED else k] = int(v) if isinstance(v, Quality) else v
    return row


def encode_events(seq: int, events: Iterable[Event]) -> bytes:
    return _pack({"v": VERSION, "seq": seq, "ev": [_event_row(e) for e in events]})


def decode_events(payload: bytes) -> tuple[int, list[dict[str, Any]]]:
    msg = _checked(payload, "event")
    return msg["seq"], msg["ev"]


def kind_of(payload: bytes) -> str:
    """'data' or 'event' for a payload from the queue (tests and tools that hold bare payloads)."""
    msg = unpack(payload)
    return "event" if isinstance(msg, dict) and "ev" in msg else "data"
