"""OPC UA status codes as gatewayd qualities, node ids and values, without I/O.

A StatusCode is 32 bits: the top two give the severity (00 good, 01 uncertain, 10 bad), the
next fourteen the code (OPC 10000-4, 7.39). gatewayd's quality is one byte with the same three
bands; the codes a field device reports most get their own reason, the rest their band.
"""

from __future__ import annotations

import re

from ...model import Quality

SEVERITY_MASK = 0xC0000000
CODE_MASK = 0xFFFF0000  # the low 16 bits are info bits (overflow, limits): not the reason
GOOD, UNCERTAIN = 0x00000000, 0x40000000

# Status codes by value (their names as the specification writes them).
BY_CODE: dict[int, Quality] = {
    0x40900000: Quality.UNCERTAIN_STALE,  # UncertainLastUsableValue
    0x40940000: Quality.UNCERTAIN_RANGE,  # UncertainEngineeringUnitsExceeded
    0x80050000: Quality.BAD_COMM,  # BadCommunicationError
    0x800A0000: Quality.BAD_TIMEOUT,  # BadTimeout
    0x800D0000: Quality.BAD_COMM,  # BadServerNotConnected
    0x808A0000: Quality.BAD_COMM,  # BadNotConnected
    0x80310000: Quality.BAD_COMM,  # BadNoCommunication
    0x80320000: Quality.BAD_COMM,  # BadWaitingForInitialData
    0x80AE0000: Quality.BAD_COMM,  # BadConnectionClosed
    0x808B0000: Quality.BAD_DEVICE_EXCEPTION,  # BadDeviceFailure
    0x808C0000: Quality.BAD_SENSOR_FAULT,  # BadSensorFailure
    0x808D0000: Quality.BAD_DEVICE_EXCEPTION,  # BadOutOfService
    0x80890000: Quality.BAD_CONFIG,  # BadConfigurationError
    0x80330000: Quality.BAD_CONFIG,  # BadNodeIdInvalid
    0x80340000: Quality.BAD_CONFIG,  # BadNodeIdUnknown
    0x80350000: Quality.BAD_CONFIG,  # BadAttributeIdInvalid
    0x803A0000: Quality.BAD_CONFIG,  # BadNotReadable
    0x801F0000: Quality.BAD_CONFIG,  # BadUserAccessDenied
    0x803C0000: Quality.BAD_DATA_INVALID,  # BadOutOfRange
    0x80740000: Quality.BAD_MALFORMED,  # BadTypeMismatch
}

_NODE_ID = re.compile(r"^(?:ns=\d{1,5};|nsu=[^;]+;)?"
                      r"(?:i=\d{1,10}|s=.+|g=[0-9a-fA-F-]{36}|b=[A-Za-z0-9+/=]+)$")


def quality(status: int) -> Quality:
    """The quality of a value with this status code."""
    status &= 0xFFFFFFFF
    if status & SEVERITY_MASK == GOOD:
        return Quality.GOOD
    known = BY_CODE.get(status & CODE_MASK)
    if known is not None:
        return known
    return Quality.UNCERTAIN if status & SEVERITY_MASK == UNCERTAIN else Quality.BAD


NODE_ID_FORM = ("a node id: write ns=2;s=Line1.Temperature, ns=3;i=1001 or "
                "nsu=urn:vendor:plc;s=Temperature (as UaExpert shows it)")


def is_node_id(text: str) -> bool:
    """Whether `text` is a node id in the standard string form."""
    return bool(_NODE_ID.match(text))


def check_node_id(text: str) -> None:
    if not is_node_id(text):
        raise ValueError(f"{text!r} is not {NODE_ID_FORM}")


def raw_value(value: object) -> float | int | str | None:
    """A Variant's value as the point stage takes it: Boolean as 0/1, numbers, text; an array,
    a structure or a date is not one point value (None)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int | float | str):
        return value
    return None
