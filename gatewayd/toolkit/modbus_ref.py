"""Modbus register references as installers write them, and the raw/decoded view of a read.

`40001:10` is Modicon notation (first digit the table: 0 coils, 1 discrete inputs, 3 input
registers, 4 holding registers; then a 1-based number, 4 or 5 digits); `holding:0:10` names
the table and the 0-based protocol address. The count after the last colon defaults to 1.
"""

from __future__ import annotations

import math
import struct
from collections.abc import Sequence
from dataclasses import dataclass

from ..sources.modbus.decode import registers_to_bytes

TABLE_OF_DIGIT = {"0": "coil", "1": "discrete", "3": "input", "4": "holding"}
DIGIT_OF_TABLE = {v: k for k, v in TABLE_OF_DIGIT.items()}
TABLES = ("holding", "input", "coil", "discrete")
EXPECTED = "a reference like 40001:10 (Modicon 0/1/3/4xxxx) or holding:0:10"


@dataclass(frozen=True)
class Span:
    table: str
    address: int  # 0-based, as on the wire
    count: int

    def modicon(self, i: int = 0) -> str:
        """The Modicon reference of the span's i-th item (5 digits, 6 beyond 9999)."""
        n = self.address + i + 1
        return (
            f"{DIGIT_OF_TABLE[self.table]}{n:04d}"
            if n <= 9999
            else f"{DIGIT_OF_TABLE[self.table]}{n:05d}"
        )


def parse_ref(text: str) -> Span:
    """A Span from `40001:10`, `400001`, `input:5:2` ...; ValueError saying what is expected."""
    parts = text.strip().lower().split(":")
    try:
        if parts[0] in TABLES:
            table, address, count = (
                parts[0],
                int(parts[1], 0),
                int(parts[2], 0) if len(parts) > 2 else 1,
            )
        elif parts[0].isdigit() and len(parts[0]) in (5, 6) and parts[0][0] in TABLE_OF_DIGIT:
            table, address = TABLE_OF_DIGIT[parts[0][0]], int(parts[0][1:]) - 1
            count = int(parts[1], 0) if len(parts) > 1 else 1
        else:
            raise ValueError
    except (ValueError, IndexError):
        raise ValueError(f"{EXPECTED}, found {text!r}") from None
    limit = 125 if table in ("holding", "input") else 2000
    if not (0 <= address <= 65535 and 1 <= count <= limit and address + count <= 65536):
        raise ValueError(f"an address 0..65535 and a count 1..{limit} inside it, found {text!r}")
    return Span(table, address, count)


def _f(value: float) -> str:
    return f"{value:.6g}" if math.isfinite(value) else str(value)


def _pair(regs: Sequence[int], word_order: str) -> tuple[str, str]:
    raw = registers_to_bytes(regs, "big", word_order)
    return _f(struct.unpack(">f", raw)[0]), str(struct.unpack(">I", raw)[0])


def register_rows(span: Span, regs: Sequence[int]) -> list[list[str]]:
    """Per register: reference, address, hex, uint16, int16, text; and the 32-bit values that
    start here read both word orders (float32 / uint32, high word first and low word first)."""
    rows = []
    for i, word in enumerate(regs):
        signed = word - 0x10000 if word & 0x8000 else word
        text = "".join(chr(b) if 32 <= b < 127 else "." for b in word.to_bytes(2, "big"))
        row = [
            span.modicon(i),
            str(span.address + i),
            f"0x{word:04X}",
            str(word),
            str(signed),
            text,
        ]
        if i + 1 < len(regs):
            f_hi, u_hi = _pair(regs[i : i + 2], "big")
            f_lo, u_lo = _pair(regs[i : i + 2], "little")
            row += [f_hi, f_lo, u_hi, u_lo]
        rows.append(row)
    return rows


REGISTER_HEADER = [
    "ref",
    "addr",
    "hex",
    "uint16",
    "int16",
    "text",
    "float32",
    "float32 sw",
    "uint32",
    "uint32 sw",
]


def bit_rows(span: Span, bits: Sequence[bool]) -> list[list[str]]:
    return [[span.modicon(i), str(span.address + i), str(int(b))] for i, b in enumerate(bits)]


BIT_HEADER = ["ref", "addr", "value"]


def table_text(header: list[str], rows: list[list[str]]) -> str:
    """Columns padded to their widest cell, right-aligned numbers."""
    widths = [max(len(r[c]) for r in [header, *rows] if c < len(r)) for c in range(len(header))]
    lines = [
        "  ".join(cell.rjust(w) for cell, w in zip(r, widths, strict=False))
        for r in [header, *rows]
    ]
    return "\n".join(line.rstrip() for line in lines)
