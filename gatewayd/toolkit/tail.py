"""`gatewayd tail`: a live view of every point, redrawn in place, small enough for SSH.

Data comes from the broker (gatewayd.consumer.Listener: births name the points, data carries
values and qualities, events carry alarms); queue and broker state come from the daemon's
status.json when the config is at hand. The screen is plain ANSI (cursor home, erase to end
of line): it needs no curses, works in any terminal and reads back from a pty in tests.

    gatewayd 'press-1'  broker connected  queue 0 (oldest 0.0 s)  3/3 devices up  12:00:01
    POINT                  VALUE UNIT   QUALITY          AGE  ALARM
    tank1.level            2.731 m      good            0.4s  H
    ...
    vib pump2-de: rms_g 0.051  velocity_mm_s 1.23  iso_zone 1  shaft_hz 29.9
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

HOME, ERASE_LINE, ERASE_BELOW = "\x1b[H", "\x1b[K", "\x1b[J"
HIDE_CURSOR, SHOW_CURSOR, CLEAR = "\x1b[?25l", "\x1b[?25h", "\x1b[2J"
MIN_NAME = 6


@dataclass
class Row:
    value: Any
    unit: str
    quality: str
    time_s: float


@dataclass
class TailState:
    """What the screen shows, fed record by record from the Listener."""

    gateway: str
    rows: dict[str, Row] = field(default_factory=dict)
    alarms: dict[str, str] = field(default_factory=dict)  # point or device.feature -> level
    vibration: dict[str, list[str]] = field(default_factory=dict)  # device -> its point names
    resolution: dict[str, float | None] = field(default_factory=dict)
    last_event: str = ""

    def feed(self, rec: dict[str, Any]) -> None:
        if rec.get("name"):
            self.rows[rec["name"]] = Row(
                rec["value"], rec.get("unit") or "", rec.get("quality_name", rec["quality"]),
                rec["time"],
            )
        elif rec.get("type") == "event":
            self._event(rec)

    def _event(self, rec: dict[str, Any]) -> None:
        kind = rec.get("kind", "")
        if kind == "alarm":
            self._alarm(rec.get("point", "?"), rec.get("level", "?"), rec.get("state") == "active")
        elif kind == "vibration.alarm":
            key = f"{rec.get('device')}.{rec.get('feature')}"
            self._alarm(key, "ALARM", rec.get("state") == "raised")
        elif kind == "vibration.zone":
            self._alarm(
                f"{rec.get('device')}.iso_zone",
                f"zone {rec.get('zone')}",
                rec.get("zone") in ("C", "D"),
            )
        detail = " ".join(
            f"{k}={v}" for k, v in rec.items() if k not in ("type", "seq", "kind", "ts", "ts_ms")
        )
        self.last_event = f"{time.strftime('%H:%M:%S')} {kind} {detail}"

    def _alarm(self, key: str, level: str, active: bool) -> None:
        if active:
            self.alarms[key] = level
        else:
            self.alarms.pop(key, None)


def fmt_value(value: Any, resolution: float | None = None) -> str:
    if value is None:
        return "-"
    if isinstance(value, str):
        return value
    if isinstance(value, (bool, int)):
        return str(int(value))
    if resolution is None:  # carried exactly: enough digits for a float32, no noise
        text = f"{value:.7g}"
        return text if any(c in text for c in ".en") else text + ".0"
    decimals = min(6, max(0, -math.floor(math.log10(resolution)))) if resolution > 0 else 3
    return f"{value:.{decimals}f}"


def fmt_age(seconds: float) -> str:
    if seconds < 10:
        return f"{max(seconds, 0):.1f}s"
    return f"{seconds:.0f}s" if seconds < 120 else f"{seconds / 60:.0f}m"


def header(state: TailState, status: dict[str, Any] | None, now: float) -> str:
    parts = [f"gatewayd {state.gateway!r}"]
    if status:
        q, b = status["queue"], status["broker"]
        up = sum(1 for d in status["devices"] if d["up"])
        parts += [
            f"broker {'connected' if b['connected'] else 'DISCONNECTED'}",
            f"queue {q['depth']} (oldest {q['oldest_age_s']} s)",
            f"{up}/{len(status['devices'])} devices up",
        ]
    else:
        parts.append("(no status.json: queue state unknown)")
    return "  ".join([*parts, time.strftime("%H:%M:%S", time.localtime(now))])


def point_lines(state: TailState, width: int, now: float) -> list[str]:
    """The table of every point not shown as a vibration feature; narrower columns on a small
    terminal, the name column taking what is left."""
    featured = {n for names in state.vibration.values() for n in names}
    names = sorted(n for n in state.rows if n not in featured)
    vw, uw, qw = (12, 6, 16) if width >= 64 else (9, 4, 8)
    fixed = vw + uw + qw + 5 + 4 + 6  # value, unit, quality, age, separators, alarm
    name_w = max(MIN_NAME, min(width - fixed, max((len(n) for n in names), default=MIN_NAME)))
    out = [
        f"{'POINT':<{name_w}} {'VALUE':>{vw}} {'UNIT':<{uw}} {'QUALITY':<{qw}} {'AGE':>5}  ALARM"
    ]
    for n in names:
        r = state.rows[n]
        value = fmt_value(r.value, state.resolution.get(n))
        out.append(
            f"{n[:name_w]:<{name_w}} {value:>{vw}} {r.unit[:uw]:<{uw}} {r.quality[:qw]:<{qw}} "
            f"{fmt_age(now - r.time_s):>5}  {state.alarms.get(n, '')}"
        )
    return out


def vibration_lines(state: TailState) -> list[str]:
    """One line a vibration channel: its features side by side, alarms marked with '!'."""
    out = []
    for device, names in sorted(state.vibration.items()):
        cells = []
        for n in names:
            if n in state.rows:
                feature = n.removeprefix(f"{device}.")
                value = fmt_value(state.rows[n].value, state.resolution.get(n))
                cells.append(f"{feature} {value}{'!' if n in state.alarms else ''}")
        out.append(f"vib {device}: " + ("  ".join(cells) or "(no window yet)"))
    return out


def render(
    state: TailState, status: dict[str, Any] | None, width: int, height: int, now: float,
    extra: list[str] | None = None,
) -> list[str]:
    """The screen as lines, each at most `width` long, at most `height` of them."""
    body = point_lines(state, width, now) + vibration_lines(state) + (extra or [])
    footer = [f"last event: {state.last_event}"] if state.last_event else []
    room = max(1, height - 1 - len(footer))
    if len(body) > room:
        body = [
            *body[: room - 1],
            f"... {len(body) - room + 1} more (a taller terminal shows them)",
        ]
    return [line[:width] for line in [header(state, status, now), *body, *footer]]


def draw(lines: list[str], out: TextIO) -> None:
    out.write(
        HOME
        + "".join(line + ERASE_LINE + "\r\n" for line in lines[:-1])
        + lines[-1]
        + ERASE_LINE
        + ERASE_BELOW
    )
    out.flush()


def read_status(path: Path | None) -> dict[str, Any] | None:
    if path is None:
        return None
    try:
        return json.loads(path.read_text())  # type: ignore[no-any-return]
    except (OSError, ValueError):
        return None


@dataclass
class Target:
    broker: str | None  # None: the daemon's local socket
    gateway: str
    prefix: str
    status_path: Path | None = None
    sockets: list[Path] = field(default_factory=list)
    credentials: Any = None  # consumer.Credentials for --broker
    vibration: dict[str, list[str]] = field(default_factory=dict)
    resolution: dict[str, float | None] = field(default_factory=dict)


def target_of(args: argparse.Namespace) -> Target:
    """What to show: the local daemon through its socket; with --broker, a gateway's readings
    from that broker, the config (when readable) naming the gateway and its points."""
    from .. import config as config_mod
    from ..daemon import find_status
    from ..live.client import candidates

    cfg = config_mod.load(args.config) if args.config and Path(args.config).exists() else None
    if args.broker and cfg is None and not args.gateway:
        raise ValueError(f"--gateway, or a readable config (not found: {args.config})")
    t = Target(
        args.broker,
        args.gateway or (cfg.gateway.id if cfg else ""),
        args.prefix or (cfg.gateway.topic_prefix if cfg else "gatewayd"),
        sockets=candidates(cfg.store.path.parent if cfg else None),
    )
    if args.broker:
        from ..broker_options import credentials

        t.credentials = credentials(args, args.broker, cfg)
    if cfg is not None:
        t.status_path = find_status(cfg)
        from ..sources import plugin

        t.vibration = {  # devices shown as one line of features
            d.name: [p.name for p in d.points] for d in cfg.devices
            if plugin(d.kind).tail == "device"
        }
        t.resolution = {p.name: p.resolution for p in cfg.points()}
    return t


def _device_rows(kind: str) -> bool:
    """Whether the kind's plugin shows a device as one line of features (vibration)."""
    from ..sources import KINDS, plugin

    return kind in KINDS and plugin(kind).tail == "device"


