"""Store benchmark: throughput, disk bytes written per reading, backlog drain with live traffic.

    .venv/bin/python bench/store.py [--quick]

Workloads (docs/store.md explains the figures):
- heavy: 1,000 points every 100 ms = 10,000 readings/s, each poll journaled, a batch every
  100 ms (the default publish interval), group commit at the default 1 s; run faster than
  real time (the disk cost depends on the commits per reading, not on the clock);
- light: 100 points every 1 s, the same intervals, scaled to a day;
- drain: a backlog of one million readings in the store, then a real mosquitto on loopback,
  rate limit off, while live batches keep coming every 100 ms; live latency is from the put
  of a live batch to its arrival at a subscriber.
Disk bytes are this process's write_bytes in /proc/self/io (what reached the block layer,
counted in 4 KiB pages), on the file system that holds the temporary directory.
"""

from __future__ import annotations

import argparse
import math
import random
import statistics
import tempfile
import threading
import time
from pathlib import Path

import msgpack
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from gatewayd.config import BrokerConfig
from gatewayd.model import Reading
from gatewayd.pipeline.batcher import Batcher
from gatewayd.publish.mqtt import Publisher
from gatewayd.publish.topics import Topics
from gatewayd.store.queue import DurableQueue
from gatewayd.testing.broker import Broker
from gatewayd.testing.clock import ManualClock

GB = 1 << 30
FLUSH_MS = 100  # publish.interval_ms, default


def write_bytes() -> int:
    """Bytes this process sent towards the disk: pages it dirtied (write_bytes) less those
    truncated or deleted before write-back (cancelled_write_bytes), which is what becomes of
    a journal segment: deleted about a second after it was written, long before the kernel
    writes dirty pages back (30 s)."""
    io = dict(line.split(": ") for line in Path("/proc/self/io").read_text().splitlines())
    return int(io["write_bytes"]) - int(io["cancelled_write_bytes"])


class Signals:
    """Plausible process values: slow sine plus noise, quantised to 0.01 on the wire."""

    def __init__(self, points: int, seed: int = 1) -> None:
        rnd = random.Random(seed)
        self.points = points
        self.phase = [rnd.random() * 6.28 for _ in range(points)]
        self.rnd = rnd

    def readings(self, start_ms: int, period_ms: int, count: int) -> list[Reading]:
        out = []
        for alias in range(1, self.points + 1):
            ph = self.phase[alias - 1]
            for k in range(count):
                t = start_ms + k * period_ms
                v = 50 + 20 * math.sin(t / 60_000 + ph) + self.rnd.gauss(0, 0.05)
                out.append(Reading(alias, t, v))
        return out




def run_intervals(work: Path, points: int, period_ms: int, intervals: int, online: bool
                  ) -> dict[str, float]:
    """Drive batcher and store through `intervals` seconds at the default settings: each poll
    journaled as it comes, a flush every 100 ms, a commit every second. With `online` every
    batch is acked right after its flush (a PUBACK takes milliseconds on a LAN, the commit
    waits a second), else the backlog grows."""
    clock = ManualClock(0.0)
    store = DurableQueue(work / f"q-{points}-{online}.db", 2 * GB, 1000, clock=clock)
    store.open()
    batcher = Batcher(store, {a: 0.01 for a in range(1, points + 1)}, 1)
    signals = Signals(points)
    payload = readings = seen = 0
    before, t0 = write_bytes(), time.perf_counter()
    for i in range(intervals):
        for tick in range(0, 1000, FLUSH_MS):
            now = i * 1000 + tick
            if now % period_ms == 0:
                batcher.add_many(signals.readings(now, period_ms, 1))
            readings += batcher.flush()
            clock.t += FLUSH_MS / 1000
            for b in store.peek(seen, 64):
                seen = b.seq
                payload += len(b.payload)
                if online:
                    store.ack(b.seq)
        batcher.commit()
    store.close()
    elapsed = time.perf_counter() - t0
    written = write_bytes() - before
    return {"readings": readings, "elapsed_s": elapsed, "disk_bytes": written,
            "payload_bytes": payload, "disk_per_reading": written / readings,
            "payload_per_reading": payload / readings}


