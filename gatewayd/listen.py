"""`gatewayd listen`: the bridge from a gateway's MQTT messages to text other tools take as it is.

Formats: JSON lines (one record a line), InfluxDB line protocol (for Telegraf's `execd` input)
and CSV (a shell, a spreadsheet). The decoding, deduplication and birth matching are
gatewayd.consumer's; this module only chooses the broker and writes lines (docs/listen.md).
"""

from __future__ import annotations

import argparse
import json
import math
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TextIO

from .broker_options import add_options, connection
from .consumer import Listener
from .errors import ConfigError

FORMATS = ("json", "influx", "csv")
CSV_COLUMNS = ("time", "gateway", "device", "point", "alias", "value", "unit", "quality",
               "quality_name", "seq")


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", default=None,
                   help="read the broker, credentials, TLS files and gateway id from this "
                        "gateway config (the options below override it; its credentials go "
                        "only to its own broker)")
    p.add_argument("--broker", default=None, help="mqtt://host:port or mqtts://host:port")
    p.add_argument("--gateway", default=None, help="the gateway id (default: the config's)")
    p.add_argument("--site", default=None, help="the gateway's site (default: any)")
    p.add_argument("--prefix", default=None)
    add_options(p)
    p.add_argument("--client-id", default="", help="with --persistent: the session to resume")
    p.add_argument("--persistent", action="store_true",
                   help="keep a broker session, so nothing is missed while away")
    p.add_argument("--format", choices=FORMATS, default="json")
    p.add_argument("--count", type=int, default=None, help="stop after this many lines")
    p.add_argument("--timeout-s", type=float, default=0, help="stop after this long")
    p.add_argument("--all", action="store_true",
                   help="also births, states, events and notices (json only)")


class Settings:
    """Where to listen and as whom: the config's [broker]/[gateway], overridden by options;
    the URL and credentials by gatewayd.broker_options' one rule."""

    def __init__(self, args: argparse.Namespace) -> None:
        gateway, site, prefix = args.gateway, "+", "gatewayd"
        cfg = None
        if args.config:
            from . import config as config_mod

            try:
                cfg = config_mod.load(Path(args.config))
            except ConfigError as e:
                raise SystemExit(f"gatewayd listen: {e}") from None
            gateway = gateway or cfg.gateway.id
            site, prefix = cfg.gateway.site, cfg.gateway.topic_prefix
        if not gateway:
            raise SystemExit("gatewayd listen: give --gateway, or --config of the gateway")
        try:
            self.url, self.credentials = connection(args, cfg)
        except OSError as e:
            raise SystemExit(f"gatewayd listen: cannot read the password file: {e}") from None
        self.gateway, self.site = gateway, args.site or site
        self.prefix = args.prefix or prefix


# -- line formats -----------------------------------------------------------------------------
def _escape_tag(text: str) -> str:
    return text.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=").replace(" ", "\\ ")


def _field(value: Any) -> str | None:
    """An InfluxDB field value: integers with i (u beyond int64), floats, strings, bools."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return f"{value}u" if value > (1 << 63) - 1 else f"{value}i"
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else None
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def influx_line(rec: dict[str, Any], gateway: str) -> str:
    """`gatewayd,gateway=…,device=…,point=…,unit=… value=…,quality=…i <ns>`: one reading."""
    tags = [("gateway", gateway), ("device", rec.get("device") or ""),
            ("point", rec["name"] or f"alias{rec['alias']}"), ("unit", rec.get("unit") or "")]
    tag_text = "".join(f",{k}={_escape_tag(v)}" for k, v in tags if v)
    fields = [f"quality={rec['quality']}i"]
    value = _field(rec["value"])
    if value is not None:
        fields.insert(0, f"value={value}")
    ns = round(rec["time"] * 1000) * 1_000_000
    return f"gatewayd{tag_text} {','.join(fields)} {ns}"


def _csv_cell(value: Any) -> str:
    text = "" if value is None else str(value)
    if any(c in text for c in ',"\n\r'):
        text = '"' + text.replace('"', '""') + '"'
    return text


def csv_line(rec: dict[str, Any], gateway: str) -> str:
    stamp = datetime.fromtimestamp(rec["time"], UTC).isoformat(timespec="milliseconds")
    value = rec["value"]
    if isinstance(value, bool):
        value = int(value)
    row = {"time": stamp.replace("+00:00", "Z"), "gateway": gateway,
           "device": rec.get("device") or "", "point": rec["name"] or "", "alias": rec["alias"],
           "value": repr(value) if isinstance(value, float) else value,
           "unit": rec.get("unit") or "", "quality": rec["quality"],
           "quality_name": rec["quality_name"], "seq": rec["seq"]}
    return ",".join(_csv_cell(row[c]) for c in CSV_COLUMNS)


def _json_line(rec: dict[str, Any], gateway: str) -> str:
    return json.dumps(rec, ensure_ascii=False)


def formatter(name: str) -> Callable[[dict[str, Any], str], str]:
    return {"json": _json_line, "influx": influx_line, "csv": csv_line}[name]


def _notice(rec: dict[str, Any], err: TextIO) -> None:
    """What a bridge must not hide: data it cannot name, messages it refuses, a reset store."""
    kind = rec.get("type")
    if kind == "unknown_birth":
        print(f"gatewayd listen: data names birth {rec['birth']:#010x}, which has not been seen: "
              "values pass by alias, without names, until it arrives", file=err, flush=True)
    elif kind == "refused":
        print(f"gatewayd listen: refused a message on {rec['topic']}: {rec['reason']}",
              file=err, flush=True)
    elif kind == "store_reset":
        print(f"gatewayd listen: the gateway's numbering restarted at {rec['next_seq']}",
              file=err, flush=True)


def run(args: argparse.Namespace, out: TextIO = sys.stdout, err: TextIO = sys.stderr) -> int:
    s = Settings(args)
    listener = Listener(s.url, s.gateway, s.prefix, s.site, client_id=args.client_id,
                        persistent=args.persistent, credentials=s.credentials).start()
    write = formatter(args.format)
    if args.format == "csv":
        print(",".join(CSV_COLUMNS), file=out, flush=True)
    shown = 0
    deadline = time.monotonic() + args.timeout_s if args.timeout_s else None
    try:
        while args.count is None or shown < args.count:
            if deadline and time.monotonic() > deadline:
                break
            for rec in listener.records(timeout_s=0.5):
                _notice(rec, err)
                if "alias" not in rec and not (args.all and args.format == "json"):
                    continue
                print(write(rec, s.gateway), file=out, flush=True)
                shown += 1
                if args.count is not None and shown >= args.count:
                    break
    except KeyboardInterrupt:
        pass
    finally:
        listener.stop()
    return 0 if args.count is None or shown >= args.count else 1
