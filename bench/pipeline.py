"""The core pipeline under load: a pymodbus server (its own process) with 1,000 registers, polled
by the gateway's real Supervisor at 1 s and at 100 ms, through the durable queue, to a local
mosquitto. CPU and memory are this (the gateway's) process's own.

Then the latency workload of issue 11, at default settings: 10 Modbus TCP units (a pymodbus
server process each), 100 holding registers each, polled every 100 ms, every value changing
on every poll (gatewayd.testing.workload); a subscriber in its own process notes when each
reading arrives. It prints latency_p95_ms=… (from a reading's timestamp to its arrival; target
≤ 250), latency_bytes_per_reading=… (payload bytes; target ≤ 3.5) and
latency_cpu_us_per_reading=… (this process's CPU; target ≤ 7).

The line before it: readings_per_s=… cpu_us_per_reading=… rss_mb=… bytes_per_reading=…
json_bytes_per_reading=… (for the 1,000-point 100 ms workload; the 1 s workload is printed
above it).
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


def subscribe(port: int, root: str, from_ms: int, to_ms: int) -> None:
    """(In a process of its own.) Print the latencies of the readings stamped in [from, to)."""
    import statistics

    import paho.mqtt.client as mqtt
    from paho.mqtt.enums import CallbackAPIVersion

    lat: list[int] = []

    def message(client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        now = time.time_ns() // 1_000_000
        for r in codec.decode_data(bytes(msg.payload))[1]:
            if from_ms <= r.ts_ms < to_ms:
                lat.append(now - r.ts_ms)

    client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    client.on_message = message
    client.connect("127.0.0.1", port)
    client.subscribe(f"{root}/data", qos=1)
    client.loop_start()
    while time.time_ns() // 1_000_000 < to_ms + 3000:
        time.sleep(0.1)
    client.loop_stop()
    lat.sort()
    pick = lambda q: lat[min(len(lat) - 1, int(len(lat) * q))] if lat else -1  # noqa: E731
    print(json.dumps({"readings": len(lat), "p50": pick(0.5), "p95": pick(0.95),
                      "p99": pick(0.99), "max": lat[-1] if lat else -1,
                      "mean": statistics.fmean(lat) if lat else -1}))


def latency_run(broker: Broker, tmp: Path, units: int = 10, registers: int = 100,
                seconds: float = SECONDS) -> dict[str, float]:
    ports = [free_port() for _ in range(units)]
    servers = [subprocess.Popen([sys.executable, "-m", "gatewayd.testing.workload", "--ports",
                                 str(p), "--registers", str(registers),
                                 "--seconds", str(seconds + 30)]) for p in ports]
    devices = [{"kind": "modbus", "name": f"unit{k}", "port": p, "period_ms": 100,
                "points": [{"alias": k * 1000 + i + 1, "name": f"unit{k}.r{i}", "register": i,
                            "type": "int", "data_type": "uint16"} for i in range(registers)]}
               for k, p in enumerate(ports)]
    cfg = config.parse({"gateway": {"id": "bench-latency"}, "broker": {"url": broker.url},
                        "store": {"path": str(tmp / "latency.db")}, "devices": devices})
    try:
        for p in ports:
            wait_port(p)
        sup = Supervisor(cfg)
        sup.start()
        time.sleep(3.0)  # connect and settle
        assert sup.batcher and sup.publisher
        start_ms = time.time_ns() // 1_000_000 + 500
        end_ms = start_ms + int(seconds * 1000)
        sub = subprocess.Popen([sys.executable, __file__, "--subscribe", str(broker.port),
                                "gatewayd/default/bench-latency", str(start_ms), str(end_ms)],
                               stdout=subprocess.PIPE, text=True)
        while time.time_ns() // 1_000_000 < start_ms:
            time.sleep(0.005)
        r0, c0, b0 = sup.batcher.accepted, cpu_s(), sup.batcher.payload_bytes
        time.sleep(seconds)
        readings, cpu = sup.batcher.accepted - r0, cpu_s() - c0
        payload = sup.batcher.payload_bytes - b0
        overruns = sup.status()["overruns"]
        out, _ = sub.communicate(timeout=60)
        sup.stop()
    finally:
        for s in servers:
            s.terminate()
        for s in servers:
            s.wait(10)
    lat = json.loads(out)
    return {"latency_p95_ms": lat["p95"], "latency_p50_ms": lat["p50"],
            "latency_p99_ms": lat["p99"], "latency_max_ms": lat["max"],
            "latency_bytes_per_reading": payload / max(readings, 1),
            "latency_cpu_us_per_reading": cpu / max(readings, 1) * 1e6,
            "latency_readings_per_s": readings / seconds, "latency_readings_timed": lat["readings"],
            "latency_overruns": overruns}


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--subscribe":
        subscribe(int(sys.argv[2]), sys.argv[3], int(sys.argv[4]), int(sys.argv[5]))
        return
    if len(sys.argv) > 1 and sys.argv[1] == "--latency-only":
        with tempfile.TemporaryDirectory() as d, Broker(Path(d)) as broker:
            latency = latency_run(broker, Path(d))
        print(" ".join(f"{k}={v:.4g}" for k, v in latency.items()))
        return
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
                latency = latency_run(broker, tmp)
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
    print(" ".join(f"{k}={v:.4g}" for k, v in latency.items())
          + " target_latency_p95_ms=250 target_bytes_per_reading=3.5 target_cpu_us_per_reading=7")


if __name__ == "__main__":
    main()
