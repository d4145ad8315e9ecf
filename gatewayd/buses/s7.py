"""The only code that talks to python-snap7: one ISO-on-TCP connection to one S7 CPU.

snap7 carries the transport (TPKT, COTP connect with the TSAP that names rack and slot); the
S7 PDUs themselves are built and parsed by the pure functions in s7_pdu.py. snap7's
exceptions are translated into gatewayd's error tree here, and the CPU's refusals into messages
that name the TIA Portal setting to change.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from ..errors import CommError, DeviceException, ProtocolError
from ..model import Quality
from . import s7_pdu as decode

logging.getLogger("snap7").setLevel(logging.WARNING)  # it logs every connect at INFO

PUT_GET_OFF = 0x8104  # an S7-1200/1500 refusing Read Var: PUT/GET is not permitted
ACCESS_DENIED = 0x03
OUT_OF_RANGE = 0x05
NO_OBJECT = 0x0A
ITEM_ERRORS = {0x01: "hardware fault", 0x03: "access denied", 0x05: "address out of range",
               0x06: "data type not supported", 0x07: "data type inconsistent", 0x0A: "no such object"}

PUT_GET_HINT = ("PUT/GET access is off on this CPU. In TIA Portal: select the CPU > Properties > "
                "Protection & Security > Connection mechanisms > tick 'Permit access with PUT/GET "
                "communication from remote partner', then download the hardware configuration")
OPTIMISED_HINT = ("the DB is shorter than the configured points, or it uses optimised block access. "
                  "In TIA Portal: right-click the DB > Properties > Attributes > untick 'Optimized "
                  "block access', compile and download the DB (absolute offsets as in the DB's "
                  "'Offset' column)")


class S7Link:
    """One connection. Calls are serialised by a lock: one request in flight, as the CPU's
    one-job-at-a-time Setup Communication asks."""

    def __init__(self, host: str, port: int, rack: int, slot: int, timeout_s: float) -> None:
        self.host, self.port, self.rack, self.slot = host, port, rack, slot
        self.timeout_s = timeout_s
        self.label = f"S7 CPU {host}:{port} rack {rack} slot {slot}"
        self.lock = threading.Lock()
        self.pdu_size = 240
        self._conn: Any = None
        self._ref = 0

    def connect(self) -> None:
        """Open the connection and negotiate the PDU size; CommError if the CPU does not answer."""
        from snap7.connection import ISOTCPConnection  # lazy: only gateways with an S7 PLC pay for it
        from snap7.error import S7Error

        with self.lock:
            self._drop()
            conn = ISOTCPConnection(self.host, self.port, local_tsap=0x0100,
                                    remote_tsap=0x0100 | self.rack << 5 | self.slot)
            try:
                conn.connect(timeout=self.timeout_s)
                self._conn = conn
                self.pdu_size = decode.parse_setup(self._exchange(decode.setup_request(self._next_ref())))
            except (S7Error, OSError) as e:
                self._drop()
                raise CommError(f"{self.label}: cannot connect: {e}") from None
            except (decode.S7Refused, decode.S7Malformed) as e:
                self._drop()
                raise ProtocolError(f"{self.label}: refused the connection setup: {e}") from None

    def read(self, spans: list[decode.Span]) -> list[bytes | int]:
        """One Read Var request: bytes per span, or the item's return code."""
        with self.lock:
            if self._conn is None:
                raise CommError(f"{self.label}: not connected")
            try:
                return decode.parse_read(self._exchange(decode.read_request(self._next_ref(), spans)), spans)
            except decode.S7Refused as e:
                self._drop_after_refusal()
                if e.code == PUT_GET_OFF:
                    raise DeviceException(f"{self.label}: read refused (S7 error 0x8104): {PUT_GET_HINT}",
                                          Quality.BAD_CONFIG) from None
                raise DeviceException(f"{self.label}: read refused: {e}") from None
            except decode.S7Malformed as e:
                self._drop()
                raise ProtocolError(f"{self.label}: {e}") from None

    def _exchange(self, pdu: bytes) -> bytes:
        from snap7.error import S7Error, S7TimeoutError

        try:
            self._conn.send_data(pdu)
            reply: bytes = self._conn.receive_data()
            return reply
        except S7TimeoutError:
            self._drop()
            raise CommError(f"{self.label}: no reply within {self.timeout_s:g} s",
                            Quality.BAD_TIMEOUT) from None
        except (S7Error, OSError) as e:
            self._drop()
            raise CommError(f"{self.label}: link lost: {e}") from None

    def _drop_after_refusal(self) -> None:
        """A refused request leaves the connection usable; keep it."""

    def _next_ref(self) -> int:
        self._ref = self._ref % 0xFFFF + 1
        return self._ref

    def _drop(self) -> None:
        if self._conn is not None:
            self._conn.disconnect()
            self._conn = None

    def close(self) -> None:
        with self.lock:
            self._drop()


def item_problem(code: int, span: decode.Span) -> str:
    """What an item's return code means for this span, naming the setting to change."""
    where = (f"DB{span.db} bytes {span.start}..{span.start + span.size - 1}" if span.area == "DB"
             else f"{span.area} bytes {span.start}..{span.start + span.size - 1}")
    if code == OUT_OF_RANGE and span.area == "DB":
        return f"{where}: address out of range: {OPTIMISED_HINT}"
    if code == NO_OBJECT and span.area == "DB":
        return f"{where}: DB{span.db} does not exist in the CPU (or is not downloaded)"
    if code == ACCESS_DENIED:
        return f"{where}: access denied: {PUT_GET_HINT}"
    return f"{where}: {ITEM_ERRORS.get(code, 'item refused')} (return code 0x{code:02X})"
