"""`gatewayd test`: poll every configured device once (or for N seconds) and print what each
point reads, with no broker and no store, like Telegraf's `--test`.

The devices run exactly as under the daemon: the same build, the same bus runner (schedule,
deadline, failure policy) and the same point stage; only the sink differs, collecting
readings in memory. State files (GPIO counters) go to a temporary directory, so a test on a
running gateway leaves the daemon's state alone. Exit 0 when every device answered, 1 when any
failed (each with its reason), 78 when the config is refused.

    plc (modbus): ok
      spindle.temp                 61.5 °C   good
    dead-meter (modbus): FAILED: 127.0.0.1:502: cannot connect
      meter.power                     - W      bad_comm
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TextIO

from ..errors import DeviceError
from ..model import Event, Reading, quality_label

ONCE_LIMIT_S = 60.0  # "once" waits for each point's first reading, never longer than this


@dataclass
class Collector:
    """The sink: every reading and event, and the last reading of each point."""

    out: TextIO | None = None  # with --seconds, readings are printed as they come
    names: dict[int, str] = field(default_factory=dict)
    last: dict[int, Reading] = field(default_factory=dict)
    counts: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    events: list[Event] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def many(self, readings: list[Reading]) -> None:
        for r in readings:
            self.one(r)

    def one(self, r: Reading) -> None:
        with self.lock:
            self.last[r.alias] = r
            self.counts[r.alias] += 1
            if self.out is not None:
                stamp = time.strftime("%H:%M:%S", time.localtime(r.ts_ms / 1000))
                print(f"{stamp}.{r.ts_ms % 1000:03d} {self.names.get(r.alias, r.alias)} "
                      f"{_value(r.value)} {quality_label(r.quality)}", file=self.out, flush=True)

    def event(self, ev: Event) -> None:
        with self.lock:
            self.events.append(ev)


def cmd_test(args: argparse.Namespace) -> int:
    from ..buses.backend import select as select_backend
    from ..preflight import verified

    cfg = verified(args.config, simulated=bool(getattr(args, "simulate", None)))
    if cfg is None:
        return 78
    try:
        backend = select_backend(getattr(args, "simulate", None) or "")
    except ValueError as e:
        print(f"gatewayd test: --simulate: {e}", file=sys.stderr)
        return 2
    try:
        return run(cfg, backend, args.seconds, sys.stdout)
    finally:
        backend.close()


def run(cfg: Any, backend: Any, seconds: float, out: TextIO) -> int:
    """Poll and print; the exit code (0 all devices answered, 1 some failed)."""
    from ..points.stage import PointStage
    from ..runner import Runner
    from ..sources.base import SourceContext
    from ..supervisor import build_devices

    sink = Collector(out if seconds else None)
    with tempfile.TemporaryDirectory(prefix="gatewayd-test-") as state_dir:
        ctx = SourceContext(sink.one, sink.event, Path(state_dir), _now_ms, {}, backend)
        devices, unbuilt = build_devices(cfg, ctx)
        sink.names = {p.alias: p.name for d in devices for p in d.points}
        polled: dict[str, list[Any]] = defaultdict(list)
        evented = []
        for d in devices:
            if hasattr(d, "read"):
                polled[d.bus_key].append(d)
            else:
                evented.append(d)
        workers = [Runner(key, devs, sink.many, sink.event) for key, devs in polled.items()]
        started: dict[str, str] = {}  # event device -> why it did not start ("" = started)
        for w in workers:
            w.start()
        for d in evented:
            started[d.name] = _start_event_device(d, ctx, sink, PointStage)
        try:
            _wait(devices, sink, seconds)
        finally:
            for w in workers:
                w.stop()
            for d in evented:
                if not started[d.name]:
                    d.stop()
            ctx.buses.close()
    return report(cfg, devices, unbuilt, workers, started, sink, out)


def _start_event_device(dev: Any, ctx: Any, sink: Collector, stage_cls: Any) -> str:
    import dataclasses

    stage = stage_cls.for_device(dev, sink.event)
    try:
        dev.start(dataclasses.replace(ctx, emit=stage.emit_to(sink.one)))
    except DeviceError as e:  # a pin taken by another process: its message names the device
        return str(e)
    except Exception as e:  # anything else fails this device too, named by its type
        return f"{type(e).__name__}: {e}"
    return ""


def _wait(devices: list[Any], sink: Collector, seconds: float) -> None:
    """For `seconds`, or until every point has a reading (a failed device gives its points bad
    ones at once; a vibration window takes its length to fill)."""
    if seconds:
        time.sleep(seconds)
        return
    deadline = time.monotonic() + ONCE_LIMIT_S
    wanted = {p.alias for d in devices for p in d.points}
    while time.monotonic() < deadline:
        with sink.lock:
            if wanted <= set(sink.last):
                return
        time.sleep(0.05)


def report(cfg: Any, devices: list[Any], unbuilt: list[tuple[str, str]], workers: list[Any],
           started: dict[str, str], sink: Collector, out: TextIO) -> int:
    """Each device with its state and each point's last value and quality; how many failed."""
    state = {d["device"]: d for w in workers for d in w.snapshot()}
    failed = 0
    kinds = {d.name: d.kind for d in cfg.devices}
    for name, why in unbuilt:
        failed += 1
        print(f"{name} ({kinds.get(name, '?')}): FAILED: {why}", file=out)
    for dev in devices:
        st = state.get(dev.name)
        why = (st["reason"] if st is not None and not st["up"] else started.get(dev.name, ""))
        if (st is not None and not st["up"]) or why:
            failed += 1
            print(f"{dev.name} ({kinds.get(dev.name, '?')}): FAILED: {why}", file=out)
        else:
            print(f"{dev.name} ({kinds.get(dev.name, '?')}): ok", file=out)
        for p in dev.points:
            r = sink.last.get(p.alias)
            value = "(no reading)" if r is None else _value(r.value)
            quality = "" if r is None else quality_label(r.quality)
            print(f"  {p.name:<28} {value:>14} {p.unit:<6} {quality}", file=out)
    total = len(devices) + len(unbuilt)
    print(f"{total - failed} of {total} devices answered" + (f", {failed} FAILED" if failed else ""),
          file=out)
    return 1 if failed else 0


def _value(v: Any) -> str:
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:.7g}"
    return str(v)


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


def add_command(sub: Any) -> None:
    from ..config import DEFAULT_PATH

    p = sub.add_parser("test", help="poll every device once (or --seconds N) and print the "
                                    "values, with no broker and no store")
    p.add_argument("--config", default=str(DEFAULT_PATH))
    p.add_argument("--seconds", type=float, default=0,
                   help="poll this long, printing every reading (0: each device once)")
    p.set_defaults(func=cmd_test)
