"""Sparkplug B (Eclipse Sparkplug 3.0) as an output beside native msgpack: one edge node, its
devices, births with aliases, DDATA by alias, deaths, Node Control/Rebirth, a persisted bdSeq, a
0-255 seq, quality as a metric property, and the primary host's STATE.

Native msgpack stays the durable channel (docs/sparkplug.md): Sparkplug DATA is QoS 0 by the
spec, so this output is a live view for Sparkplug tools; readings from the durable queue can be
sent again with `is_historical` (publish_history).
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from ..errors import FormatError
from ..model import Point, Quality, Reading, now_ms
from ..pipeline import codec
from .credentials import Credentials
from .sparkplug_pb import BOOLEAN, DOUBLE, INT32, INT64, STRING, UINT64, Metric, decode_command
from .sparkplug_pb import encode_payload as payload

log = logging.getLogger("gatewayd.sparkplug")

NAMESPACE = "spBv1.0"
REBIRTH = "Node Control/Rebirth"
TYPES = {"float": DOUBLE, "int": INT64, "bool": BOOLEAN, "string": STRING}
QUALITY_KEY = "Quality"  # OPC-style 192 good / 64 uncertain / 0 bad, as Sparkplug hosts read it


def opc_quality(code: int) -> int:
    return 192 if code < Quality.UNCERTAIN else 64 if code < Quality.BAD else 0


class BdSeq:
    """The birth/death sequence (0-255), kept in a file so a restart continues it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            self.value = int(path.read_text()) % 256
        except (OSError, ValueError):
            self.value = 0

    def advance(self) -> int:
        """The value for the next session, written before it is used."""
        current = self.value
        self.value = (self.value + 1) % 256
        self.path.write_text(f"{self.value}\n")
        return current


