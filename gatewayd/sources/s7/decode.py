"""S7 addresses, values and coalesced read plans, without I/O (tested with vectors).

Points in one area (and DB) that lie within `max_gap_bytes` of each other become one span:
one item of a Read Var request. The request and reply bytes are in buses/s7_pdu.py.
"""

from __future__ import annotations

import re
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from ...buses.s7_pdu import AREA_CODE, Span

DataType = Literal["bool", "byte", "word", "int", "dword", "dint", "real", "string"]
_WIDTH = {"bool": 1, "byte": 1, "word": 2, "int": 2, "dword": 4, "dint": 4, "real": 4}
_FORMAT = {"byte": ">B", "word": ">H", "int": ">h", "dword": ">I", "dint": ">i", "real": ">f"}

_DB_RE = re.compile(r"^DB(\d{1,5})\.DB([XBWD])(\d{1,5})(?:\.([0-7]))?$")
_MIQ_RE = re.compile(r"^([MIQ])([BWD]?)(\d{1,5})(?:\.([0-7]))?$")



@dataclass(frozen=True)
class Address:
    area: str  # I, Q, M or DB
    db: int  # 0 outside the DB area
    offset: int  # byte
    bit: int | None
    size_letter: str  # X, B, W, D

    @property
    def key(self) -> tuple[str, int]:
        return (self.area, self.db)


def parse_address(text: str) -> Address:
    """`DB1.DBD0`, `DB1.DBX4.0`, `MW10`, `M10.1`, `IB0`, `I0.3`, `QW2` into an Address.
    ValueError says what was expected, for a caller to put after the text it was given."""
    s = text.strip().upper()
    if m := _DB_RE.match(s):
        db, letter, offset, bit = int(m[1]), m[2], int(m[3]), m[4]
        if db < 1:
            raise ValueError("a DB number from 1")
        if (letter == "X") != (bit is not None):
            raise ValueError("a bit address as DBX<byte>.<bit> (DB1.DBX4.0)")
        return Address("DB", db, offset, int(bit) if bit is not None else None, letter)
    if m := _MIQ_RE.match(s):
        area, letter, offset, bit = m[1], m[2], int(m[3]), m[4]
        if (letter == "") != (bit is not None):
            raise ValueError(f"a bit as {area}<byte>.<bit> ({area}0.3), a word as {area}W<byte>")
        return Address(area, 0, offset, int(bit) if bit is not None else None, letter or "X")
    raise ValueError("an S7 address: write DB1.DBD0, DB1.DBX4.0, DB1.DBW2, DB1.DBB8, MW10, M10.1,"
                     " IW0, I0.3, QB0 or Q1.0")


def width(data_type: DataType, string_length: int = 254) -> int:
    """Bytes a value occupies; an S7 STRING has two header bytes (declared and current length)."""
    return string_length + 2 if data_type == "string" else _WIDTH[data_type]


def decode_value(raw: bytes, data_type: DataType, bit: int | None = None) -> float | int | str:
    """One value from its bytes (big-endian, as every S7 CPU stores them)."""
    if data_type == "bool":
        return raw[0] >> (bit or 0) & 1
    if data_type == "string":
        declared, current = raw[0], raw[1]
        return raw[2 : 2 + min(current, declared, len(raw) - 2)].decode("latin-1")
    value: float | int = struct.unpack(_FORMAT[data_type], raw[: _WIDTH[data_type]])[0]
    return value


def encode_value(value: float | int | str, data_type: DataType, string_length: int = 254) -> bytes:
    """The inverse of decode_value for whole bytes (test equipment writes values with it)."""
    if data_type == "string":
        text = str(value).encode("latin-1")[:string_length]
        return bytes([string_length, len(text)]) + text.ljust(string_length, b"\0")
    if data_type == "bool":
        return bytes([1 if value else 0])
    return struct.pack(_FORMAT[data_type], value)


def plan_spans(items: Sequence[tuple[Address, int]], max_gap: int, max_size: int) -> list[Span]:
    """Coalesce (address, width) items into spans: one area (and DB), gaps of at most `max_gap`
    unused bytes, at most `max_size` bytes each (what one reply item may carry)."""
    spans: list[Span] = []
    by_area: dict[tuple[str, int], list[int]] = {}
    for i, (addr, _) in enumerate(items):
        by_area.setdefault(addr.key, []).append(i)
    for (area, db), idxs in sorted(by_area.items(), key=lambda kv: (AREA_CODE[kv[0][0]], kv[0][1])):
        idxs.sort(key=lambda i: items[i][0].offset)
        start = end = -1
        members: list[int] = []
        for i in idxs:
            addr, size = items[i]
            p_end = addr.offset + size
            if members and addr.offset <= end + max_gap and max(end, p_end) - start <= max_size:
                end = max(end, p_end)
                members.append(i)
                continue
            if members:
                spans.append(Span(area, db, start, end - start, tuple(members)))
            start, end, members = addr.offset, p_end, [i]
        if members:
            spans.append(Span(area, db, start, end - start, tuple(members)))
    return spans


def member_value(span: Span, raw: bytes, addr: Address, data_type: DataType,
                 size: int) -> float | int | str:
    """A member's value out of its span's bytes."""
    at = addr.offset - span.start
    return decode_value(raw[at : at + size], data_type, addr.bit)
