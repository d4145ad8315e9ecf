"""Helpers for the store fault tests: a broker that keeps sessions over restarts, a subscriber
that records every seq and reading, a TCP proxy that can silently stop forwarding, a gateway
config against a Modbus simulator, and a tiny tmpfs."""

from __future__ import annotations

import itertools
import socket
import subprocess
import threading
import time
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import msgpack
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from gatewayd.pipeline import codec
from gatewayd.testing.broker import Broker, free_port

POINTS = 8
PERIOD_MS = 100


class PersistentBroker(Broker):
    """Saves sessions and queued messages at SIGTERM, so a subscriber misses nothing that the
    broker acknowledged before a restart (the gateway is what is under test, not mosquitto)."""

    def start(self) -> PersistentBroker:
        conf = self.workdir / f"mosquitto-{self.port}.conf"
        from gatewayd.testing.broker import stay_user

        # As root, mosquitto would drop to its own user, which cannot write the test's private
        # folder: its sessions would then not survive the restart, and messages published before
        # the subscriber re-subscribed would be lost by the broker, not by the gateway.
        conf.write_text(
            f"{stay_user()}listener {self.port} 127.0.0.1\nallow_anonymous true\npersistence true\n"
            f"persistence_location {self.workdir}/\nmax_queued_messages 100000\n"
            "max_inflight_messages 0\n")
        self.proc = subprocess.Popen(["mosquitto", "-c", str(conf)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        from gatewayd.testing.broker import wait_port

        wait_port(self.port)
        return self


class Recorder:
    """A QoS 1 subscriber with a persistent session: every data and event message by seq."""

    def __init__(self, port: int, gateway: str) -> None:
        self.root = f"gatewayd/test/{gateway}"
        self.payloads: dict[int, list[bytes]] = defaultdict(list)
        self.events: list[dict[str, Any]] = []
        self.lock = threading.Lock()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"rec-{gateway}",
                                  clean_session=False, protocol=mqtt.MQTTv311)
        self.client.on_connect = lambda c, *a: c.subscribe(f"{self.root}/#", qos=1)
        self.client.on_message = self._message
        self.client.reconnect_delay_set(0.1, 0.5)
        self.client.connect("127.0.0.1", port, keepalive=5)
        self.client.loop_start()

    def _message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        leaf = msg.topic.rsplit("/", 1)[-1]
        if leaf not in ("data", "event"):
            return
        body = msgpack.unpackb(msg.payload, strict_map_key=False)
        with self.lock:
            self.payloads[body["seq"]].append(msg.payload)
            if leaf == "event":
                self.events += body["ev"]

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def readings(self) -> dict[int, list[int]]:
        """Timestamps per alias, each seq counted once (duplicates are dropped by seq)."""
        out: dict[int, list[int]] = defaultdict(list)
        with self.lock:
            data = [p[0] for p in self.payloads.values()]
        for payload in data:
            if codec.kind_of(payload) == "event":
                continue
            for r in codec.decode_data(payload, {})[1]:
                out[r.alias].append(r.ts_ms)
        return {a: sorted(ts) for a, ts in out.items()}

    def values(self, alias: int) -> list[tuple[int, Any]]:
        """(timestamp, value) of one point, in time order, each seq counted once."""
        with self.lock:
            data = [p[0] for p in self.payloads.values()]
        out = {}
        for payload in data:
            if codec.kind_of(payload) == "data":
                out.update({r.ts_ms: r.value for r in codec.decode_data(payload, {})[1]
                            if r.alias == alias})
        return sorted(out.items())

    def event_kinds(self) -> list[str]:
        with self.lock:
            return [e["kind"] for e in self.events]

    def wait_for(self, cond: Any, timeout_s: float = 20) -> None:
        deadline = time.monotonic() + timeout_s
        while not cond():
            if time.monotonic() > deadline:
                raise TimeoutError("condition not met")
            time.sleep(0.05)


def check_seqs(payloads: dict[int, list[bytes]], upto: int | None = None) -> None:
    """Seqs form one unbroken range, and a seq seen twice carries the same bytes."""
    seqs = sorted(s for s in payloads if upto is None or s <= upto)
    missing = sorted(set(range(seqs[0], seqs[-1] + 1)) - set(seqs))
    assert not missing, f"seqs missing: {missing[:20]}"
    for s in seqs:
        assert len(set(payloads[s])) == 1, f"seq {s} was reused for different content"


def gateway_toml(gateway: str, broker_url: str, store: Path, modbus_port: int,
                 **store_keys: Any) -> str:
    keys = {"commit_interval_ms": 200, **store_keys}
    store_lines = "\n".join(f"{k} = {v!r}".replace("'", '"') for k, v in keys.items())
    points = "\n".join(
        f'[[devices.points]]\nalias = {i + 1}\nname = "p{i + 1}"\nregister = {i}\n'
        for i in range(POINTS))
    return f"""
[gateway]
id = "{gateway}"
site = "test"

[broker]
url = "{broker_url}"
keepalive_s = 2
reconnect_min_s = 0.2
reconnect_max_s = 1

[store]
path = "{store}"
{store_lines}

[publish]
interval_ms = 200

[[devices]]
kind = "modbus"
name = "plc"
host = "127.0.0.1"
port = {modbus_port}
period_ms = {PERIOD_MS}
timeout_ms = 500
{points}
"""


def tick_gaps(ts: list[int]) -> list[tuple[int, int]]:
    """(last ts before, first ts after) for every place where ticks are missing."""
    return [(a, b) for a, b in itertools.pairwise(ts) if b - a > PERIOD_MS]


class Blackhole:
    """A TCP proxy on 127.0.0.1: forwards to target until cut(); then it keeps every socket
    open and silently discards what arrives (a dead link, not a clean close), and new
    connections hang unanswered too. heal() forwards again for new connections."""

    def __init__(self, target_port: int) -> None:
        self.target = target_port
        self.port = free_port()
        self.cut_now = threading.Event()
        self.stopping = threading.Event()
        self.server = socket.create_server(("127.0.0.1", self.port))
        self.server.settimeout(0.1)
        self.threads: list[threading.Thread] = []
        self.socks: list[socket.socket] = []
        self._spawn(self._accept)

    def _spawn(self, target: Any, *args: Any) -> None:
        t = threading.Thread(target=target, args=args, daemon=True, name="blackhole")
        t.start()
        self.threads.append(t)

    def _accept(self) -> None:
        while not self.stopping.is_set():
            try:
                client, _ = self.server.accept()
            except TimeoutError:
                continue
            client.settimeout(0.1)
            self.socks.append(client)
            if self.cut_now.is_set():
                continue  # accepted, never answered
            upstream = socket.create_connection(("127.0.0.1", self.target))
            upstream.settimeout(0.1)
            self.socks.append(upstream)
            self._spawn(self._pipe, client, upstream)
            self._spawn(self._pipe, upstream, client)

    def _pipe(self, src: socket.socket, dst: socket.socket) -> None:
        dead = False
        while not self.stopping.is_set():
            try:
                data = src.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                return
            if not data:
                return
            dead = dead or self.cut_now.is_set()  # once cut, this link stays dead
            if not dead:
                try:
                    dst.sendall(data)
                except OSError:
                    return

    def cut(self) -> None:
        self.cut_now.set()

    def heal(self) -> None:
        self.cut_now.clear()

    def close(self) -> None:
        self.stopping.set()
        for t in self.threads:
            t.join(5)
        for s in [self.server, *self.socks]:
            s.close()


@contextmanager
def tmpfs(where: Path, size: str) -> Iterator[Path]:
    """A tmpfs of the given size mounted at `where` (the tests run as root)."""
    where.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where)],
                   check=True)
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=True)


