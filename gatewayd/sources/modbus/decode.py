"""Pure decoding of Modbus registers into values, and planning of coalesced reads (sans-IO)."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

from .config import ModbusPoint

_FORMATS = {"int16": "h", "uint16": "H", "int32": "i", "uint32": "I", "int64": "q",
            "uint64": "Q", "float16": "e", "float32": "f", "float64": "d"}
# One byte of a register, as (index in the big-endian register bytes, struct format).
_BYTES = {"int8h": (0, "b"), "uint8h": (0, "B"), "int8l": (1, "b"), "uint8l": (1, "B")}


def registers_to_bytes(regs: Sequence[int], byte_order: str, word_order: str) -> bytes:
    """Registers (16-bit words, first on the wire first) into big-endian value bytes.

    word_order 'little' means the least significant word comes first (the usual "swapped"
    float of many meters); byte_order 'little' swaps the two bytes inside each word.
    """
    words = list(regs) if word_order == "big" else list(reversed(regs))
    raw = b"".join(w.to_bytes(2, "big") for w in words)
    if byte_order == "little":
        raw = b"".join(raw[i + 1 : i + 2] + raw[i : i + 1] for i in range(0, len(raw), 2))
    return raw


def decode_text(regs: Sequence[int], byte_order: str) -> str:
    """Text from registers, first register first; byte_order 'little' takes the low byte of each
    register first. It ends at the first NUL; bytes that are not UTF-8 become U+FFFD."""
    raw = registers_to_bytes(regs, byte_order, "big")
    return raw.split(b"\0", 1)[0].decode("utf-8", errors="replace")


def decode_registers(point: ModbusPoint, regs: Sequence[int]) -> float | int | str:
    """The raw value of one point from its registers (or its one bit); the point stage
    scales it."""
    kind = point.data_type
    if kind == "bool":
        return int(bool(regs[0]))
    if kind == "bit":
        assert point.bit is not None
        return regs[0] >> point.bit & 1
    if kind == "string":
        return decode_text(regs, point.byte_order)
    if kind in _BYTES:
        index, fmt = _BYTES[kind]
        raw_byte = registers_to_bytes(regs, point.byte_order, "big")[index : index + 1]
        byte_value: int = struct.unpack(fmt, raw_byte)[0]
        return convert(byte_value, point.output) if point.output else byte_value  # as any int
    value_bytes = registers_to_bytes(regs, point.byte_order, point.word_order)
    raw: float | int = struct.unpack(">" + _FORMATS[kind], value_bytes)[0]
    return convert(raw, point.output) if point.output else raw


def convert(raw: float | int, output: str) -> float | int:
    """A register's number as another numeric type, the way a C cast of the 64-bit value does:
    uint64 of -1 is 2^64 - 1, int64 of 2^64 - 1 is -1; a float is truncated toward zero."""
    if output == "float64":
        return float(raw)
    n = int(raw) & ((1 << 64) - 1)
    return n - (1 << 64) if output == "int64" and n >> 63 else n


def encode_value(value: float | int | str, data_type: str, byte_order: str = "big",
                 word_order: str = "big", registers: int = 0) -> list[int]:
    """The inverse of decode_registers (for simulators and round-trip tests); an 8-bit type
    fills its byte and leaves the other 0; a string is NUL-padded to `registers`."""
    if data_type == "string":
        text = str(value).encode()
        raw = text.ljust(max(registers * 2, len(text) + len(text) % 2), b"\0")
        word_order = "big"
    elif data_type in _BYTES:
        index, fmt = _BYTES[data_type]
        one = struct.pack(fmt, value)
        raw = one + b"\0" if index == 0 else b"\0" + one
    else:
        raw = struct.pack(">" + _FORMATS[data_type], value)
    if byte_order == "little":
        raw = b"".join(raw[i + 1 : i + 2] + raw[i : i + 1] for i in range(0, len(raw), 2))
    words = [int.from_bytes(raw[i : i + 2], "big") for i in range(0, len(raw), 2)]
    return words if word_order == "big" else list(reversed(words))


@dataclass(frozen=True)
class Block:
    """One read request: `count` items of `table` from `start`, feeding these points."""

    table: str
    start: int
    count: int
    points: tuple[ModbusPoint, ...]


def plan_reads(points: Sequence[ModbusPoint], max_count: int = 125, max_gap: int = 0) -> list[Block]:
    """Coalesce points into as few reads as the protocol allows.

    Points of one table whose registers are adjacent (or within `max_gap` unused registers) share
    a request of at most `max_count` items (125 registers; bits are capped at 2000 by the
    protocol, but we keep one limit per device for simplicity of configuration).
    """
    blocks: list[Block] = []
    for table in ("holding", "input", "coil", "discrete"):
        mine = sorted((p for p in points if p.table == table), key=lambda p: p.address)
        limit = max_count if table in ("holding", "input") else min(2000, max_count * 16)
        start = end = -1
        members: list[ModbusPoint] = []
        for p in mine:
            p_end = p.address + p.width
            if members and p.address <= end + max_gap and max(end, p_end) - start <= limit:
                end = max(end, p_end)
                members.append(p)
                continue
            if members:
                blocks.append(Block(table, start, end - start, tuple(members)))
            start, end, members = p.address, p_end, [p]
        if members:
            blocks.append(Block(table, start, end - start, tuple(members)))
    return blocks
