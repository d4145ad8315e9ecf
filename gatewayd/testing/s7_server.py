"""An S7 CPU on loopback: python-snap7's own server, with DB, M, I and Q areas, in its own
process, and the two refusals a real S7-1200/1500 gives a PUT/GET client.

    python -m gatewayd.testing.s7_server --port 10102 [--put-get-off] [--optimised 3]

The areas hold a known image (LAYOUT, below) that tests read back and change over the
protocol itself (a snap7 client's writes). `--put-get-off` answers every Read Var with header
error 0x8104, as a CPU whose 'Permit access with PUT/GET' box is not ticked; `--optimised N`
makes DB N answer with item error 0x05 (address out of range), as a DB with optimised block
access does. `--live` turns DB1.DBD16 into a counter the CPU increments every 100 ms.
"""

from __future__ import annotations

import argparse
import logging
import struct
import threading
import time
from typing import Any

from ..sources.s7.decode import encode_value
from .plc_process import serve_until_signalled

SIZES = {("DB", 1): 64, ("DB", 2): 600, ("DB", 3): 32, ("M", 0): 256, ("I", 0): 32, ("Q", 0): 32}
# (area, db, byte offset, data type, value): what the CPU holds at start.
LAYOUT: list[tuple[str, int, int, str, Any]] = [
    ("DB", 1, 0, "real", 21.5),
    ("DB", 1, 4, "dint", -123456),
    ("DB", 1, 8, "int", -42),
    ("DB", 1, 10, "word", 0xBEEF),
    ("DB", 1, 12, "byte", 0b0000_1000),  # DB1.DBX12.3 = 1
    ("DB", 1, 20, "string", "PUMP-7"),  # STRING[10] at DB1.DBB20 (12 bytes)
    ("DB", 2, 0, "real", 3.25),
    ("DB", 2, 500, "dint", 7),  # far from DB2.DBD0: a second span
    ("DB", 3, 0, "real", 1.0),
    ("M", 0, 10, "word", 1234),
    ("M", 0, 20, "byte", 0b0000_0010),  # M20.1 = 1
    ("I", 0, 0, "byte", 0b0000_1000),  # I0.3 = 1
    ("I", 0, 2, "int", 555),
    ("Q", 0, 1, "byte", 0b0000_0001),  # Q1.0 = 1
    ("Q", 0, 4, "real", -0.5),
]
STRING_LEN = 10


def image() -> dict[tuple[str, int], bytearray]:
    areas = {key: bytearray(size) for key, size in SIZES.items()}
    for area, db, offset, dt, value in LAYOUT:
        raw = encode_value(value, dt, STRING_LEN)  # type: ignore[arg-type]
        areas[(area, db)][offset : offset + len(raw)] = raw
    return areas


def make_server(put_get_off: bool, optimised: set[int]) -> tuple[Any, dict[tuple[str, int], bytearray]]:
    """snap7's server holding `image()`, answering as a CPU with those settings would."""
    from snap7.server import Server
    from snap7.type import SrvArea

    class CPU(Server):  # type: ignore[misc]
        """snap7's server answering as a CPU with those two settings would."""

        def _handle_read_area(self, request: dict[str, Any], client_address: Any) -> bytes:
            if put_get_off:
                reply: bytes = self._build_error_response(request, 0x8104)
                return reply
            return super()._handle_read_area(request, client_address)  # type: ignore[no-any-return]

        def _read_from_memory_area(self, area: Any, db_number: int, start: int,
                                   count: int) -> tuple[int, bytearray]:
            if int(area) == 0x84 and db_number in optimised:
                return (0x05, bytearray())
            return super()._read_from_memory_area(area, db_number, start, count)  # type: ignore[no-any-return]

    server = CPU(log=False)
    codes = {"DB": SrvArea.DB, "M": SrvArea.MK, "I": SrvArea.PE, "Q": SrvArea.PA}
    server.host = "127.0.0.1"
    areas = image()
    for (area, db), buf in areas.items():
        server.register_area(codes[area], db, buf)
    return server, areas


def _count(buf: bytearray, stop: threading.Event) -> None:
    n = 0
    while not stop.wait(0.1):
        n += 1
        struct.pack_into(">i", buf, 16, n)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--put-get-off", action="store_true")
    ap.add_argument("--optimised", type=int, action="append", default=[])
    ap.add_argument("--live", action="store_true")
    args = ap.parse_args()
    logging.basicConfig(level=logging.ERROR)
    logging.getLogger("snap7").setLevel(logging.CRITICAL)
    server, areas = make_server(args.put_get_off, set(args.optimised))
    server.start(tcp_port=args.port)
    stop = threading.Event()
    if args.live:
        threading.Thread(target=_count, args=(areas[("DB", 1)], stop), daemon=True).start()
    try:
        serve_until_signalled()
    finally:
        stop.set()
        server.stop()
        time.sleep(0)


if __name__ == "__main__":
    main()
