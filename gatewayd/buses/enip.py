"""The only code that talks to pylogix: one EtherNet/IP session with one Logix controller.

pylogix does not raise; it answers each tag with a status string from its table of CIP
general status codes. That table is turned back into codes here (its own table, inverted: no
message text is parsed), and a status that is not a CIP code at all (a refused socket, a
session that could not be registered) is a link failure.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from ..errors import CommError

logging.getLogger("pylogix").setLevel(logging.WARNING)

NOT_CIP = -1  # the library's status for a socket or session failure


class LogixLink:
    """One controller. A multi-tag read goes out as Multiple Service Packets, as many tags to a
    packet as the connection size allows."""

    def __init__(self, host: str, port: int, slot: int, timeout_s: float) -> None:
        self.host, self.port, self.slot, self.timeout_s = host, port, slot, timeout_s
        self.label = f"Logix controller {host}:{port} slot {slot}"
        self.lock = threading.Lock()
        self._plc: Any = None
        self._codes: dict[str, int] = {}

    def connect(self) -> None:
        from pylogix import PLC
        from pylogix.lgx_response import cip_error_codes

        with self.lock:
            self._drop()
            self._codes = {text: code for code, text in cip_error_codes.items()}
            plc = PLC(self.host, self.slot, timeout=self.timeout_s, port=self.port)
            self._plc = plc
        # pylogix connects on first use; a read of nothing would not, so the first poll tells

    def read(self, tags: list[str]) -> list[tuple[Any, int]]:
        """(value, CIP status) per tag; CommError when the controller cannot be reached."""
        with self.lock:
            if self._plc is None:
                raise CommError(f"{self.label}: not connected")
            try:
                got = self._plc.Read(tags) if len(tags) > 1 else [self._plc.Read(tags[0])]
            except OSError as e:  # pylogix catches most, not all
                self._drop()
                raise CommError(f"{self.label}: {e}") from None
            out = [(r.Value, self._codes.get(r.Status, NOT_CIP)) for r in got]
            if out and all(code in (NOT_CIP, 0x01, 0x07) for _, code in out):
                reason = got[0].Status
                self._drop()
                raise CommError(f"{self.label}: no session ({reason})")
            return out

    def _drop(self) -> None:
        if self._plc is not None:
            self._plc.Close()
            # pylogix opens a socket for unsolicited messages with every PLC object and its
            # Close() leaves it open: close it, or each reconnect leaks a descriptor
            self._plc.conn.msg_socket.close()
            self._plc = None

    def close(self) -> None:
        with self.lock:
            self._drop()
