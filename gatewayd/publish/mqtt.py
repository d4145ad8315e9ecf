"""The MQTT side: paho-mqtt 2.x, QoS 1 inside an in-flight window, birth and last will, and
two lanes so live data is never stuck behind an hour of backlog.

Lanes: batches queued before the current connection (the backlog) and batches queued since
(live) are sent interleaved, one live batch for every backlog batch, the backlog optionally
rate limited. A batch is deleted from the store only when its PUBACK arrives; batches in
flight when the link drops are re-sent from the store after reconnect (paho's own copies are
dropped, so the store stays the one source of truth); the consumer sees such a batch at most
twice and can tell by its sequence number.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import ssl
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from ..config import BrokerConfig
from ..pipeline.codec import encode_state
from ..store.queue import Batch, DurableQueue
from .topics import Topics

log = logging.getLogger("gatewayd.publish")


@dataclass
class LinkStats:
    connected: bool = False
    connects: int = 0
    published: int = 0
    acked: int = 0
    inflight: int = 0
    last_ack_mono: float = 0.0


class Publisher:
    def __init__(self, cfg: BrokerConfig, topics: Topics, store: DurableQueue,
                 birth: Callable[[], bytes], backlog_rate_per_s: float = 0.0,
                 on_command: Callable[[str, bytes], None] | None = None) -> None:
        self.cfg = cfg
        self.topics = topics
        self.store = store
        self.birth = birth
        self.backlog_interval_s = 1.0 / backlog_rate_per_s if backlog_rate_per_s else 0.0
        self.on_command = on_command
        self.stats = LinkStats()
        self._inflight: dict[int, int] = {}  # mid -> seq
        self._live_floor = 0  # seqs >= this were queued during the current connection
        self._cursor = {"live": 0, "backlog": 0}
        self._turn = "live"
        self._next_backlog = 0.0
        self._inbox: queue.SimpleQueue[tuple[str, int]] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.progress = time.monotonic()  # the watchdog reads this
        self.client = self._make_client()

    # -- setup --------------------------------------------------------------------------------
    def _make_client(self) -> mqtt.Client:
        cfg = self.cfg
        v5 = cfg.protocol == "5"
        client = mqtt.Client(
            CallbackAPIVersion.VERSION2,
            client_id=cfg.client_id or f"gatewayd-{self.topics.gateway}",
            protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311,
            clean_session=None if v5 else True,
        )
        client.max_inflight_messages_set(cfg.inflight_window)
        client.max_queued_messages_set(0)
        client.reconnect_delay_set(max(1, int(cfg.reconnect_min_s)), int(cfg.reconnect_max_s))
        client.will_set(self.topics.state, encode_state(False), qos=1, retain=True)
        password = cfg.password
        if cfg.password_file is not None:
            password = cfg.password_file.read_text().strip()
        if cfg.username:
            client.username_pw_set(cfg.username, password or None)
        if urlsplit(cfg.url).scheme == "mqtts":
            client.tls_set(
                ca_certs=str(cfg.ca_file) if cfg.ca_file else None,
                certfile=str(cfg.cert_file) if cfg.cert_file else None,
                keyfile=str(cfg.key_file) if cfg.key_file else None,
                tls_version=ssl.PROTOCOL_TLS_CLIENT,
            )
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        client.on_message = self._on_message
        return client

    def start(self) -> None:
        url = urlsplit(self.cfg.url)
        port = url.port or (8883 if url.scheme == "mqtts" else 1883)
        self.client.connect_async(url.hostname or "127.0.0.1", port, keepalive=self.cfg.keepalive_s)
        self.client.loop_start()
        self._thread = threading.Thread(target=self._pump, name="publisher", daemon=True)
        self._thread.start()

    def stop(self, drain_s: float = 0.0) -> int:
        """Stop; wait up to drain_s for in-flight acks. Returns the batches still unacked."""
        deadline = time.monotonic() + drain_s
        self.kick()
        while time.monotonic() < deadline and self.stats.connected and self.busy():
            time.sleep(0.02)
        self._stop.set()
        self.kick()
        if self._thread:
            self._thread.join(5)
        left = len(self._inflight)
        if self.stats.connected:
            self.client.publish(self.topics.state, encode_state(False), qos=1,
                                retain=True).wait_for_publish(1)
        self.client.disconnect()
        self.client.loop_stop()
        return left

    def rebirth(self) -> None:
        """Send the birth again (a consumer asked, e.g. after losing its retained copy)."""
        if self.stats.connected:
            self.client.publish(self.topics.birth, self.birth(), qos=1, retain=True)

    def busy(self) -> bool:
        """Batches in flight, or committed and not yet sent."""
        return bool(self._inflight) or bool(self.store.peek(0, 1))

    def kick(self) -> None:
        """New batches were committed, or something else worth a look."""
        self._inbox.put(("kick", 0))

    # -- paho callbacks (paho's network thread): they only post to the pump's inbox, so paho's
    # -- locks and ours are never held together ----------------------------------------------
    def _on_connect(self, client: mqtt.Client, userdata: object, flags: object, reason: object,
                    props: object = None) -> None:
        if getattr(reason, "is_failure", False):
            log.warning("broker %s refused the connection: %s", self.cfg.url, reason)
            return
        client.drop_out_messages()  # unacked batches: the pump re-sends them from the store
        client.publish(self.topics.birth, self.birth(), qos=1, retain=True)
        client.publish(self.topics.state, encode_state(True), qos=1, retain=True)
        if self.on_command is not None:
            client.subscribe(self.topics.cmd(), qos=1)
        self._inbox.put(("connected", 0))

    def _on_disconnect(self, client: mqtt.Client, userdata: object, flags: object,
                       reason: object, props: object = None) -> None:
        if self.stats.connected and not self._stop.is_set():
            log.warning("lost the broker %s: %s", self.cfg.url, reason)
        self.stats.connected = False
        self._inbox.put(("disconnected", 0))

    def _on_publish(self, client: mqtt.Client, userdata: object, mid: int, reason: object,
                    props: object = None) -> None:
        self._inbox.put(("ack", mid))

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        if self.on_command is not None:
            self.on_command(msg.topic.rsplit("/", 1)[-1], bytes(msg.payload))

    # -- the pump (our thread): sole owner of the window and the lanes ---------------------------
    def _pump(self) -> None:
        while not self._stop.is_set():
            self.progress = time.monotonic()
            batch = self._next() if self._can_send() else None
            if batch is None:
                with contextlib.suppress(queue.Empty):
                    self._handle(self._inbox.get(timeout=0.25))
                continue
            info = self.client.publish(self.topics.for_kind(batch.kind), batch.payload, qos=1)
            self._inflight[info.mid] = batch.seq
            self.stats.published += 1
            self.stats.inflight = len(self._inflight)
            self._handle(None)

    def _handle(self, first: tuple[str, int] | None) -> None:
        """Apply what the callbacks posted: acks, (re)connections."""
        items = [first] if first else []
        while True:
            try:
                items.append(self._inbox.get_nowait())
            except queue.Empty:
                break
        for what, mid in items:
            if what == "ack":
                seq = self._inflight.pop(mid, None)
                if seq is not None:
                    self.store.ack(seq)
                    self.stats.acked += 1
                    self.stats.last_ack_mono = time.monotonic()
            elif what == "connected":
                self._inflight.clear()
                self._live_floor = self.store.next_seq
                self._cursor = {"live": 0, "backlog": 0}
                self.stats.connected = True
                self.stats.connects += 1
                log.info("connected to %s", self.cfg.url)
        self.stats.inflight = len(self._inflight)

    def _can_send(self) -> bool:
        return self.stats.connected and len(self._inflight) < self.cfg.inflight_window

    def _next(self) -> Batch | None:
        """Alternate lanes; the backlog also waits for its rate limit."""
        for lane in (self._turn, "backlog" if self._turn == "live" else "live"):
            batch = self._peek(lane)
            if batch is not None:
                self._turn = "backlog" if lane == "live" else "live"
                self._cursor[lane] = batch.seq
                if lane == "backlog":
                    self._next_backlog = time.monotonic() + self.backlog_interval_s
                return batch
        return None

    def _peek(self, lane: str) -> Batch | None:
        if lane == "backlog":
            if time.monotonic() < self._next_backlog:
                return None
            after, before = self._cursor["backlog"], self._live_floor
        else:
            after, before = max(self._cursor["live"], self._live_floor - 1), None
        found = self.store.peek(after, 1, before)
        return found[0] if found else None
