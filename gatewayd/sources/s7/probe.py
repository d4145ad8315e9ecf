"""`gatewayd probe s7`: connect to a CPU, read addresses once, print values or refusals."""

from __future__ import annotations

import argparse
import sys
from typing import Any, TextIO

from ...errors import DeviceError


def arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", required=True, help="the CPU's IP address")
    p.add_argument("--port", type=int, default=102)
    p.add_argument("--rack", type=int, default=0)
    p.add_argument("--slot", type=int, default=1, help="1 on an S7-1200/1500, 2 on an S7-300")
    p.add_argument("--timeout-ms", type=int, default=1000)
    p.add_argument("--address", nargs="+", required=True, metavar="ADDRESS[:TYPE]",
                   help="DB1.DBD0:real MW10:int I0.3 DB1.DBB20:string:10")


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    from ...buses import s7_pdu
    from ...buses.s7 import S7Link, item_problem
    from .decode import decode_value, parse_address, width

    out = out or sys.stdout
    try:
        parsed = []
        for text in args.address:
            addr_text, _, spec = text.partition(":")
            dt, _, length = spec.partition(":")  # string:10 is a STRING[10]
            try:
                addr = parse_address(addr_text)
            except ValueError as e:
                raise ValueError(f"{addr_text!r}: expected {e}") from None
            data_type: Any = dt or ("bool" if addr.bit is not None else "byte")
            size = width(data_type, int(length) if length else 254)
            parsed.append((addr_text, addr, data_type, size))
    except (ValueError, KeyError) as e:
        print(f"probe s7: {e}", file=sys.stderr)
        return 2
    link = S7Link(args.host, args.port, args.rack, args.slot, args.timeout_ms / 1000)
    try:
        link.connect()
        print(f"{link.label}: connected, PDU size {link.pdu_size} bytes", file=out)
        for text, addr, data_type, size in parsed:
            span = s7_pdu.Span(addr.area, addr.db, addr.offset, size, (0,))
            got = link.read([span])[0]
            if isinstance(got, int):
                print(f"  {text:<16} {item_problem(got, span)}", file=out)
            else:
                print(f"  {text:<16} {data_type:<7} {decode_value(got, data_type, addr.bit)!r}"
                      f"  (bytes {got.hex(' ')})", file=out)
    except DeviceError as e:
        print(f"probe s7: {e}", file=sys.stderr)
        return 1
    finally:
        link.close()
    return 0
