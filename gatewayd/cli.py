"""The `gatewayd` command: run, check, listen, status (and release, from gatewayd.fleet)."""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import time
from pathlib import Path
from typing import Any

# paho imports dnspython when it is installed, for MQTT over DNS SRV records, which gatewayd
# never uses: about 3 MB resident for nothing (bench/footprint.py). Refused before paho loads.
sys.modules.setdefault("dns", None)  # type: ignore[arg-type]

from . import config as config_mod  # noqa: E402
from .buses.backend import ENV as SIMULATE_ENV  # noqa: E402
from .errors import ConfigError  # noqa: E402


def _setup_logging(verbose: bool) -> None:
    from . import systemd

    handler = systemd.journal_handler() if systemd.under_journal() else None
    if handler is None:
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    logging.basicConfig(level=logging.DEBUG if verbose else logging.INFO, handlers=[handler])
    from .buses import quiet_libraries

    quiet_libraries()


def cmd_run(args: argparse.Namespace) -> int:
    from .daemon import run

    _setup_logging(args.verbose)
    return run(Path(args.config), args.drain_s, args.simulate)


def cmd_check(args: argparse.Namespace) -> int:
    from .preflight import verified

    cfg = verified(args.file, simulated=bool(getattr(args, "simulate", None)))
    if cfg is None:
        return 1
    points = cfg.points()
    print(f"{args.file}: OK, {len(cfg.devices)} devices, {len(points)} points")
    _print_warnings(cfg, args.file)
    return 0


def _print_warnings(cfg: config_mod.Config, path: str) -> None:
    """The lint warnings, each followed by the device it is about and where it is written."""
    from .toml_positions import key_positions, locate
    from .toolkit.warnings import lint

    try:
        text, data = config_mod.read_document(path)
    except ConfigError:
        text, data = "", {}
    positions = key_positions(text)
    for w in lint(cfg):
        key = config_mod.key_path(w.split(":", 1)[0])
        at = locate(positions, key)
        name = config_mod.device_name(data, key)
        extra = ", ".join(([f"device {name}"] if name else [])
                          + ([f"line {at[0]}, column {at[1]}"] if at else []))
        print(f"  warning: {w}" + (f" ({extra})" if extra else ""))


def cmd_listen(args: argparse.Namespace) -> int:
    from .listen import run

    return run(args)


def cmd_status(args: argparse.Namespace) -> int:
    """From the daemon's live socket; from its status.json when the socket cannot be reached
    (an older daemon, a directory the socket could not be made in)."""
    from .errors import NoDaemon
    from .live.client import candidates, read_snapshot

    cfg = _config_or_none(args.config)
    store_dir = cfg.store.path.parent if cfg is not None else None
    try:
        st: dict[str, Any] | None = read_snapshot(candidates(store_dir))
    except NoDaemon as e:
        st = _status_file(cfg)
        why = str(e)
    if st is None:
        print(f"gatewayd status: no running daemon found ({why})", file=sys.stderr)
        return 3
    age = time.time() - st.get("written_s", time.time())
    healthy = st["broker"]["connected"] and age < 30
    print(json.dumps(st, indent=2) if args.json else _status_text(st))
    return 0 if healthy else 1


def _config_or_none(path: str) -> config_mod.Config | None:
    try:
        return config_mod.load(path)
    except ConfigError:
        return None


def _status_file(cfg: config_mod.Config | None) -> dict[str, Any] | None:
    from .daemon import find_status

    if cfg is None:
        return None
    try:
        st = json.loads(find_status(cfg).read_text())
    except (OSError, ValueError):
        return None
    return st if isinstance(st, dict) else None


