"""The toolkit's subcommands: `schema`, `probe <kind>` (each plugin's probe), `tail`.

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
    """`probe <kind>` for every kind whose plugin has a probe (its arguments and command)."""
    from ..sources import plugins
    from ..sources.plugin import load

    probes = [(pl.kind, pl.probe) for pl in plugins() if pl.probe is not None]
    kinds = sub.add_parser(
        "probe", help=f"look at a bus: {', '.join(k for k, _ in probes)}"
    ).add_subparsers(dest="probe_kind", required=True)
    for kind, probe in probes:
        p = kinds.add_parser(kind, help=probe.help)
        load(probe.arguments)(p)
        p.set_defaults(func=load(probe.run))


def _tail(sub: Any) -> None:
    from .tail import cmd_tail

    p = sub.add_parser("tail", help="live view of every point, alarm and the queue")
    p.add_argument("--config", default=str(DEFAULT_PATH))
    p.add_argument("--broker", help="remote use: the gateway's readings from this broker "
                                    "(default: the local daemon's socket, no broker needed)")
    p.add_argument("--gateway", help="default: the config's gateway.id")
    p.add_argument("--prefix", help="default: the config's gateway.topic_prefix")
    from ..broker_options import add_options

    add_options(p)
    p.add_argument("--interval-s", type=float, default=1.0)
    p.add_argument("--seconds", type=float, default=0, help="stop after this long (0: Ctrl-C)")
    p.set_defaults(func=cmd_tail)
