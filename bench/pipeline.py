"""The core pipeline under load: a pymodbus server (its own process) with 1,000 registers, polled
by the gateway's real Supervisor at 1 s and at 100 ms, through the durable queue, to a local
mosquitto. CPU and memory are this (the gateway's) process's own.

Last line: readings_per_s=… cpu_us_per_reading=… rss_mb=… bytes_per_reading=… json_bytes_per_reading=…
(for the 100 ms workload; the 1 s workload is printed above it).
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from gatewayd import config
from gatewayd.pipeline import codec
from gatewayd.supervisor import Supervisor
from gatewayd.testing.broker import Broker, free_port, wait_port

POINTS = 1000
SECONDS = 10.0


def cpu_s() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF)
    return ru.ru_utime + ru.ru_stime


def rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def run(period_ms: int, broker: Broker, modbus_port: int, tmp: Path) -> dict[str, float]:
    points = [{"alias": i + 1, "name": f"line.point{i:04d}", "register": i, "type": "int",
               "data_type": "uint16"} for i in range(POINTS)]
    cfg = config.parse({
        "gateway": {"id": f"bench-{period_ms}"}, "broker": {"url": broker.url},
        "store": {"path": str(tmp / f"q{period_ms}.db")}, "publish": {"interval_ms": 1000},
        "devices": [{"kind": "modbus", "name": "line", "port": modbus_port, "period_ms": period_ms,
                     "timeout_ms": 1000, "points": points}]})
    sup = Supervisor(cfg)
    sup.start()
    time.sleep(2.0)  # connect and settle
    assert sup.batcher and sup.store and sup.publisher
    after_flush(sup)  # measure whole publish intervals, from one flush to another
    r0, c0, t0 = sup.batcher.accepted, cpu_s(), time.monotonic()
    b0 = sup.batcher.payload_bytes
    acked0 = sup.publisher.stats.acked
    time.sleep(SECONDS - 0.5)
    after_flush(sup)
    readings, cpu, wall = sup.batcher.accepted - r0, cpu_s() - c0, time.monotonic() - t0
    acked = sup.publisher.stats.acked - acked0
    payload_bytes = sup.batcher.payload_bytes - b0
    sample = sup.batcher.last_payload
    stats = sup.store.stats()
    overruns = sup.status()["overruns"]
    sup.stop()
    jbpr = json_size(sample, {p.alias: p for p in sup.points})
    return {"readings_per_s": readings / wall, "cpu_us_per_reading": cpu / max(readings, 1) * 1e6,
            "rss_mb": rss_mb(), "bytes_per_reading": payload_bytes / max(readings, 1),
            "json_bytes_per_reading": jbpr,
            "acked_batches": acked, "queue_depth_at_end": stats.depth, "overruns": overruns}


def after_flush(sup: Supervisor) -> None:
    assert sup.batcher is not None
    start = sup.batcher.accepted
    while sup.batcher.accepted == start:
        time.sleep(0.005)


def json_size(payload: bytes, points: dict) -> float:
    """Bytes a reading costs as plain JSON (name, time, value): the same readings, decoded."""
    _, readings = codec.decode_data(payload, {a: p.resolution for a, p in points.items()})
    as_json = json.dumps([{"name": points[r.alias].name, "time": r.ts_ms, "value": r.value}
                          for r in readings])
    return len(as_json) / len(readings)


def main() -> None:
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        port = free_port()
        server = subprocess.Popen([sys.executable, "-m", "gatewayd.testing.modbus_server",
                                   "--port", str(port), "--registers", str(POINTS),
                                   "--seconds", str(4 * SECONDS + 30)])
        try:
            wait_port(port)
            with Broker(tmp) as broker:
                runs = {}
                for label, period in (("1 s", 1000), ("100 ms", 100), ("flat out", 1)):
                    runs[label] = run(period, broker, port, tmp)
                    print(f"{label:>8} workload: " + " ".join(
                        f"{k}={v:.6g}" for k, v in runs[label].items()))
        finally:
            server.terminate()
            server.wait(10)
    # readings_per_s: what the gateway sustains when the server answers as fast as it can;
    # CPU, memory and sizes: the 100 ms workload (10,000 readings/s), the target case.
    fast = runs["100 ms"]
    last = {"readings_per_s": runs["flat out"]["readings_per_s"], **{
        k: fast[k] for k in ("cpu_us_per_reading", "rss_mb", "bytes_per_reading",
                             "json_bytes_per_reading")}}
    print(f"json/payload ratio={fast['json_bytes_per_reading'] / fast['bytes_per_reading']:.1f} "
          f"100ms overruns={fast['overruns']:.0f}")
    print(" ".join(f"{k}={v:.4g}" if k != "readings_per_s" else f"{k}={v:.0f}"
                   for k, v in last.items()))


if __name__ == "__main__":
    main()
