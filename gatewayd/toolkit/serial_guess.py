"""Guess a serial instrument's settings from bytes captured at several baud rates (pure).

Received at the wrong baud rate, text turns into bytes scattered over the whole range; at the
right one it is printable. 7-bit framings (7E1, 7O1) show up read as 8N1: the top bit is then
the parity of the low seven, consistently. The terminator is the line end seen most often.
"""

from __future__ import annotations

from typing import NamedTuple

BAUDS = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)
TERMINATORS = (b"\r\n", b"\n\r", b"\n", b"\r", b"\x03")  # longest first; ETX for STX..ETX frames
TEXT_BYTES = frozenset(range(0x20, 0x7F)) | {0x09, 0x0A, 0x0D, 0x02, 0x03}
MIN_BYTES = 16  # fewer than this says little
TIE = 0.02  # scores this close are the same


class Guess(NamedTuple):
    baud: int | None
    framing: str
    terminator: bytes | None
    score: float  # fraction of text bytes at the chosen baud (0..1)
    note: str
    sample: list[bytes]


def even_parity(byte: int) -> int:
    return bin(byte & 0x7F).count("1") & 1


def framing(data: bytes) -> str:
    """'7E1', '7O1' when the top bit is consistently a parity bit, else '8N1'."""
    if len(data) < MIN_BYTES or not any(b & 0x80 for b in data):
        return "8N1"
    if all(b >> 7 == even_parity(b) for b in data):
        return "7E1"
    if all(b >> 7 != even_parity(b) for b in data):
        return "7O1"
    return "8N1"


def text_score(data: bytes, fmt: str = "8N1") -> float:
    if not data:
        return 0.0
    mask = 0x7F if fmt.startswith("7") else 0xFF
    return sum((b & mask) in TEXT_BYTES for b in data) / len(data)


def terminator(data: bytes) -> bytes | None:
    """The first line end of TERMINATORS (longest first) that occurs at least twice."""
    return next((t for t in TERMINATORS if data.count(t) >= 2), None)


def guess(captures: dict[int, bytes]) -> Guess:
    """The settings that make `captures` (baud -> bytes read at 8N1) look most like text."""
    heard = {b: d for b, d in captures.items() if d}
    if not heard:
        return Guess(
            None,
            "?",
            None,
            0.0,
            "nothing received: check wiring (A/B swapped?) or "
            "send the instrument's poll command with --send",
            [],
        )
    scored = {b: text_score(d, framing(d)) for b, d in heard.items()}
    baud = max(scored, key=lambda b: (scored[b], len(heard[b])))
    data = heard[baud]
    fmt = framing(data)
    clean = bytes(b & 0x7F for b in data) if fmt.startswith("7") else data
    term = terminator(clean)
    sample = [line for line in clean.split(term or b"\n")[1:4] if line]
    if len(scored) > 1 and max(scored.values()) - min(scored.values()) < TIE:
        return Guess(
            None,
            fmt,
            term,
            scored[baud],
            "every baud rate reads alike: the port "
            "ignores the baud rate (a USB device or a pty), use the one its manual gives",
            sample,
        )
    if scored[baud] < 0.9:
        note = "little text at any baud rate: a binary protocol, or other data bits or parity"
        return Guess(baud, fmt, term, scored[baud], note, sample)
    return Guess(baud, fmt, term, scored[baud], "", sample)
