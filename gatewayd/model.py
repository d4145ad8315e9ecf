"""The one internal data type for a reading, and the vocabulary around it.

A *point* is a configured signal with a stable small integer alias. A *reading* is one sample
of a point: alias, time, value and quality. A sensor failure is data: a reading whose value is
None and whose quality says why, in the spirit of OPC UA status codes.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any, NamedTuple


class Quality(IntEnum):
    """One byte: 0x00 good, 0x40..0x7F uncertain, 0x80..0xFF bad (the reason)."""

    GOOD = 0x00
    UNCERTAIN = 0x40
    UNCERTAIN_RANGE = 0x41  # NAMUR NE43 band between the limits
    UNCERTAIN_STALE = 0x42
    BAD = 0x80
    BAD_COMM = 0x81  # no answer / link down
    BAD_TIMEOUT = 0x82
    BAD_DEVICE_EXCEPTION = 0x83  # device answered with an exception (e.g. Modbus illegal address)
    BAD_MALFORMED = 0x84  # garbage, short reply, CRC or checksum mismatch
    BAD_WIRE_BREAK = 0x85
    BAD_SENSOR_FAULT = 0x86
    BAD_OVER_RANGE = 0x87
    BAD_UNDER_RANGE = 0x88
    BAD_NO_DEVICE = 0x89
    BAD_WRONG_DEVICE = 0x8A
    BAD_DATA_INVALID = 0x8B  # device says its process data is invalid
    BAD_OVERRUN = 0x8C  # samples lost (FIFO overrun)
    BAD_CONFIG = 0x8D

    @property
    def is_good(self) -> bool:
        return self < 0x40

    @property
    def is_bad(self) -> bool:
        return self >= 0x80

    @property
    def label(self) -> str:
        return self.name.lower()


def quality_label(code: int) -> str:
    """Name of a quality code, tolerant of codes from a newer gateway."""
    try:
        return Quality(code).label
    except ValueError:
        return "bad" if code >= 0x80 else "uncertain" if code >= 0x40 else "good"


class Reading(NamedTuple):
    """One sample of one point. A tuple: cheap to make ten thousand times a second."""

    alias: int
    ts_ms: int
    value: float | int | str | None
    quality: int = Quality.GOOD


class Event(NamedTuple):
    """Something that happened (alarm, gap, device down, update step), published on .../event."""

    ts_ms: int
    kind: str
    fields: dict[str, Any]


VALUE_TYPES = ("float", "int", "bool", "string")


@dataclass(frozen=True)
class Point:
    """What the birth message says about a point: enough to decode and label its values."""

    alias: int
    name: str
    unit: str = ""
    type: str = "float"
    resolution: float | None = None  # a quantisation step; None: carried exactly
    device: str = ""
    meta: dict[str, Any] = field(default_factory=dict, compare=False)


def now_ms() -> int:
    return time.time_ns() // 1_000_000
