"""Modbus data conversions checked against the facts of Telegraf's own Modbus test cases
(influxdata/telegraf, plugins/inputs/modbus/configuration_register_test.go, MIT licence: the
register bytes and the values they must read as; not its code). Byte orders map as
AB/ABCD/ABCDEFGH = big/big, BA = byte little, DCBA/HGFEDCBA = little/little,
BADC/BADCFEHG = byte little + word big, CDAB/GHEFCDAB = byte big + word little.
Then the new types end to end: a real pymodbus server, the supervisor, the wire, the listener."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pytest

from gatewayd import config
from gatewayd.consumer import Listener
from gatewayd.errors import ConfigError
from gatewayd.sources.modbus.config import ModbusPoint
from gatewayd.sources.modbus.decode import decode_registers, encode_value
from gatewayd.supervisor import Supervisor
from gatewayd.testing.modbus_server import ModbusSim, RegisterModel

ORDERS = {"AB": ("big", "big"), "BA": ("little", "big"), "ABCD": ("big", "big"),
          "DCBA": ("little", "little"), "BADC": ("little", "big"), "CDAB": ("big", "little"),
          "ABCDEFGH": ("big", "big"), "HGFEDCBA": ("little", "little"),
          "BADCFEHG": ("little", "big"), "GHEFCDAB": ("big", "little")}

# Telegraf's tests expect 18446742686322259968 for these bytes: the nearest float64, because its
# scale multiplies in float64. The exact integer is 2^64 - 1387387292028, which we keep.
UINT64_EXACT = 2**64 - 1387387292028
TELEGRAF_UINT64 = 18446742686322259968

# (telegraf case name, data type, telegraf byte order, register bytes as written, value read)
CASES: list[tuple[str, str, str, bytes, Any]] = [
    ("register20_uint16", "uint8l", "AB", b"\x18\x0d", 13),
    ("register11_uint8H", "uint8h", "AB", b"\x18\x0d", 24),
    ("register12_int8L", "int8l", "AB", b"\x98\x8d", -115),
    ("register13_int8H", "int8h", "AB", b"\x98\x8d", -104),
    ("register15_ab_uint16", "uint16", "AB", b"\xab\xcd", 43981),
    ("register20_ba_uint16", "uint16", "BA", b"\xab\xcd", 52651),
    ("register30_ab_int16", "int16", "AB", b"\xab\xcd", -21555),
    ("register40_ba_int16", "int16", "BA", b"\xab\xcd", -12885),
    ("register50_register51_abcd_int32", "int32", "ABCD", b"\xaa\xbb\xcc\xdd", -1430532899),
    ("register60_register61_dcba_int32", "int32", "DCBA", b"\xaa\xbb\xcc\xdd", -573785174),
    ("register70_register71_badc_int32", "int32", "BADC", b"\xaa\xbb\xcc\xdd", -1146430004),
    ("register80_register81_cdab_int32", "int32", "CDAB", b"\xaa\xbb\xcc\xdd", -857888069),
    ("register90_register91_abcd_uint32", "uint32", "ABCD", b"\xaa\xbb\xcc\xdd", 2864434397),
    ("register100_register101_dcba_uint32", "uint32", "DCBA", b"\xaa\xbb\xcc\xdd", 3721182122),
    ("register110_register111_badc_uint32", "uint32", "BADC", b"\xaa\xbb\xcc\xdd", 3148537292),
    ("register120_register121_cdab_uint32", "uint32", "CDAB", b"\xaa\xbb\xcc\xdd", 3437079227),
    ("register130_register131_abcd_float32_ieee", "float32", "ABCD", b"\xaa\xbb\xcc\xdd",
     -3.3360025e-13),
    ("register140_to_register143_abcdefgh_int64", "int64", "ABCDEFGH",
     b"\x00\x00\x01\x00\x00\x00\xab\xcd", 1099511671757),
    ("register150_to_register153_hgfedcba_int64", "int64", "HGFEDCBA",
     b"\x84\xf6\x45\xf9\xbc\xfe\xff\xff", -1387387292028),
    ("register160_to_register163_badcfehg_int64", "int64", "BADCFEHG",
     b"\xff\xff\xbc\xfe\x45\xf9\x84\xf6", -1387387292028),
    ("register170_to_register173_ghefcdab_int64", "int64", "GHEFCDAB",
     b"\xf6\x84\xf9\x45\xfe\xbc\xff\xff", -1387387292028),
    ("register180_to_register183_abcdefgh_uint64", "uint64", "ABCDEFGH",
     b"\x00\x00\x01\x00\x00\x00\xab\xcd", 1099511671757),
    ("register190_to_register193_hgfedcba_uint64", "uint64", "HGFEDCBA",
     b"\x84\xf6\x45\xf9\xbc\xfe\xff\xff", UINT64_EXACT),
    ("register200_to_register203_badcfehg_uint64", "uint64", "BADCFEHG",
     b"\xff\xff\xbc\xfe\x45\xf9\x84\xf6", UINT64_EXACT),
    ("register210_to_register213_ghefcdab_uint64", "uint64", "GHEFCDAB",
     b"\xf6\x84\xf9\x45\xfe\xbc\xff\xff", UINT64_EXACT),
    ("register214_to_register217_abcdefgh_float64_ieee", "float64", "ABCDEFGH",
     b"\xbf\x9c\x6a\x40\xc3\x47\x8f\x55", -0.02774907295123737),
    ("register218_to_register221_abcdefgh_float64_ieee_pos", "float64", "ABCDEFGH",
     b"\x3f\x9c\x6a\x40\xc3\x47\x8f\x55", 0.02774907295123737),
    ("register222_to_register225_hgfecdba_float64_ieee", "float64", "HGFEDCBA",
     b"\x55\x8f\x47\xc3\x40\x6a\x9c\xbf", -0.02774907295123737),
    ("register226_to_register229_badcfehg_float64_ieee", "float64", "BADCFEHG",
     b"\x9c\xbf\x40\x6a\x47\xc3\x55\x8f", -0.02774907295123737),
    ("register230_to_register233_ghefcdab_float64_ieee", "float64", "GHEFCDAB",
     b"\x8f\x55\xc3\x47\x6a\x40\xbf\x9c", -0.02774907295123737),
    ("register240_abcd_float16", "float16", "AB", b"\xb8\x14", -0.509765625),
    ("register240_dcba_float16", "float16", "BA", b"\x14\xb8", -0.509765625),
    ("register250_abcd_string", "string", "AB",
     b"\x4d\x6f\x64\x62\x75\x73\x20\x53\x74\x72\x69\x6e\x67\x00", "Modbus String"),
    ("register250_dcba_string", "string", "BA",
     b"\x6f\x4d\x62\x64\x73\x75\x53\x20\x72\x74\x6e\x69\x00\x67", "Modbus String"),
    ("issue_15138_string", "string", "AB", b"Modbus String Hello\x00", "Modbus String Hello"),
]


def point(data_type: str, order: str, n_regs: int) -> ModbusPoint:
    byte_order, word_order = ORDERS[order]
    extra = {"registers": n_regs} if data_type == "string" else {}
    return ModbusPoint.load({"alias": 1, "name": "p", "register": 0,
                                       "data_type": data_type, "byte_order": byte_order,
                                       "word_order": word_order, **extra})


@pytest.mark.parametrize(("name", "data_type", "order", "written", "expected"), CASES,
                         ids=[c[0] for c in CASES])
def test_telegraf_conversion_vectors(name: str, data_type: str, order: str, written: bytes,
                                     expected: Any) -> None:
    """The registers Telegraf's tests write read as the value its tests expect, exactly
    (64-bit integers included), with the same byte and word orders."""
    regs = [int.from_bytes(written[i:i + 2], "big") for i in range(0, len(written), 2)]
    got = decode_registers(point(data_type, order, len(regs)), regs)
    if data_type == "float32":
        assert math.isclose(got, expected, rel_tol=1e-7)  # type: ignore[arg-type]
    elif expected == UINT64_EXACT:
        assert got == UINT64_EXACT and float(got) == TELEGRAF_UINT64
    else:
        assert got == expected and type(got) is type(expected)


@pytest.mark.parametrize(("data_type", "value"), [
    ("int8l", -115), ("uint8h", 24), ("float16", -0.509765625), ("int64", -(2**63)),
    ("uint64", 2**64 - 1), ("string", "Grüße"),
])
@pytest.mark.parametrize("order", ["AB", "BA"])
def test_encode_is_the_inverse(data_type: str, value: Any, order: str) -> None:
    """What the simulator writes for a value reads back as that value, in either byte order."""
    byte_order, _ = ORDERS[order]
    regs = encode_value(value, data_type, byte_order, registers=6)
    assert decode_registers(point(data_type, order, len(regs)), regs) == value


@pytest.mark.parametrize(("data_type", "output", "registers_hex", "expected"), [
    ("int16", "uint64", "ffff", 2**64 - 1),
    ("int16", "uint64", "ffd6", 2**64 - 42),
    ("int32", "uint64", "ffffffd6", 2**64 - 42),
    ("int16", "int64", "ffd6", -42),
    ("uint64", "int64", "ffffffffffffffff", -1),
    ("uint16", "float64", "002a", 42.0),
])
def test_output_conversion(data_type: str, output: str, registers_hex: str,
                           expected: float | int) -> None:
    """`output` converts the register's number: a negative value as uint64 is its two's
    complement, exact (never through a float)."""
    raw = bytes.fromhex(registers_hex)
    regs = [int.from_bytes(raw[i:i + 2], "big") for i in range(0, len(raw), 2)]
    p = ModbusPoint.load({"alias": 1, "name": "p", "register": 0, "type": "int",
                                    "data_type": data_type, "output": output})
    got = decode_registers(p, regs)
    assert got == expected and type(got) is type(expected)


def test_string_needs_its_length_and_is_a_string_point() -> None:
    """data_type 'string' without `registers` is a config error; with it, a string point."""
    with pytest.raises(ConfigError, match="registers"):
        ModbusPoint.load({"alias": 1, "name": "p", "register": 0, "data_type": "string"})
    p = point("string", "AB", 4)
    assert p.type == "string" and p.width == 4


def test_new_types_end_to_end(tmp_path: Path, broker: Any) -> None:
    """8-bit halves, a half float, a string, and 64-bit integers beyond 2^53 travel from a real
    pymodbus server through the daemon and the wire to the listener, exact."""
    points = [
        {"alias": 1, "name": "m.lo", "register": 0, "data_type": "int8l", "type": "int"},
        {"alias": 2, "name": "m.hi", "register": 0, "data_type": "uint8h", "type": "int"},
        {"alias": 3, "name": "m.half", "register": 1, "data_type": "float16"},
        {"alias": 4, "name": "m.text", "register": 2, "data_type": "string", "registers": 7,
         "byte_order": "little"},
        {"alias": 5, "name": "m.big", "register": 10, "data_type": "uint64", "type": "int"},
        {"alias": 6, "name": "m.neg", "register": 14, "data_type": "int64", "type": "int"},
    ]
    with ModbusSim({1: RegisterModel(holding=20)}) as sim:
        m = sim.model(1)
        m.set("holding", 0, [0x188D])  # high byte 0x18 = 24, low byte 0x8D = -115
        m.set("holding", 1, encode_value(-0.509765625, "float16"))
        m.set("holding", 2, encode_value("Modbus String", "string", "little", registers=7))
        m.set("holding", 10, encode_value(2**64 - 3, "uint64"))
        m.set("holding", 14, encode_value(-(2**62) - 7, "int64"))
        cfg = config.parse({
            "gateway": {"id": "gw-types"}, "broker": {"url": broker.url},
            "store": {"path": str(tmp_path / "q.db")}, "publish": {"interval_ms": 100},
            "devices": [{"kind": "modbus", "name": "m", "port": sim.port, "period_ms": 100,
                         "points": points}]})
        listener = Listener(broker.url, "gw-types").start()
        sup = Supervisor(cfg)
        sup.start()
        got: dict[str, Any] = {}
        try:
            for rec in listener.records(timeout_s=5):
                if rec.get("name"):
                    got[rec["name"]] = rec["value"]
                if len(got) == len(points):
                    break
        finally:
            sup.stop()
            listener.stop()
    assert got == {"m.lo": -115, "m.hi": 24, "m.half": -0.509765625, "m.text": "Modbus String",
                   "m.big": 2**64 - 3, "m.neg": -(2**62) - 7}


# Telegraf's scaled cases, same source file (TestRegisterHoldingRegisters): the register bytes,
# the type, the scale and the value Telegraf reads. FIXED/UFIXED there are a signed/unsigned
# integer times the scale; in gatewayd that is the integer data_type and the point stage's
# `scale` (value = raw * scale + offset). Where Telegraf's expected value is an integer, it keeps
# the register's integer type and truncates toward zero (13 * 0.1 reads as 1, -115 * 0.1 as
# -11); gatewayd publishes the scaled number itself (1.3, -11.5) and never truncates, so those
# rows check that Telegraf's integer is our value truncated, and the float rows check the value.
# (telegraf case name, data type, telegraf byte order, register bytes, scale, value read)
SCALED: list[tuple[str, str, str, bytes, float, float | int]] = [
    ("register0_ab_float", "int16", "AB", b"\xff\xd6", 0.1, -4.2),
    ("register1_ba_ufloat", "uint16", "BA", b"\xd8\xff", 0.1, 6549.6),
    ("register4_register5_abcd_float", "int32", "ABCD", b"\xff\xff\xff\xd6", 0.1, -4.2),
    ("register5_register6_dcba_ufloat", "uint32", "DCBA", b"\xd8\xff\xff\xff", 0.001,
     4294967.256),
    ("register5_to_register8_abcdefgh_float", "int64", "ABCDEFGH",
     b"\xff\xff\xff\xff\xff\xff\xff\xd6", 0.000001, -0.000042),
    ("register6_to_register9_hgfedcba_ufloat", "uint64", "HGFEDCBA",
     b"\x88\x99\xaa\xbb\xcc\xdd\xee\xff", 0.000000001, 18441921395.520346504),
    ("register20_uint16-scale_.1", "uint8l", "AB", b"\x18\x0d", 0.1, 1),
    ("register20_uint16_scale_10", "uint8l", "AB", b"\x18\x0d", 10, 130),
    ("register11_uint8L-scale_.1", "uint8h", "AB", b"\x18\x0d", 0.1, 2),
    ("register11_uint8L_scale_10", "uint8h", "AB", b"\x18\x0d", 10, 240),
    ("register12_int8L-scale_.1", "int8l", "AB", b"\x98\x8d", 0.1, -11),
    ("register12_int8L_scale_10", "int8l", "AB", b"\x98\xf8", 10, -80),
    ("register13_int8H-scale_.1", "int8h", "AB", b"\x98\x8d", 0.1, -10),
    ("register13_int8H_scale_10", "int8h", "AB", b"\xfd\x8d", 10, -30),
    ("register15_ab_uint16-scale_.1", "uint16", "AB", b"\xab\xcd", 0.1, 4398),
    ("register15_ab_uint16_scale_10", "uint16", "AB", b"\x00\x2a", 10, 420),
    ("register50_register51_abcd_int32_scaled", "int32", "ABCD", b"\x00\x00\xab\xcd", 10,
     439810),
    ("register130_register131_abcd_float32_ieee_scaled", "float32", "ABCD",
     b"\xaa\xbb\xcc\xdd", 10, -3.3360025e-12),
    ("register140_to_register143_abcdefgh_int64_scaled", "int64", "ABCDEFGH",
     b"\x00\x00\x01\x00\x00\x00\xab\xcd", 10, 10995116717570),
    ("register180_to_register183_abcdefgh_uint64_scaled", "uint64", "ABCDEFGH",
     b"\x00\x00\x01\x00\x00\x00\xab\xcd", 10, 10995116717570),
    ("register214_to_register217_abcdefgh_float64_ieee_scaled", "float64", "ABCDEFGH",
     b"\xbf\x9c\x6a\x40\xc3\x47\x8f\x55", 0.1, -0.002774907295123737),
]

# Telegraf's BIT cases (same test): one bit of a register, 0-based from the least significant.
BITS: list[tuple[str, bytes, int, int]] = [
    ("register5_bit3", b"\x18\x0d", 3, 1),
    ("register5_bit14", b"\x18\x0d", 14, 0),
]

# Telegraf cases of that file gatewayd does not take as written, and why:
# - the coil cases (TestRegisterCoils, 12) read coils as uint16 0/1 or BOOL; a gatewayd coil is a
#   bool point: the same bit, another type, covered by the coil tests in tests/sources/modbus.
# - the integer-typed scaled rows above are Telegraf's truncation of a scaled value into the
#   register's own type; gatewayd carries the scaled value exactly (checked as trunc(ours)).


@pytest.mark.parametrize(("name", "data_type", "order", "written", "scale", "expected"), SCALED,
                         ids=[c[0] for c in SCALED])
def test_telegraf_scaled_vectors(name: str, data_type: str, order: str, written: bytes,
                                 scale: float, expected: float | int) -> None:
    """The register decoded, then the point stage's scale: Telegraf's value (truncated by
    Telegraf where it keeps an integer type)."""
    from gatewayd.points.transform import Transform

    regs = [int.from_bytes(written[i:i + 2], "big") for i in range(0, len(written), 2)]
    raw = decode_registers(point(data_type, order, len(regs)), regs)
    value, quality = Transform(scale=scale, type="float").value(raw, 0)
    assert quality == 0 and isinstance(value, (int, float)) and not isinstance(value, bool)
    if isinstance(expected, int):
        assert math.trunc(value) == expected
    else:
        assert math.isclose(value, expected, rel_tol=1e-7 if data_type == "float32" else 1e-15)


@pytest.mark.parametrize(("name", "written", "bit", "expected"), BITS, ids=[c[0] for c in BITS])
def test_telegraf_bit_vectors(name: str, written: bytes, bit: int, expected: int) -> None:
    p = ModbusPoint.load({"alias": 1, "name": "p", "register": 0, "data_type": "bit",
                                    "bit": bit, "type": "int"})
    assert int(decode_registers(p, [int.from_bytes(written, "big")])) == expected  # type: ignore[arg-type]


# Telegraf's request-style conversion tables (influxdata/telegraf,
# plugins/inputs/modbus/configuration_request_test.go, TestRequestTypesHoldingABCD and
# TestRequestTypesHoldingDCBA; MIT licence; the facts only): the register bytes as the server
# holds them (that DCBA test writes its bytes reversed, text excepted; reversed here), the
# input type, the output type Telegraf converts to (None: its default), the scale (None: none)
# and the value with the Go type it reads as. Telegraf's ABCD is gatewayd's big byte and word
# order; its DCBA, little and little. In request style a scale makes a float64, as gatewayd's
# point stage does; `output` is gatewayd's own key for the same int64/uint64/float64 casts.
# One difference, checked as such: a scale of 1.0 makes a float64 in Telegraf, while gatewayd's
# point stage leaves an integer register's value an integer (exact, also beyond 2^53, where
# Telegraf's float64 is the nearest double: those rows check float(ours) == Telegraf's).
# (case name, byte order, input type, output, scale, register bytes, telegraf type, value read)
REQUEST: list[tuple[str, str, str, str | None, float | None, bytes, str, Any]] = [
    ("register5_bit3", "ABCD", "bit3", None, None, b"\x18\x0d", "uint8", 1),
    ("register5_bit14", "ABCD", "bit14", None, None, b"\x18\x0d", "uint8", 0),
    ("register10_uint8L", "ABCD", "uint8l", None, None, b"\x18\x0d", "uint8", 13),
    ("register10_uint8L-scale_.1", "ABCD", "uint8l", None, 0.1, b"\x18\x0d", "float64", 1.3),
    ("register10_uint8L_scale_10", "ABCD", "uint8l", None, 10.0, b"\x18\x0d", "float64", 130.0),
    ("register10_uint8L_uint64", "ABCD", "uint8l", 'uint64', None, b"\x18\x0d", "uint64", 13),
    ("register10_uint8L_int64", "ABCD", "uint8l", 'int64', None, b"\x18\x0d", "int64", 13),
    ("register10_uint8L_float64", "ABCD", "uint8l", 'float64', None, b"\x18\x0d", "float64", 13.0),
    ("register10_uint8L_float64_scale", "ABCD", "uint8l", None, 1.0, b"\x18\x0d", "float64", 13.0),
    ("register15_int8L", "ABCD", "uint8l", None, None, b"\x18\x0d", "uint8", 13),
    ("register15_int8L-scale_.1", "ABCD", "int8l", None, 0.1, b"\x18\x0d", "float64", 1.3),
    ("register15_int8L_scale_10", "ABCD", "int8l", None, 10.0, b"\x18\x0d", "float64", 130.0),
    ("register15_int8L_uint64", "ABCD", "int8l", 'uint64', None, b"\x18\x0d", "uint64", 13),
    ("register15_int8L_int64", "ABCD", "int8l", 'int64', None, b"\x18\x0d", "int64", 13),
    ("register15_int8L_float64", "ABCD", "int8l", 'float64', None, b"\x18\x0d", "float64", 13.0),
    ("register15_int8L_float64_scale", "ABCD", "int8l", None, 1.0, b"\x18\x0d", "float64", 13.0),
    ("register20_uint16", "ABCD", "uint16", None, None, b"\x08\x98", "uint16", 2200),
    ("register20_uint16-scale_.1", "ABCD", "uint16", None, 0.1, b"\x08\x98", "float64", 220.0),
    ("register20_uint16_scale_10", "ABCD", "uint16", None, 10.0, b"\x08\x98", "float64", 22000.0),
    ("register20_uint16_uint64", "ABCD", "uint16", 'uint64', None, b"\x08\x98", "uint64", 2200),
    ("register20_uint16_int64", "ABCD", "uint16", 'int64', None, b"\x08\x98", "int64", 2200),
    ("register20_uint16_float64", "ABCD", "uint16", 'float64', None,
     b"\x08\x98", "float64", 2200.0),
    ("register20_uint16_float64_scale", "ABCD", "uint16", None, 1.0,
     b"\x08\x98", "float64", 2200.0),
    ("register30_int16", "ABCD", "int16", None, None, b"\xf8\x98", "int16", -1896),
    ("register30_int16-scale_.1", "ABCD", "int16", None, 0.1,
     b"\xf8\x98", "float64", -189.60000000000002),
    ("register30_int16_scale_10", "ABCD", "int16", None, 10.0, b"\xf8\x98", "float64", -18960.0),
    ("register30_int16_uint64", "ABCD", "int16", 'uint64', None,
     b"\xf8\x98", "uint64", 18446744073709549720),
    ("register30_int16_int64", "ABCD", "int16", 'int64', None, b"\xf8\x98", "int64", -1896),
    ("register30_int16_float64", "ABCD", "int16", 'float64', None, b"\xf8\x98", "float64", -1896.0),
    ("register30_int16_float64_scale", "ABCD", "int16", None, 1.0, b"\xf8\x98", "float64", -1896.0),
    ("register40_uint32", "ABCD", "uint32", None, None, b"\x0a\x0b\x0c\x0d", "uint32", 168496141),
    ("register40_uint32-scale_.1", "ABCD", "uint32", None, 0.1,
     b"\x0a\x0b\x0c\x0d", "float64", 16849614.1),
    ("register40_uint32_scale_10", "ABCD", "uint32", None, 10.0,
     b"\x0a\x0b\x0c\x0d", "float64", 1684961410.0),
    ("register40_uint32_uint64", "ABCD", "uint32", 'uint64', None,
     b"\x0a\x0b\x0c\x0d", "uint64", 168496141),
    ("register40_uint32_int64", "ABCD", "uint32", 'int64', None,
     b"\x0a\x0b\x0c\x0d", "int64", 168496141),
    ("register40_uint32_float64", "ABCD", "uint32", 'float64', None,
     b"\x0a\x0b\x0c\x0d", "float64", 168496141.0),
    ("register40_uint32_float64_scale", "ABCD", "uint32", None, 1.0,
     b"\x0a\x0b\x0c\x0d", "float64", 168496141.0),
    ("register50_int32", "ABCD", "int32", None, None, b"\xfa\x0b\x0c\x0d", "int32", -99939315),
    ("register50_int32-scale_.1", "ABCD", "int32", None, 0.1,
     b"\xfa\x0b\x0c\x0d", "float64", -9993931.5),
    ("register50_int32_scale_10", "ABCD", "int32", None, 10.0,
     b"\xfa\x0b\x0c\x0d", "float64", -999393150.0),
    ("register50_int32_uint64", "ABCD", "int32", 'uint64', None,
     b"\xfa\x0b\x0c\x0d", "uint64", 18446744073609612301),
    ("register50_int32_int64", "ABCD", "int32", 'int64', None,
     b"\xfa\x0b\x0c\x0d", "int64", -99939315),
    ("register50_int32_float64", "ABCD", "int32", 'float64', None,
     b"\xfa\x0b\x0c\x0d", "float64", -99939315.0),
    ("register50_int32_float64_scale", "ABCD", "int32", None, 1.0,
     b"\xfa\x0b\x0c\x0d", "float64", -99939315.0),
    ("register60_uint64", "ABCD", "uint64", None, None,
     b"\x0a\x0b\x0c\x0d\x0e\x0f\x01\x02", "uint64", 723685415333069058),
    ("register60_uint64-scale_.1", "ABCD", "uint64", None, 0.1,
     b"\x0a\x0b\x0c\x0d\x0e\x0f\x01\x02", "float64", 7.236854153330691e+16),
    ("register60_uint64_scale_10", "ABCD", "uint64", None, 10.0,
     # Telegraf notes: quantisation error
     b"\x0a\x0b\x0c\x0d\x0e\x0f\x01\x02", "float64", 7236854153330690000.0),
    ("register60_uint64_int64", "ABCD", "uint64", 'int64', None,
     b"\x0a\x0b\x0c\x0d\x0e\x0f\x01\x02", "int64", 723685415333069058),
    ("register60_uint64_float64", "ABCD", "uint64", 'float64', None,
     b"\x0a\x0b\x0c\x0d\x0e\x0f\x01\x02", "float64", 7.23685415333069e+17),
    ("register60_uint64_float64_scale", "ABCD", "uint64", None, 1.0,
     b"\x0a\x0b\x0c\x0d\x0e\x0f\x01\x02", "float64", 7.23685415333069e+17),
    ("register70_int64", "ABCD", "int64", None, None,
     b"\xfa\x0b\x0c\x0d\x0e\x0f\x01\x02", "int64", -429236089273777918),
    ("register70_int64-scale_.1", "ABCD", "int64", None, 0.1,
     b"\xfa\x0b\x0c\x0d\x0e\x0f\x01\x02", "float64", -4.292360892737779e+16),
    ("register70_int64_scale_10", "ABCD", "int64", None, 10.0,
     b"\xfa\x0b\x0c\x0d\x0e\x0f\x01\x02", "float64", -4.292360892737779e+18),
    ("register70_int64_uint64", "ABCD", "int64", 'uint64', None,
     b"\xfa\x0b\x0c\x0d\x0e\x0f\x01\x02", "uint64", 18017507984435773698),
    ("register70_int64_float64", "ABCD", "int64", 'float64', None,
     b"\xfa\x0b\x0c\x0d\x0e\x0f\x01\x02", "float64", -4.292360892737779e+17),
    ("register70_int64_float64_scale", "ABCD", "int64", None, 1.0,
     b"\xfa\x0b\x0c\x0d\x0e\x0f\x01\x02", "float64", -4.292360892737779e+17),
    ("register80_float32", "ABCD", "float32", None, None,
     b"\x40\x49\x0f\xdb", "float32", 3.1415927410125732421875),
    ("register80_float32-scale_.1", "ABCD", "float32", None, 0.1,
     b"\x40\x49\x0f\xdb", "float64", 0.3141592741012573),
    ("register80_float32_scale_10", "ABCD", "float32", None, 10.0,
     b"\x40\x49\x0f\xdb", "float64", 31.415927410125732),
    ("register80_float32_float64", "ABCD", "float32", 'float64', None,
     b"\x40\x49\x0f\xdb", "float64", 3.1415927410125732),
    ("register80_float32_float64_scale", "ABCD", "float32", None, 1.0,
     b"\x40\x49\x0f\xdb", "float64", 3.1415927410125732),
    ("register90_float64", "ABCD", "float64", None, None,
     b"\x40\x09\x21\xfb\x54\x44\x2e\xea", "float64", 3.14159265359),
    ("register90_float64-scale_.1", "ABCD", "float64", None, 0.1,
     b"\x40\x09\x21\xfb\x54\x44\x2e\xea", "float64", 0.314159265359),
    ("register90_float64_scale_10", "ABCD", "float64", None, 10.0,
     b"\x40\x09\x21\xfb\x54\x44\x2e\xea", "float64", 31.4159265359),
    ("register90_float64_float64_scale", "ABCD", "float64", None, 1.0,
     b"\x40\x09\x21\xfb\x54\x44\x2e\xea", "float64", 3.14159265359),
    ("register100_float16", "ABCD", "float16", None, None, b"\xb8\x14", "float64", -0.509765625),
    ("register100_float16-scale_.1", "ABCD", "float16", None, 0.1,
     b"\xb8\x14", "float64", -0.0509765625),
    ("register100_float16_scale_10", "ABCD", "float16", None, 10.0,
     b"\xb8\x14", "float64", -5.09765625),
    ("register100_float16_float64_scale", "ABCD", "float16", None, 1.0,
     b"\xb8\x14", "float64", -0.509765625),
    ("register110_string", "ABCD", "string", None, None,
     b"\x4d\x6f\x64\x62\x75\x73\x20\x53\x74\x72\x69\x6e\x67\x00", "string", "Modbus String"),
    ("register10_uint8L", "DCBA", "uint8l", None, None, b"\x0d\x18", "uint8", 13),
    ("register10_uint8L-scale_.1", "DCBA", "uint8l", None, 0.1, b"\x0d\x18", "float64", 1.3),
    ("register10_uint8L_scale_10", "DCBA", "uint8l", None, 10.0, b"\x0d\x18", "float64", 130.0),
    ("register10_uint8L_uint64", "DCBA", "uint8l", 'uint64', None, b"\x0d\x18", "uint64", 13),
    ("register10_uint8L_int64", "DCBA", "uint8l", 'int64', None, b"\x0d\x18", "int64", 13),
    ("register10_uint8L_float64", "DCBA", "uint8l", 'float64', None, b"\x0d\x18", "float64", 13.0),
    ("register10_uint8L_float64_scale", "DCBA", "uint8l", None, 1.0, b"\x0d\x18", "float64", 13.0),
    ("register15_int8L", "DCBA", "uint8l", None, None, b"\x0d\x18", "uint8", 13),
    ("register15_int8L-scale_.1", "DCBA", "int8l", None, 0.1, b"\x0d\x18", "float64", 1.3),
    ("register15_int8L_scale_10", "DCBA", "int8l", None, 10.0, b"\x0d\x18", "float64", 130.0),
    ("register15_int8L_uint64", "DCBA", "int8l", 'uint64', None, b"\x0d\x18", "uint64", 13),
    ("register15_int8L_int64", "DCBA", "int8l", 'int64', None, b"\x0d\x18", "int64", 13),
    ("register15_int8L_float64", "DCBA", "int8l", 'float64', None, b"\x0d\x18", "float64", 13.0),
    ("register15_int8L_float64_scale", "DCBA", "int8l", None, 1.0, b"\x0d\x18", "float64", 13.0),
    ("register20_uint16", "DCBA", "uint16", None, None, b"\x98\x08", "uint16", 2200),
    ("register20_uint16-scale_.1", "DCBA", "uint16", None, 0.1, b"\x98\x08", "float64", 220.0),
    ("register20_uint16_scale_10", "DCBA", "uint16", None, 10.0, b"\x98\x08", "float64", 22000.0),
    ("register20_uint16_uint64", "DCBA", "uint16", 'uint64', None, b"\x98\x08", "uint64", 2200),
    ("register20_uint16_int64", "DCBA", "uint16", 'int64', None, b"\x98\x08", "int64", 2200),
    ("register20_uint16_float64", "DCBA", "uint16", 'float64', None,
     b"\x98\x08", "float64", 2200.0),
    ("register20_uint16_float64_scale", "DCBA", "uint16", None, 1.0,
     b"\x98\x08", "float64", 2200.0),
    ("register30_int16", "DCBA", "int16", None, None, b"\x98\xf8", "int16", -1896),
    ("register30_int16-scale_.1", "DCBA", "int16", None, 0.1,
     b"\x98\xf8", "float64", -189.60000000000002),
    ("register30_int16_scale_10", "DCBA", "int16", None, 10.0, b"\x98\xf8", "float64", -18960.0),
    ("register30_int16_uint64", "DCBA", "int16", 'uint64', None,
     b"\x98\xf8", "uint64", 18446744073709549720),
    ("register30_int16_int64", "DCBA", "int16", 'int64', None, b"\x98\xf8", "int64", -1896),
    ("register30_int16_float64", "DCBA", "int16", 'float64', None, b"\x98\xf8", "float64", -1896.0),
    ("register30_int16_float64_scale", "DCBA", "int16", None, 1.0, b"\x98\xf8", "float64", -1896.0),
    ("register40_uint32", "DCBA", "uint32", None, None, b"\x0d\x0c\x0b\x0a", "uint32", 168496141),
    ("register40_uint32-scale_.1", "DCBA", "uint32", None, 0.1,
     b"\x0d\x0c\x0b\x0a", "float64", 16849614.1),
    ("register40_uint32_scale_10", "DCBA", "uint32", None, 10.0,
     b"\x0d\x0c\x0b\x0a", "float64", 1684961410.0),
    ("register40_uint32_uint64", "DCBA", "uint32", 'uint64', None,
     b"\x0d\x0c\x0b\x0a", "uint64", 168496141),
    ("register40_uint32_int64", "DCBA", "uint32", 'int64', None,
     b"\x0d\x0c\x0b\x0a", "int64", 168496141),
    ("register40_uint32_float64", "DCBA", "uint32", 'float64', None,
     b"\x0d\x0c\x0b\x0a", "float64", 168496141.0),
    ("register40_uint32_float64_scale", "DCBA", "uint32", None, 1.0,
     b"\x0d\x0c\x0b\x0a", "float64", 168496141.0),
    ("register50_int32", "DCBA", "int32", None, None, b"\x0d\x0c\x0b\xfa", "int32", -99939315),
    ("register50_int32-scale_.1", "DCBA", "int32", None, 0.1,
     b"\x0d\x0c\x0b\xfa", "float64", -9993931.5),
    ("register50_int32_scale_10", "DCBA", "int32", None, 10.0,
     b"\x0d\x0c\x0b\xfa", "float64", -999393150.0),
    ("register50_int32_uint64", "DCBA", "int32", 'uint64', None,
     b"\x0d\x0c\x0b\xfa", "uint64", 18446744073609612301),
    ("register50_int32_int64", "DCBA", "int32", 'int64', None,
     b"\x0d\x0c\x0b\xfa", "int64", -99939315),
    ("register50_int32_float64", "DCBA", "int32", 'float64', None,
     b"\x0d\x0c\x0b\xfa", "float64", -99939315.0),
    ("register50_int32_float64_scale", "DCBA", "int32", None, 1.0,
     b"\x0d\x0c\x0b\xfa", "float64", -99939315.0),
    ("register60_uint64", "DCBA", "uint64", None, None,
     b"\x02\x01\x0f\x0e\x0d\x0c\x0b\x0a", "uint64", 723685415333069058),
    ("register60_uint64-scale_.1", "DCBA", "uint64", None, 0.1,
     b"\x02\x01\x0f\x0e\x0d\x0c\x0b\x0a", "float64", 7.236854153330691e+16),
    ("register60_uint64_scale_10", "DCBA", "uint64", None, 10.0,
     # Telegraf notes: quantisation error
     b"\x02\x01\x0f\x0e\x0d\x0c\x0b\x0a", "float64", 7236854153330690000.0),
    ("register60_uint64_int64", "DCBA", "uint64", 'int64', None,
     b"\x02\x01\x0f\x0e\x0d\x0c\x0b\x0a", "int64", 723685415333069058),
    ("register60_uint64_float64", "DCBA", "uint64", 'float64', None,
     b"\x02\x01\x0f\x0e\x0d\x0c\x0b\x0a", "float64", 7.23685415333069e+17),
    ("register60_uint64_float64_scale", "DCBA", "uint64", None, 1.0,
     b"\x02\x01\x0f\x0e\x0d\x0c\x0b\x0a", "float64", 7.23685415333069e+17),
    ("register70_int64", "DCBA", "int64", None, None,
     b"\x02\x01\x0f\x0e\x0d\x0c\x0b\xfa", "int64", -429236089273777918),
    ("register70_int64-scale_.1", "DCBA", "int64", None, 0.1,
     b"\x02\x01\x0f\x0e\x0d\x0c\x0b\xfa", "float64", -4.292360892737779e+16),
    ("register70_int64_scale_10", "DCBA", "int64", None, 10.0,
     b"\x02\x01\x0f\x0e\x0d\x0c\x0b\xfa", "float64", -4.292360892737779e+18),
    ("register70_int64_uint64", "DCBA", "int64", 'uint64', None,
     b"\x02\x01\x0f\x0e\x0d\x0c\x0b\xfa", "uint64", 18017507984435773698),
    ("register70_int64_float64", "DCBA", "int64", 'float64', None,
     b"\x02\x01\x0f\x0e\x0d\x0c\x0b\xfa", "float64", -4.292360892737779e+17),
    ("register70_int64_float64_scale", "DCBA", "int64", None, 1.0,
     b"\x02\x01\x0f\x0e\x0d\x0c\x0b\xfa", "float64", -4.292360892737779e+17),
    ("register80_float32", "DCBA", "float32", None, None,
     b"\xdb\x0f\x49\x40", "float32", 3.1415927410125732421875),
    ("register80_float32-scale_.1", "DCBA", "float32", None, 0.1,
     b"\xdb\x0f\x49\x40", "float64", 0.3141592741012573),
    ("register80_float32_scale_10", "DCBA", "float32", None, 10.0,
     b"\xdb\x0f\x49\x40", "float64", 31.415927410125732),
    ("register80_float32_float64", "DCBA", "float32", 'float64', None,
     b"\xdb\x0f\x49\x40", "float64", 3.1415927410125732),
    ("register80_float32_float64_scale", "DCBA", "float32", None, 1.0,
     b"\xdb\x0f\x49\x40", "float64", 3.1415927410125732),
    ("register90_float64", "DCBA", "float64", None, None,
     b"\xea\x2e\x44\x54\xfb\x21\x09\x40", "float64", 3.14159265359),
    ("register90_float64-scale_.1", "DCBA", "float64", None, 0.1,
     b"\xea\x2e\x44\x54\xfb\x21\x09\x40", "float64", 0.314159265359),
    ("register90_float64_scale_10", "DCBA", "float64", None, 10.0,
     b"\xea\x2e\x44\x54\xfb\x21\x09\x40", "float64", 31.4159265359),
    ("register90_float64_float64_scale", "DCBA", "float64", None, 1.0,
     b"\xea\x2e\x44\x54\xfb\x21\x09\x40", "float64", 3.14159265359),
    ("register100_float16", "DCBA", "float16", None, None, b"\x14\xb8", "float64", -0.509765625),
    ("register100_float16-scale_.1", "DCBA", "float16", None, 0.1,
     b"\x14\xb8", "float64", -0.0509765625),
    ("register100_float16_scale_10", "DCBA", "float16", None, 10.0,
     b"\x14\xb8", "float64", -5.09765625),
    ("register100_float16_float64_scale", "DCBA", "float16", None, 1.0,
     b"\x14\xb8", "float64", -0.509765625),
    ("register110_string", "DCBA", "string", None, None,
     b"\x6f\x4d\x62\x64\x73\x75\x53\x20\x72\x74\x6e\x69\x00\x67", "string", "Modbus String"),
]


@pytest.mark.parametrize(("name", "order", "data_type", "output", "scale", "written", "go_type",
                          "expected"), REQUEST, ids=[f"{c[1]}-{c[0]}" for c in REQUEST])
def test_telegraf_request_type_vectors(name: str, order: str, data_type: str,
                                       output: str | None, scale: float | None, written: bytes,
                                       go_type: str, expected: Any) -> None:
    """Decode (with `output`), then the point stage's scale: Telegraf's value, exactly; integers
    stay integers (64-bit ones too), float32 readings as float32 rounds them."""
    from gatewayd.points.transform import Transform

    byte_order, word_order = ORDERS[order]
    spec: dict[str, Any] = {"alias": 1, "name": "p", "register": 0, "byte_order": byte_order,
                            "word_order": word_order}
    if data_type.startswith("bit"):
        spec.update(data_type="bit", bit=int(data_type[3:]), type="int")
    else:
        spec["data_type"] = data_type
    if data_type == "string":
        spec["registers"] = len(written) // 2
    if output is not None:
        spec.update(output=output, type="float" if output == "float64" else "int")
    regs = [int.from_bytes(written[i:i + 2], "big") for i in range(0, len(written), 2)]
    got = decode_registers(ModbusPoint.load(spec), regs)
    if scale is not None:
        got, quality = Transform(scale=scale, type="float").value(got, 0)
        assert quality == 0
    if go_type == "string":
        assert got == expected
    elif go_type == "float32":
        assert isinstance(got, float) and math.isclose(got, expected, rel_tol=1e-7)
    elif go_type == "float64" and scale == 1.0:  # our exact integer; Telegraf's nearest float
        assert float(got) == expected and not isinstance(got, bool)
    elif go_type == "float64":
        assert isinstance(got, float) and got == expected
    else:  # Go's integer types: the exact integer
        assert int(got) == got == expected and not isinstance(got, float)  # type: ignore[arg-type]
