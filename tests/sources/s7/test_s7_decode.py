"""S7 addresses, values, read plans and PDUs, checked against byte vectors."""

from __future__ import annotations

import pytest

from gatewayd.buses import s7_pdu
from gatewayd.buses.s7_pdu import Span
from gatewayd.errors import ConfigError
from gatewayd.sources.s7.config import Config
from gatewayd.sources.s7.decode import Address, decode_value, encode_value, parse_address, plan_spans


@pytest.mark.parametrize(("text", "want"), [
    ("DB1.DBD0", Address("DB", 1, 0, None, "D")),
    ("db12.dbx4.7", Address("DB", 12, 4, 7, "X")),
    ("DB3.DBW100", Address("DB", 3, 100, None, "W")),
    ("DB3.DBB8", Address("DB", 3, 8, None, "B")),
    ("MW10", Address("M", 0, 10, None, "W")),
    ("M20.1", Address("M", 0, 20, 1, "X")),
    ("I0.3", Address("I", 0, 0, 3, "X")),
    ("IW2", Address("I", 0, 2, None, "W")),
    ("QD4", Address("Q", 0, 4, None, "D")),
])
def test_addresses_parse_as_tia_portal_writes_them(text: str, want: Address) -> None:
    """Absolute addresses in TIA Portal's notation name area, DB, byte, bit and width."""
    assert parse_address(text) == want


@pytest.mark.parametrize("text", ["DB0.DBD0", "DB1.DBX4", "DB1.DBD4.1", "MW10.1", "M10", "X1", "DB1.DBQ0"])
def test_malformed_addresses_are_refused_with_the_accepted_forms(text: str) -> None:
    """A wrong address is refused, and the message shows what a right one looks like."""
    with pytest.raises(ValueError, match=r"DB1|bit|DB number from 1"):
        parse_address(text)


@pytest.mark.parametrize(("raw", "dt", "bit", "want"), [
    ("41ac0000", "real", None, 21.5),
    ("bf000000", "real", None, -0.5),
    ("fffe1dc0", "dint", None, -123456),
    ("ffd6", "int", None, -42),
    ("beef", "word", None, 0xBEEF),
    ("deadbeef", "dword", None, 0xDEADBEEF),
    ("08", "bool", 3, 1),
    ("08", "bool", 2, 0),
    ("7f", "byte", None, 127),
    ("0a06" + b"PUMP-7".hex() + "00000000", "string", None, "PUMP-7"),
    ("0409" + b"ABCD".hex(), "string", None, "ABCD"),  # current > declared: declared wins
])
def test_values_decode_big_endian_as_the_cpu_stores_them(raw: str, dt: str, bit: int | None,
                                                           want: object) -> None:
    """REAL, DINT, INT, WORD, DWORD, BYTE, bits and STRING from their bytes."""
    assert decode_value(bytes.fromhex(raw), dt, bit) == want  # type: ignore[arg-type]


def test_encode_is_the_inverse_of_decode() -> None:
    """What the test CPU stores reads back unchanged."""
    for value, dt in [(21.5, "real"), (-7, "dint"), (-1, "int"), (65535, "word"), ("ok", "string")]:
        assert decode_value(encode_value(value, dt, 10), dt) == value  # type: ignore[arg-type]


def _items(*texts: str) -> list[tuple[Address, int]]:
    widths = {"D": 4, "W": 2, "B": 1, "X": 1}
    return [(a, widths[a.size_letter]) for a in map(parse_address, texts)]


def test_points_of_one_area_coalesce_into_spans() -> None:
    """Neighbours share a span across small gaps; other DBs, areas and far offsets do not."""
    items = _items("DB1.DBD0", "DB1.DBW8", "DB1.DBX12.3", "DB1.DBD100", "DB2.DBD0", "MW10", "M20.1", "I0.3")
    spans = plan_spans(items, max_gap=16, max_size=200)
    assert [(s.area, s.db, s.start, s.size, s.members) for s in spans] == [
        ("I", 0, 0, 1, (7,)),
        ("M", 0, 10, 11, (5, 6)),
        ("DB", 1, 0, 13, (0, 1, 2)),
        ("DB", 1, 100, 4, (3,)),
        ("DB", 2, 0, 4, (4,)),
    ]
    assert len(plan_spans(items, max_gap=0, max_size=200)) == 8  # no two points adjacent
    assert [s.size for s in plan_spans(_items("DB1.DBD0", "DB1.DBD4", "DB1.DBD8"), 0, 8)] == [8, 4]


