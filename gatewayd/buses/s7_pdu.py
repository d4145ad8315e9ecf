"""S7comm PDUs without I/O: Setup Communication and Read Var requests, and their replies.

Pure functions, tested with byte vectors; buses/s7.py moves them over ISO-on-TCP.

A Read Var request carries up to 20 items (area, DB, byte offset, length); the reply carries
one return code and the data per item. The PDU size is negotiated at connect (240 bytes on an
S7-300, 480 or 960 on an S7-1200/1500), and requests are cut to fit it.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from dataclasses import dataclass

AREA_CODE: dict[str, int] = {"I": 0x81, "Q": 0x82, "M": 0x83, "DB": 0x84}
READ_VAR = 0x04
SETUP_COMMUNICATION = 0xF0
MAX_ITEMS = 20  # per request: the S7 protocol's limit (and snap7's MAX_VARS)
REQUEST_OVERHEAD = 12 + 2  # header + function/count
ITEM_REQUEST = 12
REPLY_OVERHEAD = 12 + 2
ITEM_REPLY = 4  # return code, transport size, length


@dataclass(frozen=True)
class Span:
    """One item of a read request: `size` bytes of one area from `start`, feeding the members
    (indices into the list the plan was made from)."""

    area: str  # I, Q, M or DB
    db: int
    start: int
    size: int
    members: tuple[int, ...]

    @property
    def reply_size(self) -> int:
        return ITEM_REPLY + self.size + (self.size & 1)  # fill byte after an odd item


def pack_requests(spans: Sequence[Span], pdu_size: int) -> list[list[Span]]:
    """Group spans into requests whose request and reply both fit the negotiated PDU size."""
    requests: list[list[Span]] = []
    current: list[Span] = []
    req = REQUEST_OVERHEAD
    rep = REPLY_OVERHEAD
    for span in spans:
        if current and (len(current) == MAX_ITEMS or req + ITEM_REQUEST > pdu_size
                        or rep + span.reply_size > pdu_size):
            requests.append(current)
            current, req, rep = [], REQUEST_OVERHEAD, REPLY_OVERHEAD
        current.append(span)
        req += ITEM_REQUEST
        rep += span.reply_size
    if current:
        requests.append(current)
    return requests


def max_span_size(pdu_size: int) -> int:
    """The most bytes one item may ask for so that its reply fits alone in a PDU."""
    return pdu_size - REPLY_OVERHEAD - ITEM_REPLY


def setup_request(pdu_ref: int, pdu_size: int = 960) -> bytes:
    """Setup Communication: one job each way, and the PDU size we would like."""
    params = struct.pack(">BBHHH", SETUP_COMMUNICATION, 0, 1, 1, pdu_size)
    return struct.pack(">BBHHHH", 0x32, 0x01, 0, pdu_ref, len(params), 0) + params


def read_request(pdu_ref: int, spans: Sequence[Span]) -> bytes:
    """Read Var with one S7ANY item (BYTE transport, bit address) per span."""
    items = b"".join(
        struct.pack(">BBBBHHB", 0x12, 0x0A, 0x10, 0x02, s.size, s.db, AREA_CODE[s.area])
        + (s.start * 8).to_bytes(3, "big")
        for s in spans
    )
    params = bytes([READ_VAR, len(spans)]) + items
    return struct.pack(">BBHHHH", 0x32, 0x01, 0, pdu_ref, len(params), 0) + params


class S7Refused(Exception):
    """The CPU answered with an error for the whole request (header error class and code)."""

    def __init__(self, code: int) -> None:
        super().__init__(f"S7 error 0x{code:04X}")
        self.code = code


class S7Malformed(Exception):
    """The reply does not parse as the answer to our request."""


@dataclass(frozen=True)
class Reply:
    pdu_ref: int
    function: int
    params: bytes
    data: bytes


def parse_reply(pdu: bytes) -> Reply:
    """Header and sections of an Ack-Data; S7Refused for a header error, S7Malformed for junk."""
    if len(pdu) < 12 or pdu[0] != 0x32 or pdu[1] not in (0x02, 0x03):
        raise S7Malformed(f"not an S7 acknowledgement: {pdu[:12].hex()}")
    ref, plen, dlen, err_class, err_code = struct.unpack(">HHHBB", pdu[4:12])
    if err_class or err_code:
        raise S7Refused(err_class << 8 | err_code)
    if len(pdu) < 12 + plen + dlen or plen < 1:
        raise S7Malformed(f"reply shorter than its header says ({len(pdu)} bytes)")
    return Reply(ref, pdu[12], pdu[12 : 12 + plen], pdu[12 + plen : 12 + plen + dlen])


def parse_setup(pdu: bytes) -> int:
    """The PDU size the CPU granted."""
    reply = parse_reply(pdu)
    if reply.function != SETUP_COMMUNICATION or len(reply.params) < 8:
        raise S7Malformed("not a Setup Communication reply")
    size: int = struct.unpack(">H", reply.params[6:8])[0]
    return size


def parse_read(pdu: bytes, spans: Sequence[Span]) -> list[bytes | int]:
    """Per span: its bytes, or the item's return code (0x05 address out of range, 0x0A no such
    object, 0x03 access denied, ...) when the CPU refused that item alone."""
    reply = parse_reply(pdu)
    if reply.function != READ_VAR or len(reply.params) < 2 or reply.params[1] != len(spans):
        raise S7Malformed(f"a Read Var reply for {len(spans)} items expected, got {reply.params.hex()}")
    out: list[bytes | int] = []
    data, pos = reply.data, 0
    for i, span in enumerate(spans):
        if pos + 4 > len(data):
            raise S7Malformed(f"reply ends before item {i}")
        code, transport, length = data[pos], data[pos + 1], int.from_bytes(data[pos + 2 : pos + 4], "big")
        pos += 4
        if code != 0xFF:
            out.append(code)
            continue
        nbytes = length // 8 if transport in (0x03, 0x04, 0x05) else length
        if nbytes != span.size or pos + nbytes > len(data):
            raise S7Malformed(f"item {i}: {nbytes} bytes for a request of {span.size}")
        out.append(data[pos : pos + nbytes])
        pos += nbytes + (nbytes & 1 if i < len(spans) - 1 else 0)
    return out


