"""Pure decoding: byte vectors through the test IODDs, status words into port states."""

from __future__ import annotations

import struct

import pytest

from gatewayd.model import Quality
from gatewayd.sources.iolink import iodd
from gatewayd.sources.iolink.decode import (
    IOT_CODES,
    PortState,
    Pqi,
    decode_pd,
    identity_state,
    registers_to_octets,
    signed,
    vanished,
)
from gatewayd.testing.iolink_master import IODD_DIR

HERE = IODD_DIR
TS14 = iodd.load(HERE / "Gatewayd-TS14-20260101-IODD1.1.xml")
PS16 = iodd.load(HERE / "Gatewayd-PS16-20260101-IODD1.1.xml")
FM32 = iodd.load(HERE / "Gatewayd-FM32-20260101-IODD1.1.xml")
G, OVER, UNDER = Quality.GOOD, Quality.BAD_OVER_RANGE, Quality.BAD_UNDER_RANGE


def _values(device: iodd.Iodd, pd: bytes) -> list[tuple[object, Quality]]:
    return [(round(v, 6) if isinstance(v, float) else v, q)
            for v, q in decode_pd(pd, list(device.items), device.pd_octets)]


@pytest.mark.parametrize(
    ("pd", "expected"),
    [
        # 215 counts << 2 | OUT2 0 | OUT1 1: 21.5 °C
        (bytes.fromhex("035D"), [(21.5, G), (0, G), (1, G)]),
        (bytes.fromhex("0002"), [(0.0, G), (1, G), (0, G)]),
        # -500 counts (14-bit two's complement 0x3E0C) << 2: -50.0 °C, both outputs on
        (bytes.fromhex("F833"), [(-50.0, G), (1, G), (1, G)]),
        # 1500 counts = 150.0 °C, the top of the range
        (bytes.fromhex("1770"), [(150.0, G), (0, G), (0, G)]),
        # 1501 counts: over the range; -501: under it
        (bytes.fromhex("1774"), [(None, OVER), (0, G), (0, G)]),
        (bytes.fromhex("F82C"), [(None, UNDER), (0, G), (0, G)]),
    ],
)
def test_temperature_14_bit(pd: bytes, expected: list[tuple[object, Quality]]) -> None:
    """Bit offsets count from the last bit; the 14-bit value is signed and scaled by 0.1."""
    assert _values(TS14, pd) == expected


@pytest.mark.parametrize(
    ("pd", "expected"),
    [
        # 350 counts * 0.01 - 1 = 2.5 bar, status 0x00, OUT2 on
        (bytes.fromhex("015E0002"), [(2.5, G), (0, G), (1, G), (0, G)]),
        # -1000 counts (0xFC18): -11.0 bar, the bottom of the range; status 0x42
        (bytes.fromhex("FC184201"), [(-11.0, G), (0x42, G), (0, G), (1, G)]),
        # 32760 "overload": beyond the range
        (bytes.fromhex("7FF80000"), [(None, OVER), (0, G), (0, G), (0, G)]),
        # -32760 "underload"
        (bytes.fromhex("80080000"), [(None, UNDER), (0, G), (0, G), (0, G)]),
    ],
)
def test_pressure_signed_and_scaled(pd: bytes, expected: list[tuple[object, Quality]]) -> None:
    """A 16-bit signed value in the high half of 32 bits, with gradient 0.01 and offset -1."""
    assert _values(PS16, pd) == expected


@pytest.mark.parametrize(
    ("flow", "tail", "expected"),
    [
        (12.25, "00070A01", [(12.25, G), (7, G), ("0a", G), (1, G)]),
        (-0.5, "FFFF0000", [(-0.5, G), (65535, G), ("00", G), (0, G)]),
        (float("nan"), "00000000", [(None, Quality.BAD_DATA_INVALID), (0, G), ("00", G), (0, G)]),
        (float("inf"), "00000000", [(None, OVER), (0, G), ("00", G), (0, G)]),
    ],
)
def test_float32(flow: float, tail: str, expected: list[tuple[object, Quality]]) -> None:
    """Float32 in the first four octets; a NaN or infinite float is not a measurement (NaN is
    bad_data_invalid, an infinity out of range: the point stage's rule for every kind)."""
    assert _values(FM32, struct.pack(">f", flow) + bytes.fromhex(tail)) == expected


def test_short_process_data_is_malformed() -> None:
    """Fewer octets than the IODD's ProcessDataIn: every item is bad_malformed."""
    assert _values(PS16, b"\x01\x02") == [(None, Quality.BAD_MALFORMED)] * 4


def test_longer_process_data_uses_the_first_octets() -> None:
    """A master that pads a port's block: the process data are its first octets."""
    assert _values(TS14, bytes.fromhex("035D0000")) == _values(TS14, bytes.fromhex("035D"))


@pytest.mark.parametrize(
    ("raw", "bits", "value"), [(0x1FFF, 14, 8191), (0x2000, 14, -8192), (0xFF, 8, -1), (1, 1, -1)]
)
def test_signed(raw: int, bits: int, value: int) -> None:
    """Two's complement over any bit length."""
    assert signed(raw, bits) == value


@pytest.mark.parametrize(
    ("byte", "state"),
    [(0xA0, PortState.OPERATE), (0x20, PortState.PD_INVALID), (0x80, PortState.NO_DEVICE),
     (0x00, PortState.NO_DEVICE), (0xE3, PortState.OPERATE)],
)
def test_pqi(byte: int, state: PortState) -> None:
    """Port qualifier: device present (bit 5), process data valid (bit 7)."""
    assert Pqi().state(byte) is state


def test_status_helpers() -> None:
    """Identity mismatch, vanished devices and IoT Core diagnostic codes map to port states."""
    assert identity_state(1, 2, 1, 2) is PortState.OPERATE
    assert identity_state(1, 3, 1, 2) is PortState.WRONG_DEVICE
    assert vanished(PortState.NO_DEVICE, seen=True) is PortState.COMM_LOST
    assert vanished(PortState.NO_DEVICE, seen=False) is PortState.NO_DEVICE
    assert IOT_CODES[530] is PortState.PD_INVALID and IOT_CODES[531] is PortState.COMM_LOST


def test_registers_to_octets() -> None:
    """Octets two to a register, first octet high or low."""
    assert registers_to_octets([0x0102, 0x0304]) == b"\x01\x02\x03\x04"
    assert registers_to_octets([0x0102], high_first=False) == b"\x02\x01"