def _status_text(st: dict[str, Any]) -> str:
    from .toolkit.tail import fmt_age, fmt_value

    q, b = st["queue"], st["broker"]
    lines = [f"gatewayd {st['gateway']} {st['version']} pid {st['pid']} up {st['uptime_s']} s",
             f"broker {b['url']}: {'connected' if b['connected'] else 'DISCONNECTED'}"
             + (f" ({b['error']})" if b.get("error") and not b["connected"] else ""),
             f"queue {q['depth']} batches, {q['readings']} readings, {q['bytes']} bytes, "
             f"oldest {q['oldest_age_s']} s, dropped {q['dropped']}"
             + (f", DISK FAULT: {q['fault']} ({q.get('in_memory', 0)} batches in memory)"
                if q.get("fault") else "")]
    for topic, why in b.get("refusing", {}).items():
        lines.append(f"REFUSED by the broker on {topic}: {why['reason']} (0x{why['code']:02x}), "
                     f"{why['batches']} batches kept, sent again when it accepts")
    if q.get("aside"):
        lines.append(f"{q['aside']} batches set aside, the broker would not take them "
                     "(gatewayd queue aside / resend)")
    for d in st["devices"]:
        state = "up" if d["up"] else f"DOWN ({d['reason']})"
        kind = f" [{d['kind']}]" if d.get("kind") else ""
        lines.append(f"  {d['device']:<20} {state}, errors {d.get('errors', 0)}{kind}")
        for p in d.get("points", []):
            age = "-" if p["age_s"] is None else fmt_age(p["age_s"])
            value = fmt_value(p["value"], p.get("resolution", 0.001))
            lines.append(f"      {p['name']:<24} {value:>12} {p['unit']:<6} {p['quality']:<16} {age:>5}")
    return "\n".join(lines)


def parser(daemon_only: bool = False) -> argparse.ArgumentParser:
    """The command line. `daemon_only` leaves out every command but `run`: building the others'
    parsers imports their modules (1.4 MB), which a daemon living for months would carry."""
    ap = argparse.ArgumentParser(prog="gatewayd", description=__doc__)
    ap.add_argument("--simulate", metavar="WORLD", default=os.environ.get(SIMULATE_ENV) or None,
                    help=f"simulated buses for the whole process (demo, tests; ${SIMULATE_ENV})")
    sub = ap.add_subparsers(dest="command", required=True)
    p = sub.add_parser("run", help="run the daemon")
    p.add_argument("--config", default=str(config_mod.DEFAULT_PATH))
    p.add_argument("--drain-s", type=float, default=5.0, help="time to publish at stop")
    p.add_argument("-v", "--verbose", action="store_true")
    p.set_defaults(func=cmd_run)
    if daemon_only:
        return ap
    p = sub.add_parser("check", help="validate a config file, listing every problem")
    p.add_argument("file", nargs="?", default=str(config_mod.DEFAULT_PATH))
    p.set_defaults(func=cmd_check)
    p = sub.add_parser("listen", help="a gateway's readings as JSON lines, InfluxDB line "
                                      "protocol or CSV (docs/listen.md)")
    from .listen import add_arguments

    add_arguments(p)
    p.set_defaults(func=cmd_listen)
    p = sub.add_parser("status", help="health of the running daemon (exit 1 when unhealthy)")
    p.add_argument("--config", default=str(config_mod.DEFAULT_PATH))
    p.add_argument("--json", action="store_true")
    p.set_defaults(func=cmd_status)
    try:
        from .fleet.cli import add_commands
    except ImportError:
        pass
    else:
        add_commands(sub)
    from .recording.cli import add_commands as add_vibration_commands
    from .store.cli import add_commands as add_queue_commands
    from .toolkit.cli import add_commands as add_toolkit_commands

    add_queue_commands(sub)
    add_vibration_commands(sub)

    add_toolkit_commands(sub)
    from .toolkit.testrun import add_command as add_test_command

    add_test_command(sub)
    return ap


def _command(argv: list[str]) -> str | None:
    """The subcommand's name in an argument list (after the global `--simulate WORLD`)."""
    it = iter(argv)
    for arg in it:
        if arg == "--simulate":
            next(it, None)
        elif not arg.startswith("-"):
            return arg
    return None


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parser(daemon_only=_command(argv) == "run").parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