def remount(where: Path, options: str) -> None:
    subprocess.run(["mount", "-o", f"remount,{options}", str(where)], check=True)


def put(q: Any, kind: str, payload: bytes, n: int, ts_ms: int) -> int | None:
    """Queue one batch of fixed bytes (the queue numbers it); its seq, or None if refused."""
    from gatewayd.store.protocol import Outgoing

    return q.put([Outgoing(kind, n, ts_ms, lambda seq: payload)])[0].seq  # type: ignore[no-any-return]


class AclBroker(Broker):
    """mosquitto with an ACL file (and optionally max_packet_size) that `deny(...)` rewrites
    and `reload()` reloads with SIGHUP, as an operator fixes a broker. It allows 10 messages
    in flight per client (its Receive Maximum)."""

    def __init__(self, workdir: Path, denied: list[str], max_packet_size: int = 0) -> None:
        super().__init__(workdir)
        self.acl = workdir / f"acl-{self.port}"
        self.max_packet_size = max_packet_size
        self.deny(denied)

    def deny(self, topics: list[str]) -> None:
        self.acl.write_text("topic readwrite #\n" + "".join(f"topic deny {t}\n" for t in topics))

    def start(self) -> AclBroker:
        from gatewayd.testing.broker import mosquitto_binary, stay_user, wait_port

        conf = self.workdir / f"mosquitto-{self.port}.conf"
        limit = f"max_packet_size {self.max_packet_size}\n" if self.max_packet_size else ""
        conf.write_text(f"{stay_user()}listener {self.port} 127.0.0.1\nallow_anonymous true\n"
                        f"acl_file {self.acl}\n{limit}persistence false\n"
                        "max_queued_messages 100000\nmax_inflight_messages 10\n")
        self.proc = subprocess.Popen([mosquitto_binary(), "-c", str(conf)],
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_port(self.port)
        return self

    def reload(self) -> None:
        import signal

        assert self.proc is not None
        self.proc.send_signal(signal.SIGHUP)


def missing_ticks(rec: Recorder) -> int:
    readings = rec.readings()
    assert sorted(readings) == list(range(1, POINTS + 1))
    return sum((b - a) // PERIOD_MS - 1 for ts in readings.values() for a, b in tick_gaps(ts))
