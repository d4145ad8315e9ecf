"""Pure decoding of what serial instruments send: text lines and fixed binary frames.

Everything here takes bytes and returns values, or raises `BadFrame` with the reason the
source counts ("garbage", "checksum"); no I/O, no clock.
"""

from __future__ import annotations

import re
import struct
from typing import Literal

FieldType = Literal["int8", "uint8", "int16", "uint16", "int32", "uint32", "float32", "float64"]
STRUCT_CODES = {"int8": "b", "uint8": "B", "int16": "h", "uint16": "H", "int32": "i",
                "uint32": "I", "float32": "f", "float64": "d"}
FIELD_SIZES = {name: struct.calcsize(code) for name, code in STRUCT_CODES.items()}
WORDS = {"on": True, "true": True, "yes": True, "high": True,
         "off": False, "false": False, "no": False, "low": False}


class BadFrame(ValueError):
    """A line or frame that cannot be used; `reason` is the counter it goes to."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(detail)
        self.reason = reason


def checksum(kind: str, data: bytes) -> int:
    """xor8: XOR of the bytes (NMEA style); sum8: their sum modulo 256."""
    if kind == "xor8":
        out = 0
        for b in data:
            out ^= b
        return out
    return sum(data) & 0xFF


def strip_text_checksum(line: bytes, kind: str, separator: bytes) -> bytes:
    """The payload of `payload<separator>HH`, checked; the line itself when kind is 'none'."""
    if kind == "none":
        return line
    payload, sep, digits = line.rpartition(separator)
    try:
        sent = int(digits, 16) if sep and len(digits) == 2 else -1
    except ValueError:
        sent = -1
    if sent < 0:
        raise BadFrame("garbage", f"no checksum after {separator!r}: {line[:40]!r}")
    if checksum(kind, payload) != sent:
        raise BadFrame("checksum", f"checksum mismatch: {line[:40]!r}")
    return payload


def match_text(line: bytes, pattern: re.Pattern[str], encoding: str) -> dict[str, str]:
    """The named groups of the first match of `pattern` in the decoded line."""
    try:
        text = line.decode(encoding)
    except UnicodeDecodeError:
        raise BadFrame("garbage", f"not {encoding} text: {line[:40]!r}") from None
    m = pattern.search(text)
    if m is None:
        raise BadFrame("garbage", f"line does not match the pattern: {line[:40]!r}")
    return {k: v for k, v in m.groupdict().items() if v is not None}


def text_value(text: str, type_: str) -> float | bool:
    """A group's text as a number (or a bool for a bool point's words); ValueError when it is
    not a number. Scaling and the point's type are the point stage's."""
    if type_ == "bool":
        word = text.strip().lower()
        return WORDS[word] if word in WORDS else float(word) != 0
    return float(text)


def strip_frame_checksum(frame: bytes, kind: str) -> bytes:
    """The frame without its last byte, which must be the checksum of the bytes before it."""
    if kind == "none":
        return frame
    if checksum(kind, frame[:-1]) != frame[-1]:
        raise BadFrame("checksum", f"checksum mismatch: {frame.hex()}")
    return frame[:-1]


def frame_field(frame: bytes, byte_offset: int, data_type: str, byte_order: str) -> float | int:
    """One field of a binary frame."""
    code = (">" if byte_order == "big" else "<") + STRUCT_CODES[data_type]
    return struct.unpack_from(code, frame, byte_offset)[0]  # type: ignore[no-any-return]