def test_requests_fit_the_negotiated_pdu() -> None:
    """Spans go out together until a request or its reply would pass the PDU size or 20 items."""
    spans = [Span("DB", 1, i * 100, 50, (i,)) for i in range(10)]
    assert [len(r) for r in s7_pdu.pack_requests(spans, 960)] == [10]
    # 240 bytes: 14 + n * (4 + 50) <= 240 -> 4 spans a reply
    assert [len(r) for r in s7_pdu.pack_requests(spans, 240)] == [4, 4, 2]
    small = [Span("M", 0, i * 4, 2, (i,)) for i in range(25)]
    assert [len(r) for r in s7_pdu.pack_requests(small, 960)] == [20, 5]
    assert s7_pdu.max_span_size(240) == 222


def test_read_request_bytes() -> None:
    """Read Var with S7ANY items: BYTE transport, count, DB, area code and the bit address."""
    pdu = s7_pdu.read_request(1, [Span("DB", 1, 0, 32, (0,)), Span("M", 0, 10, 11, (1,))])
    assert pdu.hex() == ("320100000001001a0000" "0402"
                         "120a100200200001840000 00".replace(" ", "")
                         + "120a1002000b000083000050")
    assert s7_pdu.setup_request(7, 480).hex() == "3201000000070008000" "0f0000001000101e0"


def _ack(ref: int, params: bytes, data: bytes, error: int = 0) -> bytes:
    return bytes([0x32, 0x03, 0, 0]) + ref.to_bytes(2, "big") + len(params).to_bytes(2, "big") \
        + len(data).to_bytes(2, "big") + error.to_bytes(2, "big") + params + data


def test_read_reply_gives_bytes_or_the_item_return_code() -> None:
    """Items come back in order, with a fill byte after an odd one; a refused item is its code."""
    spans = [Span("DB", 1, 0, 3, (0,)), Span("DB", 3, 0, 4, (1,)), Span("M", 0, 0, 2, (2,))]
    data = bytes.fromhex("ff040018 aabbcc 00" "05000000" "ff040010 1234")
    got = s7_pdu.parse_read(_ack(1, bytes([4, 3]), data), spans)
    assert got == [bytes.fromhex("aabbcc"), 0x05, bytes.fromhex("1234")]


def test_header_errors_and_junk_are_told_apart() -> None:
    """A header error is a refusal with its code; a short or foreign reply is malformed."""
    with pytest.raises(s7_pdu.S7Refused) as refused:
        s7_pdu.parse_read(_ack(1, b"", b"", error=0x8104), [])
    assert refused.value.code == 0x8104
    with pytest.raises(s7_pdu.S7Malformed):
        s7_pdu.parse_read(b"\x32\x03\x00", [])
    with pytest.raises(s7_pdu.S7Malformed):
        s7_pdu.parse_read(_ack(1, bytes([4, 2]), bytes.fromhex("ff040020 0000")), [Span("M", 0, 0, 4, (0,))])
    assert s7_pdu.parse_setup(_ack(1, bytes.fromhex("f00000010001 01e0"), b"")) == 480


@pytest.mark.parametrize(("point", "error"), [
    ({"address": "DB1.DBD0"}, "data_type is required"),
    ({"address": "DB1.DBD0", "data_type": "int"}, "double-word"),
    ({"address": "DB1.DBX0.1", "data_type": "real"}, "bit address"),
    ({"address": "MW2", "data_type": "bool"}, "bit address"),
    ({"address": "DB1.DBB0", "data_type": "string", "type": "string", "string_length": 300}, "254"),
    ({"address": "DB1.DBB0", "data_type": "string"}, "type = 'string'"),
    ({"address": "DB1.DBD0", "data_type": "real", "type": "string"}, "type = 'string'"),
])
def test_config_refuses_a_type_that_does_not_fit_the_address(point: dict[str, object], error: str) -> None:
    """The size letter of the address and the data type must agree, and the message says how."""
    with pytest.raises(ConfigError, match=error):
        Config.load({"kind": "s7", "name": "plc", "host": "10.0.0.5",
                               "points": [{"alias": 1, "name": "x", **point}]})


def test_one_cpu_is_one_line_however_its_host_is_written() -> None:
    """The bus key is the endpoint as gatewayd.buses.keys spells it: `PLC-1.Plant.` and
    `plc-1.plant` are one CPU, so their devices share one runner and one connection lock."""
    keys = {Config.load({"kind": "s7", "name": "plc", "host": host}).bus_key
            for host in ("PLC-1.Plant.", "plc-1.plant")}
    assert keys == {"tcp:plc-1.plant:102"}