def feed_snapshot(state: TailState, snap: dict[str, Any], now: float) -> None:
    """Take the daemon's live snapshot (Supervisor.status()) into the screen's state."""
    state.gateway = str(snap.get("gateway", state.gateway))
    for dev in snap.get("devices", []):
        names = []
        for p in dev.get("points", []):
            names.append(p["name"])
            state.resolution[p["name"]] = p.get("resolution", 0.001)
            if p.get("age_s") is not None:
                state.rows[p["name"]] = Row(p["value"], p.get("unit", ""), p["quality"],
                                            now - p["age_s"])
        if _device_rows(str(dev.get("kind", ""))):
            state.vibration[dev["device"]] = names
    state.alarms = dict(snap.get("alarms", {}))
    events = snap.get("events", [])
    if events:
        ev = events[-1]
        detail = " ".join(f"{k}={v}" for k, v in ev.items() if k not in ("kind", "ts_ms"))
        clock = time.strftime("%H:%M:%S", time.localtime(ev.get("ts_ms", 0) / 1000))
        state.last_event = f"{clock} {ev.get('kind', '')} {detail}"


def device_lines(snap: dict[str, Any] | None) -> list[str]:
    """Devices that are down, each with its reason, and the vibration alarms with what they
    found: what a commissioning engineer looks at next."""
    if not snap:
        return []
    down = [f"DOWN {d['device']} ({d.get('kind', '')}): {d.get('reason', '')}"
            for d in snap.get("devices", []) if not d.get("up", True)]
    vib = {f"{d['device']}." for d in snap.get("devices", [])
           if _device_rows(str(d.get("kind", "")))}
    alarms = [f"ALARM {k}: {v}" for k, v in sorted(snap.get("alarms", {}).items())
              if any(k.startswith(prefix) for prefix in vib)]
    return down + alarms