class SparkplugNode:
    def __init__(self, broker_url: str, group_id: str, node_id: str, points: Sequence[Point],
                 state_dir: Path, primary_host: str | None = None,
                 clock: Callable[[], int] = now_ms, credentials: Credentials | None = None
                 ) -> None:
        self.url = urlsplit(broker_url)
        self.group, self.node = group_id, node_id
        self.points = {p.alias: p for p in points}
        self.devices = sorted({p.device for p in points})
        self.primary_host = primary_host
        self.clock = clock
        self.bdseq = BdSeq(state_dir / "sparkplug_bdseq")
        self.session_bdseq = 0
        self.seq = 0
        self.lock = threading.Lock()
        self.host_online = primary_host is None
        self.born = False
        self.dead_devices: set[str] = set()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=f"sparkplug-{node_id}",
                                  protocol=mqtt.MQTTv311, clean_session=True)
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        (credentials or Credentials()).apply(self.client, self.url.scheme)
        self._arm_will()


    # -- topics ----------------------------------------------------------------------------------
    def topic(self, kind: str, device: str | None = None) -> str:
        base = f"{NAMESPACE}/{self.group}/{kind}/{self.node}"
        return f"{base}/{device}" if device else base

    # -- session ---------------------------------------------------------------------------------
    def _arm_will(self) -> None:
        """A new session gets the next bdSeq; its NDEATH will carries it (QoS 1, not retained)."""
        self.session_bdseq = self.bdseq.advance()
        death = payload(self.clock(), [Metric(0, INT64, self.session_bdseq, name="bdSeq")], None)
        self.client.will_set(self.topic("NDEATH"), death, qos=1, retain=False)

    def start(self) -> None:
        self.client.reconnect_delay_set(1, 5)
        port = self.url.port or (8883 if self.url.scheme == "mqtts" else 1883)
        self.client.connect_async(self.url.hostname or "127.0.0.1", port)
        self.client.loop_start()

    def stop(self) -> None:
        """An orderly end: NDEATH first (the broker drops the will on a clean disconnect). A
        node whose broker is gone just stops: its will is the broker's to send, or to have sent."""
        try:
            if self.born and self.client.is_connected():
                death = payload(self.clock(),
                                [Metric(0, INT64, self.session_bdseq, name="bdSeq")], None)
                self.client.publish(self.topic("NDEATH"), death, qos=1).wait_for_publish(2)
        except (RuntimeError, ValueError) as e:  # paho: not connected (any more), queue full
            log.info("sparkplug: no NDEATH sent at stop: %s", e)
        finally:
            self.client.disconnect()
            self.client.loop_stop()

    def _on_connect(self, client: mqtt.Client, userdata: object, flags: object, reason: object,
                    props: object = None) -> None:
        if getattr(reason, "is_failure", False):
            return
        client.subscribe(self.topic("NCMD"), qos=1)
        if self.primary_host:
            client.subscribe(f"{NAMESPACE}/STATE/{self.primary_host}", qos=1)
        else:
            self.birth()

    def _on_disconnect(self, client: mqtt.Client, *args: object) -> None:
        with self.lock:
            was_born, self.born = self.born, False
            self.host_online = self.primary_host is None  # learnt again from the retained STATE
        if was_born:
            self._arm_will()  # the next session is a new one: next bdSeq

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        if msg.topic.startswith(f"{NAMESPACE}/STATE/"):
            self._host_state(bytes(msg.payload))
        elif msg.topic == self.topic("NCMD"):
            try:
                command = decode_command(bytes(msg.payload))
            except ValueError as e:
                log.warning("unreadable NCMD: %s", e)
                return
            if command.get(REBIRTH) is True:
                self.birth()

    def _host_state(self, body: bytes) -> None:
        """Sparkplug 3.0 STATE: JSON {"online": bool, "timestamp": ms}. Births wait for online;
        when the primary host goes offline the node ends its session and starts a new one."""
        try:
            online = bool(json.loads(body or b"{}").get("online"))
        except (ValueError, AttributeError):
            return
        self.host_online = online
        if online and not self.born:
            self.birth()
        elif not online and self.born:
            # End the session: the broker publishes this session's NDEATH (the will), paho
            # connects again with the next bdSeq armed, and the birth waits for online.
            sock = self.client.socket()
            self._on_disconnect(self.client)  # paho does not report a close made in its callback
            self.host_online = False
            if sock is not None:
                sock.close()

    # -- messages --------------------------------------------------------------------------------
    def _next_seq(self) -> int:
        with self.lock:
            seq, self.seq = self.seq, (self.seq + 1) % 256
            return seq

    def birth(self) -> None:
        """NBIRTH (seq 0, bdSeq, Node Control/Rebirth) then a DBIRTH per device, every metric with
        its name, alias and type."""
        if not self.host_online:
            return
        with self.lock:
            self.seq = 0
        now = self.clock()
        node_metrics = [Metric(0, INT64, self.session_bdseq, name="bdSeq"),
                        Metric(1 << 32, BOOLEAN, False, name=REBIRTH)]
        self.client.publish(self.topic("NBIRTH"), payload(now, node_metrics, self._next_seq()),
                            qos=0)
        for device in self.devices:
            metrics = [Metric(p.alias, TYPES.get(p.type, DOUBLE), None, name=p.name, timestamp=now,
                              properties=self._unit(p))
                       for p in self.points.values() if p.device == device]
            self.client.publish(self.topic("DBIRTH", device),
                                payload(now, metrics, self._next_seq()), qos=0)
        self.dead_devices.clear()
        self.born = True

    @staticmethod
    def _unit(p: Point) -> dict[str, tuple[int, object]]:
        return {"engUnit": (STRING, p.unit)} if p.unit else {}

    def _metric(self, r: Reading, historical: bool) -> Metric | None:
        p = self.points.get(r.alias)
        if p is None:
            return None
        datatype = TYPES.get(p.type, DOUBLE)
        value = r.value
        if value is not None and datatype == DOUBLE and not isinstance(value, float):
            value = float(value)  # an int from a float point: the birth said Double
        if isinstance(value, int) and not isinstance(value, bool) and value >= 1 << 63:
            datatype = UINT64
        props: dict[str, tuple[int, object]] = {}
        if r.quality != Quality.GOOD:
            props = {QUALITY_KEY: (INT32, opc_quality(r.quality)),
                     "gatewaydQuality": (INT32, int(r.quality))}
        return Metric(r.alias, datatype, value, timestamp=r.ts_ms, is_historical=historical,
                      properties=props)

    def publish(self, readings: Iterable[Reading], historical: bool = False) -> int:
        """DDATA per device (QoS 0, by alias); returns the messages sent (0 before the birth)."""
        if not self.born:
            return 0
        by_device: dict[str, list[Metric]] = {}
        for r in readings:
            m = self._metric(r, historical)
            if m is not None:
                by_device.setdefault(self.points[r.alias].device, []).append(m)
        now = self.clock()
        sent = 0
        for device, metrics in by_device.items():
            if device in self.dead_devices:
                # after a DDEATH only a DBIRTH may come: a good value is the device back (its
                # device_up event may sit in a later batch), bad ones say nothing new
                if historical or all(m.properties for m in metrics):
                    continue
                self.device_birth(device)
            self.client.publish(self.topic("DDATA", device), payload(now, metrics,
                                                                    self._next_seq()), qos=0)
            sent += 1
        return sent

    def publish_history(self, readings: Iterable[Reading]) -> int:
        """Readings from the durable queue, sent again marked is_historical (hosts store them
        without updating the live tag)."""
        return self.publish(readings, historical=True)

    def device_birth(self, device: str) -> None:
        """A device back after a DDEATH is born again before its DDATA."""
        if self.born and device in self.dead_devices:
            self.dead_devices.discard(device)
            now = self.clock()
            metrics = [Metric(p.alias, TYPES.get(p.type, DOUBLE), None, name=p.name,
                              timestamp=now, properties=self._unit(p))
                       for p in self.points.values() if p.device == device]
            self.client.publish(self.topic("DBIRTH", device),
                                payload(now, metrics, self._next_seq()), qos=0)

    def device_death(self, device: str) -> None:
        if self.born and device not in self.dead_devices:
            self.dead_devices.add(device)
            self.client.publish(self.topic("DDEATH", device),
                                payload(self.clock(), [], self._next_seq()), qos=0)


