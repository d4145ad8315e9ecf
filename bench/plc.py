"""PLC kinds: tags per second and CPU per reading, each against its protocol's own server in a
process of its own (the figures are the gateway's side: this process's CPU time).

    .venv/bin/python bench/plc.py [--seconds 4] [--tags 100]

- s7: `--tags` REALs in DB2, read back to back (coalesced into one Read Var a poll).
- enip: `--tags` REAL controller tags, read back to back (Multiple Service Packets).
- opcua poll: `--tags` Double nodes, one Read a poll, back to back.
- opcua subscription: the same nodes, each changing every 100 ms on the server, delivered by
  one subscription; the rate is the server's, the CPU figure is what each change costs us.
Prints one line of name=value figures, then the targets.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from gatewayd.config import parse
from gatewayd.sources import plugin
from gatewayd.sources.base import SourceContext
from gatewayd.testing.plc_process import ServerProcess


def build(device: dict[str, Any]) -> Any:
    cfg = parse({"gateway": {"id": "bench"}, "devices": [device]}).devices[0]
    ctx = SourceContext(lambda r: None, lambda e: None, Path("."), lambda: 0)
    return plugin(cfg.kind).builder()(cfg, ctx)


def hammer(dev: Any, seconds: float, pause_s: float = 0.0) -> tuple[float, float]:
    """Poll for `seconds`: (readings a second, CPU µs a reading)."""
    dev.open()
    try:
        dev.read(0)  # warm: types learnt, plan made
        n, cpu0, t0 = 0, time.process_time(), time.monotonic()
        while time.monotonic() - t0 < seconds:
            n += sum(1 for r in dev.read(int(time.time() * 1000)) if r.value is not None)
            if pause_s:
                time.sleep(pause_s)
        wall, cpu = time.monotonic() - t0, time.process_time() - cpu0
    finally:
        dev.close()
    return n / wall, cpu / max(n, 1) * 1e6


def s7(tags: int, seconds: float) -> tuple[float, float]:
    with ServerProcess("gatewayd.testing.s7_server") as cpu:
        points = [{"alias": i + 1, "name": f"r{i}", "address": f"DB2.DBD{4 * i}", "data_type": "real"}
                  for i in range(min(tags, 125))]  # DB2 holds 600 bytes
        return hammer(build({"kind": "s7", "name": "s7", "host": "127.0.0.1", "port": cpu.port,
                             "points": points}), seconds)


def enip(tags: int, seconds: float) -> tuple[float, float]:
    with ServerProcess("gatewayd.testing.logix_server", "--extra", str(tags)) as plc:
        points = [{"alias": i + 1, "name": f"t{i}", "tag": f"Bench{i}"} for i in range(tags)]
        return hammer(build({"kind": "enip", "name": "lgx", "host": "127.0.0.1", "port": plc.port,
                             "points": points}), seconds)


def opcua(tags: int, seconds: float, mode: str) -> tuple[float, float]:
    with ServerProcess("gatewayd.testing.opcua_server", "--extra", str(tags)) as srv:
        points = [{"alias": i + 1, "name": f"n{i}", "node_id": f"ns=2;s=Line1.Bench{i}"}
                  for i in range(tags)]
        dev = build({"kind": "opcua", "name": "ua", "mode": mode, "publishing_interval_ms": 100,
                     "sampling_interval_ms": 100, "endpoint": f"opc.tcp://127.0.0.1:{srv.port}/gatewayd/",
                     "points": points})
        return hammer(dev, seconds, pause_s=0.1 if mode == "subscription" else 0.0)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--tags", type=int, default=100)
    args = ap.parse_args()
    figures = {
        "s7": s7(args.tags, args.seconds),
        "enip": enip(args.tags, args.seconds),
        "opcua_poll": opcua(args.tags, args.seconds, "poll"),
        "opcua_sub": opcua(args.tags, args.seconds, "subscription"),
    }
    # The enip and opcua_sub rates are bounded by the simulators (cpppo, asyncua's server: pure
    # Python servers on the same two cores); the CPU a reading costs is the gateway's own.
    print(" ".join(f"{k}_tags_per_s={rate:.0f} {k}_cpu_us_per_reading={cpu:.1f}"
                   for k, (rate, cpu) in figures.items()) + " target_cpu_us_per_reading=50")


if __name__ == "__main__":
    main()
