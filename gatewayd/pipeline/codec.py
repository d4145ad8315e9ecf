"""The wire format, version 1 (specified in docs/payload.md): msgpack, columnar per point,
values quantised to the point's resolution and delta-encoded, regular timestamps as
start + period. Pure functions: bytes in, bytes out.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import msgpack

from ..model import Event, Point, Quality, Reading

VERSION = 1
_LIMIT = 1 << 62  # quantised values beyond this cannot be carried: reported as over range


def _pack(message: dict[str, Any]) -> bytes:
    packed: bytes = msgpack.packb(message, default=str)  # str(): an odd event field, not a crash
    return packed


def unpack(payload: bytes) -> Any:
    """The raw msgpack value of a message (integer map keys allowed)."""
    return msgpack.unpackb(payload, strict_map_key=False)


def birth_id(points: Sequence[Point]) -> int:
    """A 32-bit fingerprint of the point table, so data can be matched to the birth it needs."""
    h = hashlib.sha256()
    for p in sorted(points, key=lambda p: p.alias):
        h.update(f"{p.alias}\0{p.name}\0{p.unit}\0{p.type}\0{p.resolution!r}\n".encode())
    return int.from_bytes(h.digest()[:4], "big")


def encode_birth(gateway: str, points: Sequence[Point], version: str, started_ms: int) -> bytes:
    table = [[p.alias, p.name, p.unit, p.type, p.resolution, p.device] for p in points]
    return _pack({"v": VERSION, "gw": gateway, "b": birth_id(points), "sw": version,
                  "up": started_ms, "pts": table})


def decode_birth(payload: bytes) -> dict[str, Any]:
    msg = unpack(payload)
    points = {row[0]: Point(row[0], row[1], row[2], row[3], row[4], row[5]) for row in msg["pts"]}
    return {**msg, "points": points}


def _times(ts: list[int], base: int) -> list[int]:
    """[offset, period] when regular, else [offset, delta1, delta2, ...] (one entry a reading)."""
    offset = ts[0] - base
    if len(ts) > 2:
        period = ts[1] - ts[0]
        if all(ts[i + 1] - ts[i] == period for i in range(1, len(ts) - 1)):
            return [offset, period]
    return [offset, *(ts[i + 1] - ts[i] for i in range(len(ts) - 1))]


def _quantise(values: list[Any], res: float) -> tuple[list[int | None], list[int]]:
    """Delta-encoded quantised values; None stays None. Also returns the indices out of range."""
    out: list[int | None] = []
    bad: list[int] = []
    last = 0
    inv = 1.0 / res
    for i, v in enumerate(values):
        if v is None:
            out.append(None)
            continue
        q = round(v * inv)
        if not -_LIMIT < q < _LIMIT:
            out.append(None)
            bad.append(i)
            continue
        out.append(q - last)
        last = q
    return out, bad


def _runs(codes: list[int]) -> int | list[int]:
    """One code when all readings share it, else run-length pairs [code, count, ...]."""
    first = codes[0]
    if all(c == first for c in codes):
        return first
    out: list[int] = []
    for c in codes:
        if out and out[-2] == c:
            out[-1] += 1
        else:
            out += [c, 1]
    return out


def encode_data(seq: int, readings: Iterable[Reading], resolution: Mapping[int, float],
                birth: int = 0) -> bytes:
    """One data message for a batch of readings (any order, any points)."""
    columns: dict[int, list[Reading]] = {}
    for r in readings:
        columns.setdefault(r.alias, []).append(r)
    base = min((col[0].ts_ms for col in columns.values()), default=0)
    packed = []
    for alias, col in columns.items():
        col.sort(key=lambda r: r.ts_ms)
        values = [r.value if not (isinstance(r.value, float) and not math.isfinite(r.value))
                  else None for r in col]
        deltas, overflow = _quantise(values, resolution.get(alias, 1.0))
        codes = [r.quality for r in col]
        for i in overflow:
            codes[i] = Quality.BAD_OVER_RANGE
        packed.append([alias, _times([r.ts_ms for r in col], base), deltas, _runs(codes)])
    return _pack({"v": VERSION, "seq": seq, "b": birth, "t": base, "p": packed})


def _decode_times(spec: list[int], n: int, base: int) -> list[int]:
    t = base + spec[0]
    if len(spec) == n:  # deltas (n == 2 is the same either way)
        out = [t]
        for d in spec[1:]:
            t += d
            out.append(t)
        return out
    if len(spec) == 2:
        return [t + i * spec[1] for i in range(n)]
    raise ValueError(f"times of {len(spec)} entries for {n} values")


def _decode_runs(spec: int | list[int], n: int) -> list[int]:
    if isinstance(spec, int):
        return [spec] * n
    out: list[int] = []
    for code, count in zip(spec[::2], spec[1::2], strict=True):
        out += [code] * count
    if len(out) != n:
        raise ValueError(f"quality runs cover {len(out)} of {n} values")
    return out


def _digits(res: float) -> int:
    return max(0, -math.floor(math.log10(res) + 1e-9)) if res < 1 else 0


def decode_data(payload: bytes, resolution: Mapping[int, float]) -> tuple[dict[str, Any], list[Reading]]:
    """Header and readings of a data message; `resolution` comes from the birth message."""
    msg = unpack(payload)
    if msg.get("v") != VERSION:
        raise ValueError(f"payload version {msg.get('v')!r}, this decoder reads {VERSION}")
    readings: list[Reading] = []
    for alias, tspec, deltas, qspec in msg["p"]:
        n = len(deltas)
        times = _decode_times(tspec, n, msg["t"])
        codes = _decode_runs(qspec, n)
        res = resolution.get(alias, 1.0)
        digits = _digits(res)
        q = 0
        for ts, d, code in zip(times, deltas, codes, strict=True):
            if d is None:
                readings.append(Reading(alias, ts, None, code))
                continue
            q += d
            value: float | int = round(q * res, digits) if res != 1.0 else q
            readings.append(Reading(alias, ts, value, code))
    header = {k: msg[k] for k in ("v", "seq", "b", "t")}
    return header, readings


def encode_events(seq: int, events: Iterable[Event]) -> bytes:
    rows = [{"ts": e.ts_ms, "kind": e.kind, **e.fields} for e in events]
    return _pack({"v": VERSION, "seq": seq, "ev": rows})


def decode_events(payload: bytes) -> tuple[int, list[dict[str, Any]]]:
    msg = unpack(payload)
    return msg["seq"], msg["ev"]
