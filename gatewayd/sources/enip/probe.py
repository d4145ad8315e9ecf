"""`gatewayd probe enip`: read tags of a Logix controller once, print values or refusals."""

from __future__ import annotations

import argparse
import sys
from typing import TextIO

from ...errors import DeviceError


def arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--host", required=True, help="the controller's IP address")
    p.add_argument("--port", type=int, default=44818)
    p.add_argument("--slot", type=int, default=0)
    p.add_argument("--timeout-ms", type=int, default=1000)
    p.add_argument("--tag", nargs="+", required=True, help="Tank_Level Program:Main.Speed Levels[2]")


def run(args: argparse.Namespace, out: TextIO | None = None) -> int:
    from ...buses.enip import LogixLink
    from .decode import check_tag, tag_problem

    out = out or sys.stdout
    try:
        for tag in args.tag:
            check_tag(tag)
    except ValueError as e:
        print(f"probe enip: {e}", file=sys.stderr)
        return 2
    link = LogixLink(args.host, args.port, args.slot, args.timeout_ms / 1000)
    try:
        link.connect()
        got = link.read(list(args.tag))
        print(f"{link.label}: {len(got)} tag(s) in one request", file=out)
        for tag, (value, status) in zip(args.tag, got, strict=True):
            text = repr(value) if status == 0 else tag_problem(tag, status)
            print(f"  {tag:<28} {text}", file=out)
    except DeviceError as e:
        print(f"probe enip: {e}", file=sys.stderr)
        return 1
    finally:
        link.close()
    return 0
