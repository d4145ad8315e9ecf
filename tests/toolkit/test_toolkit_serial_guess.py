"""Serial settings guessed from what a UART at each baud rate makes of an instrument's output."""

from __future__ import annotations

import pytest
from toolkit_kit import misheard

from gatewayd.toolkit import serial_guess

SCALE = b"ST,GS,+0012.34 kg\r\n" * 12
PROBE = b"T=23.45*47\r" * 20


@pytest.mark.parametrize("sent", [1200, 2400, 9600, 19200, 38400])
def test_baud_of_text_found_among_the_misheard(sent: int) -> None:
    """The baud rate whose capture is text wins over the garbage of the others."""
    captures = {b: misheard(SCALE, sent, b) for b in serial_guess.BAUDS}
    g = serial_guess.guess(captures)
    assert (g.baud, g.framing, g.terminator, g.note) == (sent, "8N1", b"\r\n", "")
    assert g.sample[0] == b"ST,GS,+0012.34 kg"


@pytest.mark.parametrize(("parity", "framing"), [("E", "7E1"), ("O", "7O1"), ("N", "8N1")])
def test_seven_bit_framings_seen_in_the_top_bit(parity: str, framing: str) -> None:
    """7 data bits with parity read as 8N1 carry the parity in bit 7; the guess names it."""
    bits = 7 if parity != "N" else 8
    captures = {b: misheard(PROBE, 4800, b, bits, parity) for b in (2400, 4800, 9600)}
    g = serial_guess.guess(captures)
    assert (g.baud, g.framing, g.terminator) == (4800, framing, b"\r")
    assert g.sample[0] == b"T=23.45*47"


def test_terminators_longest_first() -> None:
    """CR LF is not taken for a bare LF or CR; ETX frames are found; one line end is not enough."""
    assert serial_guess.terminator(b"a\r\nb\r\nc") == b"\r\n"
    assert serial_guess.terminator(b"a\nb\nc") == b"\n"
    assert serial_guess.terminator(b"\x02a\x03\x02b\x03") == b"\x03"
    assert serial_guess.terminator(b"only one\r\n") is None


def test_silence_and_baud_blind_ports_say_so() -> None:
    """Nothing heard, or the same at every baud (USB CDC, pty), is reported, not guessed."""
    assert serial_guess.guess({9600: b"", 19200: b""}).note.startswith("nothing received")
    same = serial_guess.guess({9600: SCALE, 19200: SCALE})
    assert same.baud is None and "ignores the baud rate" in same.note


def test_binary_protocol_flagged() -> None:
    """Bytes that are not text at any baud rate are called binary, not a confident text guess."""
    frame = bytes([0xAA, 0x55, 0x00, 0xD7, 0x03, 0xF5, 0, 0, 0, 7, 0x1B]) * 10
    g = serial_guess.guess({b: misheard(frame, 9600, b) for b in (4800, 9600, 19200)})
    assert "binary" in g.note
