"""SIGKILL the real daemon again and again while it polls counting Modbus units (workload.py),
then count the reads that never reached a subscriber: the crash test and the crash bench.

A QoS 1 subscriber with a persistent session on a mosquitto that keeps sessions records every
data message by seq. Register 0 of each unit counts the reads it served, so the values of
alias 1 of each device, in time order, must run without a hole: every hole is a poll the
device answered and the subscriber never saw. A hole whose read was answered within
`in_flight_ms` (one poll period) of a kill is reported apart (the answer may still have been
on the wire or in the socket buffer when the process died, or answered a request the process
sent just before), but it counts as lost all the same.
"""

from __future__ import annotations

import itertools
import json
import os
import random
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from ..pipeline import codec
from .broker import Broker, free_port, wait_port


@dataclass
class CrashReport:
    kills: int = 0
    polls_seen: int = 0
    polls_lost: int = 0  # counter values missing (each is `registers` readings)
    polls_in_flight: int = 0  # of those: answered less than in_flight_ms before a kill
    polls_failed: int = 0  # polls reported as bad readings (no answer in time): not lost
    readings_lost: int = 0
    seq_conflicts: int = 0  # seqs seen with two different contents (must be 0)
    seqs_missing: int = 0
    holes: list[tuple[str, int, int]] = field(default_factory=list)  # (device, read, ms to kill)

    def line(self) -> str:
        return (f"kills={self.kills} readings_lost_per_kill={self.readings_lost / max(self.kills, 1):.2f} "
                f"polls_lost={self.polls_lost} polls_in_flight_at_kill={self.polls_in_flight} "
                f"polls_seen={self.polls_seen} polls_failed={self.polls_failed} "
                f"seq_conflicts={self.seq_conflicts} "
                f"seqs_missing={self.seqs_missing}")


class Subscriber:
    """Every data payload by seq (a persistent QoS 1 session, so nothing acked is missed)."""

    def __init__(self, port: int, root: str) -> None:
        self.payloads: dict[int, set[bytes]] = defaultdict(set)
        self.lock = threading.Lock()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="crash-recorder",
                                  clean_session=False, protocol=mqtt.MQTTv311)
        self.client.on_connect = lambda c, *a: c.subscribe(f"{root}/data", qos=1)
        self.client.on_message = self._message
        self.client.reconnect_delay_set(1, 1)
        self.client.connect("127.0.0.1", port, keepalive=5)
        self.client.loop_start()

    def _message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        seq = codec.unpack(bytes(msg.payload))["seq"]
        with self.lock:
            self.payloads[seq].add(bytes(msg.payload))

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def _config(gateway: str, broker: Broker, store: Path, ports: list[int], registers: int,
            period_ms: int) -> str:
    out = [f'[gateway]\nid = "{gateway}"\nsite = "crash"\n',
           f'[broker]\nurl = "{broker.url}"\nreconnect_min_s = 0.2\nreconnect_max_s = 1\n',
           f'[store]\npath = "{store}"\n']
    for k, port in enumerate(ports):
        out.append(f'[[devices]]\nkind = "modbus"\nname = "u{k}"\nhost = "127.0.0.1"\n'
                   f"port = {port}\nperiod_ms = {period_ms}\ntimeout_ms = 500\n")
        out += [f'[[devices.points]]\nalias = {k * 1000 + i + 1}\nname = "u{k}.r{i}"\n'
                f'register = {i}\ntype = "int"\ndata_type = "uint16"\n' for i in range(registers)]
    return "\n".join(out)


def run(workdir: Path, kills: int, units: int = 2, registers: int = 20, period_ms: int = 100,
        seed: int = 1, up_s: tuple[float, float] = (1.5, 3.5), in_flight_ms: int = 100
        ) -> CrashReport:
    """Kill the daemon `kills` times at random moments, stop it cleanly at the end, count."""
    rnd = random.Random(seed)
    ports = [free_port() for _ in range(units)]
    logs = [workdir / f"served-{p}.json" for p in ports]
    servers = [subprocess.Popen(  # one process a unit, as separate devices are
        [sys.executable, "-m", "gatewayd.testing.workload", "--ports", str(p),
         "--registers", str(registers), "--seconds", "3600", "--log", str(log)])
        for p, log in zip(ports, logs, strict=True)]
    broker = Broker(workdir, persistence=True)
    kill_ms: list[int] = []
    try:
        for p in ports:
            wait_port(p)
        broker.start()
        sub = Subscriber(broker.port, "gatewayd/crash/killed")
        conf = workdir / "gw.toml"
        conf.write_text(_config("killed", broker, workdir / "state" / "q.db", ports, registers,
                                period_ms))
        for _ in range(kills):
            proc = _daemon(conf)
            time.sleep(rnd.uniform(*up_s))
            kill_ms.append(time.time_ns() // 1_000_000)
            proc.send_signal(signal.SIGKILL)
            proc.wait(10)
        proc = _daemon(conf)
        time.sleep(3.0)
        proc.send_signal(signal.SIGTERM)
        if proc.wait(30) != 0:
            raise RuntimeError("the daemon did not stop cleanly after SIGTERM")
        time.sleep(1.0)
        sub.stop()
    finally:
        for server in servers:
            server.send_signal(signal.SIGTERM)
        for server in servers:
            server.wait(20)
        broker.stop()
    served = {int(p): v for log in logs for p, v in json.loads(log.read_text()).items()}
    return _count(sub.payloads, ports, served, kill_ms, registers, in_flight_ms)


def _daemon(conf: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen([sys.executable, "-m", "gatewayd.cli", "run", "--config", str(conf)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})


def _count(payloads: dict[int, set[bytes]], ports: list[int], served: dict[int, list[int]],
           kills: list[int], registers: int, in_flight_ms: int) -> CrashReport:
    rep = CrashReport(kills=len(kills))
    rep.seq_conflicts = sum(1 for v in payloads.values() if len(v) > 1)
    seqs = sorted(payloads)
    rep.seqs_missing = len(set(range(seqs[0], seqs[-1] + 1)) - set(seqs)) if seqs else 0
    counters: dict[int, dict[int, int | None]] = defaultdict(dict)  # device -> ts -> counter
    for versions in payloads.values():
        if codec.kind_of(next(iter(versions))) != "data":
            continue
        for r in codec.decode_data(next(iter(versions)), {})[1]:
            if r.alias % 1000 == 1:
                counters[r.alias // 1000][r.ts_ms] = None if r.value is None else int(r.value)
    for k, port in enumerate(ports):
        series = sorted(counters[k].items())
        rep.polls_failed += sum(1 for _, v in series if v is None)
        good = [(ts, v) for ts, v in series if v is not None]
        rep.polls_seen += len(good)
        for (ta, a), (tb, b) in itertools.pairwise(good):
            step = (b - a) & 0xFFFF
            if step <= 1:
                continue
            if any(ta < ts < tb and v is None for ts, v in series):
                continue  # a poll that failed (a timeout): reported as a bad reading, not lost
            for n in range(a + 1, a + step):
                rep.polls_lost += 1
                at = served[port][n - 1] if n - 1 < len(served[port]) else 0
                # ms from the answer to the nearest kill (< 0: answered after the kill, to a
                # request the daemon sent before it died)
                near = min((kill - at for kill in kills), key=abs, default=1 << 30)
                if abs(near) <= in_flight_ms:
                    rep.polls_in_flight += 1
                rep.holes.append((f"u{k}", n, near))
    rep.readings_lost = rep.polls_lost * registers
    return rep
