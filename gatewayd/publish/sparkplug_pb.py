"""The Sparkplug B payload (Eclipse Sparkplug 3.0, the protobuf message `Payload`) written and
read by hand: the few field kinds it uses (varint, 64-bit, 32-bit, length-delimited) are a page of
code, so the daemon needs no protobuf library. Field numbers are those of sparkplug_b.proto.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Any

# Sparkplug data types (sparkplug_b.proto, "Indexes of Data Types")
INT32, INT64, UINT64, FLOAT, DOUBLE, BOOLEAN, STRING = 3, 4, 8, 9, 10, 11, 12

_VARINT, _I64, _LEN, _I32 = 0, 1, 2, 5


def _varint(n: int) -> bytes:
    n &= (1 << 64) - 1  # negative int64 values go as their two's complement, as protobuf does
    out = bytearray()
    while n >= 0x80:
        out.append(n & 0x7F | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


def _key(number: int, wire: int) -> bytes:
    return _varint(number << 3 | wire)


def _len(number: int, body: bytes) -> bytes:
    return _key(number, _LEN) + _varint(len(body)) + body


@dataclass
class Metric:
    """One Sparkplug metric. `name` only in births; `alias` always; value None: is_null."""

    alias: int
    datatype: int
    value: Any = None
    name: str | None = None
    timestamp: int | None = None
    is_historical: bool = False
    properties: dict[str, tuple[int, Any]] = field(default_factory=dict)  # key: (type, value)


def _value(number_base: int, datatype: int, value: Any) -> bytes:
    """The oneof value at its field number: int (uint32), long, float, double, bool, string.
    number_base is the field number of int_value (10 in Metric, 3 in PropertyValue)."""
    if datatype in (1, 2, 3, 5, 6, 7):  # up to 32 bits: int_value (signed as two's complement)
        return _key(number_base, _VARINT) + _varint(value & 0xFFFFFFFF)
    if datatype in (INT64, UINT64, 13):
        return _key(number_base + 1, _VARINT) + _varint(value)
    if datatype == FLOAT:
        return _key(number_base + 2, _I32) + struct.pack("<f", value)
    if datatype == DOUBLE:
        return _key(number_base + 3, _I64) + struct.pack("<d", value)
    if datatype == BOOLEAN:
        return _key(number_base + 4, _VARINT) + _varint(int(bool(value)))
    if datatype in (STRING, 14):
        return _len(number_base + 5, str(value).encode())
    raise ValueError(f"Sparkplug datatype {datatype} is not written by gatewayd")


def _properties(props: dict[str, tuple[int, Any]]) -> bytes:
    keys = b"".join(_len(1, k.encode()) for k in props)
    values = b"".join(_len(2, _key(1, _VARINT) + _varint(t) + _value(3, t, v))
                      for t, v in props.values())
    return keys + values


def encode_metric(m: Metric) -> bytes:
    out = bytearray()
    if m.name is not None:
        out += _len(1, m.name.encode())
    out += _key(2, _VARINT) + _varint(m.alias)
    if m.timestamp is not None:
        out += _key(3, _VARINT) + _varint(m.timestamp)
    out += _key(4, _VARINT) + _varint(m.datatype)
    if m.is_historical:
        out += _key(5, _VARINT) + b"\x01"
    if m.value is None:
        out += _key(7, _VARINT) + b"\x01"
    if m.properties:
        out += _len(9, _properties(m.properties))
    if m.value is not None:
        out += _value(10, m.datatype, m.value)
    return bytes(out)


def encode_payload(timestamp: int, metrics: list[Metric], seq: int | None) -> bytes:
    """A Payload: timestamp (field 1), metrics (2), seq (3; absent in NDEATH and STATE-less
    messages where the spec says so)."""
    out = bytearray(_key(1, _VARINT) + _varint(timestamp))
    for m in metrics:
        out += _len(2, encode_metric(m))
    if seq is not None:
        out += _key(3, _VARINT) + _varint(seq)
    return bytes(out)


# -- reading: only what an edge node receives (NCMD/DCMD: names and simple values) -------------
def _fields(buf: bytes) -> list[tuple[int, int, Any]]:
    """(field number, wire type, value) of one message level; values of LEN fields are bytes."""
    out: list[tuple[int, int, Any]] = []
    pos = 0
    while pos < len(buf):
        key, pos = _read_varint(buf, pos)
        number, wire = key >> 3, key & 7
        value: int | bytes
        if wire == _VARINT:
            value, pos = _read_varint(buf, pos)
        elif wire == _I64:
            value, pos = buf[pos:pos + 8], pos + 8
        elif wire == _I32:
            value, pos = buf[pos:pos + 4], pos + 4
        elif wire == _LEN:
            n, pos = _read_varint(buf, pos)
            value, pos = buf[pos:pos + n], pos + n
        else:
            raise ValueError(f"protobuf wire type {wire} is not used by Sparkplug")
        if pos > len(buf):
            raise ValueError("protobuf: truncated")
        out.append((number, wire, value))
    return out


def _read_varint(buf: bytes, pos: int) -> tuple[int, int]:
    n = shift = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise ValueError("protobuf: bad varint")
        b = buf[pos]
        pos += 1
        n |= (b & 0x7F) << shift
        shift += 7
        if b < 0x80:
            return n, pos


def decode_command(payload: bytes) -> dict[str, Any]:
    """The metrics of an NCMD/DCMD as {name: value} (bools, integers, strings, doubles)."""
    out: dict[str, Any] = {}
    for number, _, body in _fields(payload):
        if number != 2:
            continue
        name, value = None, None
        for n, _wire, v in _fields(body):
            if n == 1:
                name = v.decode()
            elif n == 14:
                value = bool(v)
            elif n in (10, 11):
                value = v
            elif n == 13:
                value = struct.unpack("<d", v)[0]
            elif n == 15:
                value = v.decode()
        if name is not None:
            out[name] = value
    return out