def fill_backlog(store: DurableQueue, readings: int, points: int = 1000) -> int:
    batcher = Batcher(store, {a: 0.01 for a in range(1, points + 1)}, 1)
    signals = Signals(points, seed=2)
    t0 = int(time.time() * 1000) - 3_600_000
    done = 0
    while done < readings:
        batcher.add_many(signals.readings(t0 + done // points * 100, 100, 10))
        done += batcher.flush()
        batcher.commit()
    return done


class Arrivals:
    """A subscriber that notes when each data message (by seq) arrives."""

    def __init__(self, url_port: int, root: str) -> None:
        self.at: dict[int, float] = {}
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
        self.client.on_message = self._message
        self.client.connect("127.0.0.1", url_port)
        self.client.subscribe(f"{root}/data", qos=1)
        self.client.loop_start()

    def _message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        seq = msgpack.unpackb(msg.payload, strict_map_key=False)["seq"]
        self.at.setdefault(seq, time.monotonic())

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def drain(work: Path, readings: int) -> dict[str, float]:
    store = DurableQueue(work / "drain.db", 4 * GB, 1000)
    store.open()
    filled = fill_backlog(store, readings)
    backlog = set(range(1, store.next_seq))
    with Broker(work) as broker:
        topics = Topics("bench", "site", "gw")
        arrivals = Arrivals(broker.port, "bench/site/gw")
        time.sleep(0.2)
        pub = Publisher(BrokerConfig(url=broker.url), topics, store, lambda: b"birth")
        live_put: dict[int, float] = {}
        stop = threading.Event()
        live = threading.Thread(target=_live, args=(store, pub, live_put, stop), daemon=True)
        t0 = time.monotonic()
        pub.start()
        live.start()
        while not backlog <= arrivals.at.keys() and time.monotonic() - t0 < 120:
            time.sleep(0.01)
        drained = max(arrivals.at[s] for s in backlog) - t0
        window = max(drained, 1.0)  # at least ten live batches, however quick the drain
        while time.monotonic() - t0 < window + 0.5:
            time.sleep(0.05)
        stop.set()
        live.join()
        time.sleep(0.5)
        pub.stop(2.0)
        arrivals.stop()
    store.close()
    lat = sorted(arrivals.at[s] - t for s, t in live_put.items() if s in arrivals.at
                 and t - t0 <= window)
    p99 = lat[min(len(lat) - 1, int(len(lat) * 0.99))] if lat else float("nan")
    return {"readings": filled, "drain_s": drained, "live_batches": len(lat),
            "live_p99_ms": p99 * 1000, "live_median_ms": statistics.median(lat) * 1000}


def _live(store: DurableQueue, pub: Publisher, put_at: dict[int, float],
          stop: threading.Event) -> None:
    """Live traffic during the drain: 1,000 readings every 100 ms, committed at once."""
    batcher = Batcher(store, {a: 0.01 for a in range(1, 1001)}, 1)
    signals = Signals(1000, seed=3)
    while not stop.wait(0.1):
        now = int(time.time() * 1000)
        batcher.add_many(signals.readings(now, 100, 1))
        seq = store.next_seq  # only to know which message to time
        batcher.flush()
        put_at[seq] = time.monotonic()
        pub.kick()
        batcher.commit()


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="smaller runs, rougher figures")
    ap.add_argument("--dir", type=Path, default=None, help="where the store files go")
    args = ap.parse_args()
    heavy_n, light_n, backlog = (30, 300, 200_000) if args.quick else (120, 1800, 1_000_000)
    with tempfile.TemporaryDirectory(dir=args.dir, prefix="bench-store-") as tmp:
        work = Path(tmp)
        heavy = run_intervals(work, 1000, 100, heavy_n, online=True)
        offline = run_intervals(work, 1000, 100, heavy_n, online=False)
        light = run_intervals(work, 100, 1000, light_n, online=True)
        light_off = run_intervals(work, 100, 1000, light_n, online=False)
        dr = drain(work, backlog)
    for name, r in (("heavy online", heavy), ("heavy offline", offline),
                    ("light online", light), ("light offline", light_off)):
        print(f"{name:14}: {r['readings']:>9} readings in {r['elapsed_s']:.2f} s, "
              f"payload {r['payload_per_reading']:.2f} B/reading, "
              f"disk {r['disk_per_reading']:.2f} B/reading "
              f"({r['disk_per_reading'] / r['payload_per_reading']:.2f}x payload)")
    light_day = max(light["disk_bytes"], light_off["disk_bytes"]) / light_n * 86400 / 1e6
    print(f"drain: {dr['readings']} readings in {dr['drain_s']:.2f} s, live batches "
          f"{dr['live_batches']}, median {dr['live_median_ms']:.0f} ms, "
          f"p99 {dr['live_p99_ms']:.0f} ms")
    sustained = heavy["readings"] / heavy["elapsed_s"]
    disk = max(heavy["disk_per_reading"], offline["disk_per_reading"])
    per_million = dr["drain_s"] * 1e6 / dr["readings"]
    print(f"sustained_readings_per_s={sustained:.0f} disk_bytes_per_reading={disk:.2f} "
          f"light_disk_mb_per_day={light_day:.0f} drain_s_per_million={per_million:.2f} "
          f"live_p99_ms_during_drain={dr['live_p99_ms']:.0f}")


if __name__ == "__main__":
    main()