def screen_once(snap: dict[str, Any], width: int = 100, footer: list[str] | None = None
                ) -> list[str]:
    """The live view as plain lines, for a log or a pipe (no terminal to redraw)."""
    state = TailState(str(snap.get("gateway", "")))
    now = time.time()
    feed_snapshot(state, snap, now)
    return render(state, snap, width, 1000, now, extra=device_lines(snap) + (footer or []))


def run_local(target: Target, out: TextIO, seconds: float = 0, interval_s: float = 1.0,
              footer: list[str] | None = None) -> int:
    """Read the local daemon's snapshot and redraw every `interval_s` (`footer`: lines kept
    under the table, such as the demo's legend)."""
    from ..errors import NoDaemon
    from ..live.client import read_snapshot

    state = TailState(target.gateway, vibration=target.vibration, resolution=target.resolution)
    try:
        snap: dict[str, Any] | None = read_snapshot(target.sockets)
    except NoDaemon as e:
        print(f"gatewayd tail: no running daemon found ({e}); a remote one: --broker URL",
              file=sys.stderr)
        return 3
    out.write(CLEAR + HIDE_CURSOR)
    end = time.monotonic() + seconds if seconds else math.inf
    try:
        while True:
            if snap is not None:
                feed_snapshot(state, snap, time.time())
            size = shutil.get_terminal_size()
            lines = render(state, snap, size.columns, size.lines, time.time(),
                           extra=(device_lines(snap) or (["(daemon not answering)"]
                                                         if snap is None else []))
                           + (footer or []))
            draw(lines, out)
            if time.monotonic() + interval_s > end:
                break
            time.sleep(interval_s)
            try:
                snap = read_snapshot(target.sockets)
            except NoDaemon:
                snap = None
    except KeyboardInterrupt:
        pass
    finally:
        out.write(SHOW_CURSOR + "\r\n")
        out.flush()
    return 0


def run(target: Target, out: TextIO, seconds: float = 0, interval_s: float = 1.0) -> int:
    """Listen and redraw every `interval_s` until Ctrl-C (or `seconds`, when given)."""
    from ..consumer import Listener

    if target.broker is None:
        return run_local(target, out, seconds, interval_s)
    from ..config import redact_url  # a URL from the command line may carry a password

    state = TailState(target.gateway, vibration=target.vibration, resolution=target.resolution)
    try:
        listener = Listener(target.broker, target.gateway, target.prefix,
                            credentials=target.credentials).start()
    except (OSError, ValueError) as e:
        from ..publish.why_not_connected import explain

        print(f"gatewayd tail: cannot reach the broker at {redact_url(target.broker)}: "
              f"{explain(e)}",
              file=sys.stderr)
        return 1
    if not listener.connected:  # reached, but not let in (credentials) or not answering
        listener.stop()
        print(f"gatewayd tail: the broker at {redact_url(target.broker)} did not accept the "
              "connection "
              "(username, password file, client certificate?)", file=sys.stderr)
        return 1
    out.write(CLEAR + HIDE_CURSOR)
    end = time.monotonic() + seconds if seconds else math.inf
    try:
        while time.monotonic() < end:
            _collect(listener, state, min(end, time.monotonic() + interval_s))
            size = shutil.get_terminal_size()
            draw(
                render(
                    state, read_status(target.status_path), size.columns, size.lines, time.time()
                ),
                out,
            )
    except KeyboardInterrupt:
        pass
    finally:
        out.write(SHOW_CURSOR + "\r\n")
        out.flush()
        listener.stop()
    return 0


def _collect(listener: Any, state: TailState, until: float) -> None:
    """Feed records until the monotonic deadline `until`."""
    while (left := until - time.monotonic()) > 0:
        for rec in listener.records(timeout_s=min(left, 0.1)):
            state.feed(rec)
            if time.monotonic() >= until:
                return


def cmd_tail(args: argparse.Namespace) -> int:
    from ..errors import ConfigError

    try:
        target = target_of(args)
    except ConfigError as e:
        print(f"gatewayd tail: {e}", file=sys.stderr)
        return 2
    except ValueError as e:
        print(f"gatewayd tail: expected {e}", file=sys.stderr)
        return 2
    except OSError as e:
        print(f"gatewayd tail: cannot read the password file: {e}", file=sys.stderr)
        return 2
    return run(target, sys.stdout, args.seconds, args.interval_s)
