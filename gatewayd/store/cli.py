"""`gatewayd queue aside` and `gatewayd queue resend`: batches the broker would not take.

Listing reads the store file (read-only, fine while the daemon runs). Re-sending leaves a
request beside the store (`<store>.resend`) that the daemon applies at its next commit (within
a second) or at its next start: the daemon stays the only writer of its queue.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sqlite3
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from .. import config as config_mod
from ..errors import ConfigError, StoreError
from .batchfile import translate
from .protocol import Aside

HAS_ASIDE = "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'aside'"


def read_aside(path: Path) -> list[Aside]:
    """The set-aside batches in a store file (none if there is no file or no such table);
    StoreDiskFault or StoreCorrupt when the file cannot be read."""
    if not path.exists():
        return []
    try:
        with contextlib.closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
            if db.execute(HAS_ASIDE).fetchone() is None:  # a store older than setting aside
                return []
            rows = db.execute("SELECT seq, kind, ts_ms, n, length(payload), reason, at_ms "
                              "FROM aside ORDER BY seq").fetchall()
    except sqlite3.Error as e:
        raise translate(path, e) from None
    return [Aside(*r) for r in rows]


def _store_path(args: argparse.Namespace) -> Path | None:
    try:
        return config_mod.load(args.config).store.path
    except ConfigError as e:
        print(f"{args.config}: {e}", file=sys.stderr)
        return None


def cmd_aside(args: argparse.Namespace) -> int:
    path = _store_path(args)
    if path is None:
        return 2
    try:
        found = read_aside(path)
    except StoreError as e:  # its message starts with the path
        print(f"cannot read the store: {e}", file=sys.stderr)
        return 1
    if args.json:
        print(json.dumps([a.__dict__ for a in found]))
        return 0
    if not found:
        print(f"{path}: no batches set aside")
        return 0
    print(f"{path}: {len(found)} batches set aside")
    for a in found:
        when = datetime.fromtimestamp(a.at_ms / 1000, UTC).strftime("%Y-%m-%d %H:%M:%SZ")
        print(f"  seq {a.seq:<14} {a.kind:<5} {a.n:>7} readings {a.size:>9} bytes  "
              f"set aside {when}: {a.reason}")
    return 0


def cmd_resend(args: argparse.Namespace) -> int:
    path = _store_path(args)
    if path is None:
        return 2
    seqs = args.seq or None
    request = path.with_name(path.name + ".resend")
    try:
        request.write_text(json.dumps({"seqs": seqs}))
    except OSError as e:
        print(f"{request}: cannot write the request: {e}", file=sys.stderr)
        return 1
    what = "all set-aside batches" if seqs is None else f"batches {', '.join(map(str, seqs))}"
    deadline = time.monotonic() + args.wait_s
    while time.monotonic() < deadline and request.exists():
        time.sleep(0.1)
    if request.exists():
        print(f"{what}: requested; the daemon queues them again when it next starts")
    else:
        print(f"{what}: queued again by the running daemon")
    return 0


def add_commands(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    q = sub.add_parser("queue", help="batches the broker would not take: list, send again")
    qsub = q.add_subparsers(dest="queue_command", required=True)
    p = qsub.add_parser("aside", help="list the batches set aside")
    p.add_argument("--config", default=str(config_mod.DEFAULT_PATH))
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_aside)
    p = qsub.add_parser("resend", help="queue set-aside batches again (all, or by seq)")
    p.add_argument("--config", default=str(config_mod.DEFAULT_PATH))
    p.add_argument("seq", type=int, nargs="*", help="seqs to send again (default: all)")
    p.add_argument("--wait-s", type=float, default=5.0, help="how long to wait for the daemon")
    p.set_defaults(func=cmd_resend)