class QueueFeed:
    """Feeds the node from the durable queue (read only, through its `peek`): batches queued
    before the feed started are the backlog, sent as is_historical; later ones are live DDATA;
    device_down / device_up events become DDEATH / DBIRTH. The native publisher alone deletes
    batches, so a batch it acknowledges before the feed has read it is not sent here (QoS 0
    DATA is a live view; docs/sparkplug.md)."""

    BACKLOG_BATCHES = 2000  # read ahead of the native publisher at start (memory bound)

    def __init__(self, node: SparkplugNode, store: Any, poll_s: float = 0.05) -> None:
        self.node = node
        self.store = store
        self.poll_s = poll_s
        self.floor = store.next_seq
        self.cursor = 0
        self.sent = {"live": 0, "history": 0}
        self.backlog: list[tuple[str, bytes]] = []
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="sparkplug-feed", daemon=True)

    def start(self) -> None:
        """Call before the native publisher starts: the backlog is read now, while it is queued
        (the publisher deletes what the broker acknowledges), and sent once the node is born."""
        for batch in self.store.peek(0, self.BACKLOG_BATCHES, self.floor):
            self.backlog.append((batch.kind, batch.payload))
            self.cursor = batch.seq
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(5)

    def kick(self) -> None:
        """New batches were committed: read them now, before the native publisher's ack."""
        self._wake.set()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._wake.wait(self.poll_s)
            self._wake.clear()
            if self.node.born:
                while self.backlog:
                    kind, body = self.backlog.pop(0)
                    self._checked(kind, body, True)
                self.step()

    def step(self) -> None:
        for batch in self.store.peek(self.cursor, 64):
            self.cursor = batch.seq
            self._checked(batch.kind, batch.payload, batch.seq < self.floor)

    def _checked(self, kind: str, body: bytes, historical: bool) -> None:
        try:
            self._send(kind, body, historical)
        except FormatError as e:  # a version-1 batch from before an upgrade
            log.warning("sparkplug: a queued batch is not sent: %s", e)

    def _send(self, kind: str, body: bytes, historical: bool) -> None:
        if kind == "event":
            for ev in codec.decode_events(body)[1]:
                if ev.get("kind") == "device_down":
                    self.node.device_death(str(ev.get("device")))
                elif ev.get("kind") == "device_up":
                    self.node.device_birth(str(ev.get("device")))
            return
        readings = codec.decode_data(body)[1]
        self.node.publish(readings, historical=historical)
        self.sent["history" if historical else "live"] += len(readings)
