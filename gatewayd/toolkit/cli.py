"""The toolkit's subcommands: `schema`, `probe i2c|modbus|serial|gpio`, `tail`.

gatewayd/cli.py calls `add_commands(sub)`; each handler takes the parsed arguments and returns
an exit code. `print_warnings` is what `gatewayd check` adds after a config validates.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, TextIO

from ..config import DEFAULT_PATH, Config


def print_warnings(cfg: Config, out: TextIO | None = None) -> int:
    """Print every lint warning of a valid config; returns how many there were."""
    from .warnings import lint

    out = out or sys.stdout
    found = lint(cfg)
    for w in found:
        print(f"  warning: {w}", file=out)
    return len(found)


def add_commands(sub: Any) -> None:
    for add in (_schema, _probe, _tail):
        add(sub)


def _schema(sub: Any) -> None:
    p = sub.add_parser("schema", help="print the JSON Schema of the config (for editors)")
    p.add_argument("--indent", type=int, default=2)
    p.set_defaults(func=cmd_schema)


def cmd_schema(args: argparse.Namespace) -> int:
    from .schema import config_schema

    print(json.dumps(config_schema(), indent=args.indent or None))
    return 0


def _probe(sub: Any) -> None:
    from . import probe

    kinds = sub.add_parser("probe", help="look at a bus: i2c, modbus, serial, gpio").add_subparsers(
        dest="probe_kind", required=True
    )
    p = kinds.add_parser("i2c", help="which addresses answer, and which chip each could be")
    p.add_argument("--bus", default="1", help="bus number (1 = /dev/i2c-1)")
    p.set_defaults(func=probe.cmd_i2c)
    p = kinds.add_parser("modbus", help="one read, raw and decoded")
    p.add_argument("--host", help="Modbus TCP device or gateway")
    p.add_argument("--port", help="TCP port with --host (502), else the RS-485 serial port")
    p.add_argument("--unit", type=int, default=1)
    p.add_argument("--read", required=True, help="40001:10 (Modicon) or holding:0:10")
    p.add_argument("--baudrate", type=int, default=9600)
    p.add_argument("--parity", choices=("N", "E", "O"), default="E")
    p.add_argument("--stopbits", type=int, choices=(1, 2), default=1)
    p.add_argument("--timeout-ms", type=int, default=1000)
    p.set_defaults(func=probe.cmd_modbus)
    p = kinds.add_parser("serial", help="listen and suggest baud, framing and terminator")
    p.add_argument("--port", required=True)
    p.add_argument("--seconds", type=float, default=8.0, help="listening time over all bauds")
    p.add_argument("--bauds", help="comma-separated, default 1200..115200")
    p.add_argument("--send", help="a poll command sent every 0.5 s (escapes: \\r, \\x05)")
    p.set_defaults(func=probe.cmd_serial)
    p = kinds.add_parser("gpio", help="live input pin levels and edges")
    p.add_argument("--pins", help="comma-separated BCM numbers or names (default: free pins)")
    p.add_argument("--config", help="watch the inputs of this config's gpio devices")
    p.add_argument("--pull", choices=("up", "down", "floating"), default="floating")
    p.add_argument("--seconds", type=float, default=0, help="watch for changes this long")
    p.set_defaults(func=probe.cmd_gpio)


def _tail(sub: Any) -> None:
    from .tail import cmd_tail

    p = sub.add_parser("tail", help="live view of every point, alarm and the queue")
    p.add_argument("--config", default=str(DEFAULT_PATH))
    p.add_argument("--broker", help="default: the config's broker.url")
    p.add_argument("--gateway", help="default: the config's gateway.id")
    p.add_argument("--prefix", help="default: the config's gateway.topic_prefix")
    p.add_argument("--interval-s", type=float, default=1.0)
    p.add_argument("--seconds", type=float, default=0, help="stop after this long (0: Ctrl-C)")
    p.set_defaults(func=cmd_tail)
