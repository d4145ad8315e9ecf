"""Pure decoding of serial instrument lines and frames, with tables of byte vectors."""

from __future__ import annotations

import re
import struct
from pathlib import Path

import pytest

from gatewayd.config import ConfigError, load, parse
from gatewayd.points.transform import Transform
from gatewayd.sources.serial import decode
from gatewayd.sources.serial.decode import BadFrame

SCALE = re.compile(r"^(?P<status>ST|US),GS,(?P<weight>[-+]\d+\.\d+) kg$")
FOLDER = Path(__file__).resolve().parents[3] / "gatewayd" / "sources" / "serial"


@pytest.mark.parametrize(
    ("kind", "data", "expected"),
    [
        ("xor8", b"T=23.45", 0x47),
        ("xor8", b"", 0x00),
        ("xor8", b"\xff\x0f", 0xF0),
        ("sum8", b"T=23.45", sum(b"T=23.45") & 0xFF),
        ("sum8", b"\xff\x02", 0x01),
    ],
)
def test_checksums(kind: str, data: bytes, expected: int) -> None:
    """xor8 is the XOR of the bytes, sum8 their sum modulo 256."""
    assert decode.checksum(kind, data) == expected


@pytest.mark.parametrize(
    ("line", "kind", "payload", "reason"),
    [
        (b"T=23.45*47", "xor8", b"T=23.45", None),
        (b"T=23.45*47", "none", b"T=23.45*47", None),
        (b"T=23.45*1D", "xor8", None, "checksum"),
        (b"T=23.45*4", "xor8", None, "garbage"),
        (b"T=23.45", "xor8", None, "garbage"),
        (b"T=23.45*ZZ", "xor8", None, "garbage"),
        (b"A*B*%02X" % (sum(b"A*B") & 0xFF), "sum8", b"A*B", None),
    ],
)
def test_text_checksum(line: bytes, kind: str, payload: bytes | None, reason: str | None) -> None:
    """The checksum after the last separator is checked; a missing one is garbage."""
    if reason is None:
        assert decode.strip_text_checksum(line, kind, b"*") == payload
    else:
        with pytest.raises(BadFrame) as e:
            decode.strip_text_checksum(line, kind, b"*")
        assert e.value.reason == reason


@pytest.mark.parametrize(
    ("line", "groups"),
    [
        (b"ST,GS,+0012.34 kg", {"status": "ST", "weight": "+0012.34"}),
        (b"US,GS,-0000.50 kg", {"status": "US", "weight": "-0000.50"}),
        (b"ST,GS,+0012.34 lb", None),
        (b"\xff\x00\x9c#\x07\xfe", None),
        (b"ST,GS,+00", None),
        (b"", None),
    ],
)
def test_match_text(line: bytes, groups: dict[str, str] | None) -> None:
    """A line gives its named groups, anything else is garbage."""
    if groups is not None:
        assert decode.match_text(line, SCALE, "ascii") == groups
    else:
        with pytest.raises(BadFrame) as e:
            decode.match_text(line, SCALE, "ascii")
        assert e.value.reason == "garbage"


@pytest.mark.parametrize(
    ("text", "type_", "gain", "offset", "value"),
    [
        ("+0012.34", "float", 1.0, 0.0, 12.34),
        ("-0000.50", "float", 1000.0, 0.0, -500.0),
        ("42", "int", 1.0, 0.0, 42),
        ("41.6", "int", 1.0, 0.0, 42),
        ("20", "float", 0.5, -1.0, 9.0),
        ("ON", "bool", 1.0, 0.0, True),
        ("off", "bool", 1.0, 0.0, False),
        ("0", "bool", 1.0, 0.0, False),
        ("2", "bool", 1.0, 0.0, True),
    ],
)
def test_text_value(text: str, type_: str, gain: float, offset: float, value: object) -> None:
    """Group text becomes a number (a bool's words a bool); the point stage scales it by
    scale (was gain) and offset and gives it the point's type."""
    got, _ = Transform(gain, offset, type_).value(decode.text_value(text, type_), 0)
    assert got == pytest.approx(value)


def test_text_value_refuses_words() -> None:
    """Text that is no number is refused (the point then reads bad_malformed)."""
    with pytest.raises(ValueError):
        decode.text_value("n/a", "float")


FRAME = b"\xaa\x55" + struct.pack(">hHI", -215, 1013, 70000)


@pytest.mark.parametrize(
    ("offset", "data_type", "order", "value"),
    [
        (2, "int16", "big", -215),
        (4, "uint16", "big", 1013),
        (6, "uint32", "big", 70000),
        (4, "uint16", "little", 0xF503),
        (0, "uint8", "big", 0xAA),
        (1, "int8", "big", 0x55),
    ],
)
def test_frame_field(offset: int, data_type: str, order: str, value: int) -> None:
    """Fields of a binary frame unpack at their offset with their type and byte order."""
    assert decode.frame_field(FRAME, offset, data_type, order) == value


def test_frame_float_field() -> None:
    """A float32 field unpacks as IEEE 754."""
    assert decode.frame_field(struct.pack("<f", 1.5), 0, "float32", "little") == 1.5


@pytest.mark.parametrize(
    ("frame", "ok"),
    [
        (FRAME + bytes([decode.checksum("xor8", FRAME)]), True),
        (FRAME + bytes([decode.checksum("xor8", FRAME) ^ 1]), False),
    ],
)
def test_frame_checksum(frame: bytes, ok: bool) -> None:
    """The last byte of a frame is the checksum of the bytes before it."""
    if ok:
        assert decode.strip_frame_checksum(frame, "xor8") == FRAME
    else:
        with pytest.raises(BadFrame, match="checksum"):
            decode.strip_frame_checksum(frame, "xor8")


def test_sample_loads_and_readme_embeds_it() -> None:
    """The sample config validates and the README shows it verbatim."""
    sample = (FOLDER / "sample.toml").read_text()
    assert len(load(FOLDER / "sample.toml").devices) == 3
    assert f"```toml\n{sample}```" in (FOLDER / "README.md").read_text()


BASE = {"kind": "serial", "name": "s", "pattern": r"(?P<v>\d+)",
        "points": [{"alias": 1, "name": "s.v", "field": "v"}]}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({}, "a `command` to send when mode = 'poll'"),
        ({"mode": "free_running", "pattern": "(\\d+"}, "a valid regular expression"),
        ({"mode": "free_running", "pattern": "\\d+"}, "named groups"),
        ({"mode": "free_running", "points": [{"alias": 1, "name": "x", "field": "w"}]},
         "not found"),
        ({"mode": "free_running", "format": "binary", "frame_bytes": 4,
          "points": [{"alias": 1, "name": "x", "byte_offset": 3}]}, "fits the frame"),
        ({"mode": "free_running", "sync_hex": "A"}, "hex digits in pairs"),
        ({"mode": "free_running", "baud": 9600}, "did you mean 'baudrate'"),
    ],
)
def test_config_refusals(change: dict[str, object], message: str) -> None:
    """Inconsistent serial configs are refused with a message saying what is expected."""
    with pytest.raises(ConfigError) as e:
        parse({"gateway": {"id": "g"}, "devices": [{**BASE, **change}]})
    assert message in str(e.value)
