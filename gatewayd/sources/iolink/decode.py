"""Pure decoding: process-data octets + IODD items -> values, and port status -> quality.

IO-Link numbers bits from the END of the process data: bitOffset 0 is the least significant bit
of the last octet. So the whole process data read as one big-endian integer, shifted right by
the item's bit offset, gives the item's bits, whatever the length of the process data.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from enum import Enum
from typing import Literal

from ...model import Quality
from ...points.transform import finite_quality
from .iodd import Item

Value = float | int | bool | str | None


def as_int(pd: bytes) -> int:
    return int.from_bytes(pd, "big")


def raw_bits(whole: int, item: Item) -> int:
    return (whole >> item.bit_offset) & ((1 << item.bit_length) - 1)


def signed(raw: int, bits: int) -> int:
    return raw - (1 << bits) if raw >> (bits - 1) else raw


def decode_item(whole: int, item: Item) -> tuple[Value, Quality]:
    """One item's value and quality from the process data read as one integer (`as_int`)."""
    raw = raw_bits(whole, item)
    kind = item.kind
    if kind == "bool":
        return raw, Quality.GOOD  # 0 or 1: published as the point type bool
    if kind == "string":
        text = raw.to_bytes(item.bit_length // 8, "big").rstrip(b"\0")
        return text.decode("utf-8", "replace"), Quality.GOOD
    if kind == "octets":
        return raw.to_bytes(item.bit_length // 8, "big").hex(), Quality.GOOD
    number: float = struct.unpack(">f", raw.to_bytes(4, "big"))[0] if kind == "float32" else (
        signed(raw, item.bit_length) if kind == "int" else raw)
    return scaled(number, item)


def scaled(number: float, item: Item) -> tuple[Value, Quality]:
    """Range-check the raw number, then apply the IODD's gradient and offset."""
    if not math.isfinite(number):  # the point stage's rule, here before the IODD's scaling
        return None, finite_quality(number)
    if item.upper is not None and number > item.upper:
        return None, Quality.BAD_OVER_RANGE
    if item.lower is not None and number < item.lower:
        return None, Quality.BAD_UNDER_RANGE
    if item.gradient == 1.0 and item.offset == 0.0:
        return number, Quality.GOOD
    return number * item.gradient + item.offset, Quality.GOOD


def decode_pd(pd: bytes, items: list[Item], pd_octets: int) -> list[tuple[Value, Quality]]:
    """Every item of one port; a process data shorter than the IODD's is malformed."""
    if len(pd) < pd_octets:
        return [(None, Quality.BAD_MALFORMED)] * len(items)
    whole = as_int(pd[:pd_octets])
    return [decode_item(whole, it) for it in items]


class PortState(Enum):
    """What a master says about one port, whichever way it is read."""

    OPERATE = "operate"
    NO_DEVICE = "no_device"
    PREOPERATE = "preoperate"  # device found, process data not yet exchanged
    PD_INVALID = "pd_invalid"  # the device marks its process data invalid
    COMM_LOST = "comm_lost"
    WRONG_DEVICE = "wrong_device"
    REFUSED = "refused"  # the master answered a port's request with an unexpected error


STATE_QUALITY = {
    PortState.OPERATE: Quality.GOOD,
    PortState.NO_DEVICE: Quality.BAD_NO_DEVICE,
    PortState.PREOPERATE: Quality.BAD_DATA_INVALID,
    PortState.PD_INVALID: Quality.BAD_DATA_INVALID,
    PortState.COMM_LOST: Quality.BAD_COMM,
    PortState.WRONG_DEVICE: Quality.BAD_WRONG_DEVICE,
    PortState.REFUSED: Quality.BAD_DEVICE_EXCEPTION,
}


@dataclass(frozen=True)
class Pqi:
    """Bit positions of a port qualifier byte (PQI) in a master's register map."""

    present_bit: int = 5  # device communicating (preoperate or operate)
    valid_bit: int = 7  # process data valid

    def state(self, byte: int) -> PortState:
        if not byte >> self.present_bit & 1:
            return PortState.NO_DEVICE
        return PortState.OPERATE if byte >> self.valid_bit & 1 else PortState.PD_INVALID


# ifm IoT Core: iolinkdevice/status values, and the diagnostic codes of a getdata answer.
IOT_STATUS = {0: PortState.NO_DEVICE, 1: PortState.PREOPERATE, 2: PortState.OPERATE,
              3: PortState.WRONG_DEVICE}
IOT_CODES = {503: PortState.NO_DEVICE, 530: PortState.PD_INVALID, 531: PortState.COMM_LOST}


def identity_state(vendor_id: int, device_id: int, want_vendor: int, want_device: int) -> PortState:
    ok = vendor_id == want_vendor and device_id == want_device
    return PortState.OPERATE if ok else PortState.WRONG_DEVICE


def vanished(state: PortState, seen: bool) -> PortState:
    """A device that was there and is gone lost communication; a port never used has none."""
    return PortState.COMM_LOST if state is PortState.NO_DEVICE and seen else state


def parse_hex(text: str) -> bytes:
    """Process data as a master's JSON gives it ("03E8..."); ValueError if not hex."""
    return bytes.fromhex(text)


def registers_to_octets(regs: list[int], high_first: bool = True) -> bytes:
    """Modbus registers holding octets two by two, first octet in the high or low byte."""
    order: Literal["big", "little"] = "big" if high_first else "little"
    return b"".join(r.to_bytes(2, order) for r in regs)
