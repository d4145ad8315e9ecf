"""The MQTT side: paho-mqtt 2.x, QoS 1 inside an in-flight window, birth and last will, and
two lanes so live data is never stuck behind an hour of backlog.

Refusals (MQTT 5): a PUBACK whose reason code is a failure (0x80 and up) deletes nothing. The
batch is sent again later; `status` (`broker.refusing`) and a `publish_refused` event say which
topic and why. Several refusals in a row on one topic pause that topic with a growing backoff
(one topic refused does not stop the other). A batch refused again and again while others on
its topic are accepted, or larger than the broker's Maximum Packet Size, is poison: it is set
aside in the store (kept, counted, announced) so that what follows flows. The window is the
smaller of ours and the broker's Receive Maximum. Under MQTT 3.1.1 a broker cannot say no: a
denied publish is acknowledged like any other (docs/store.md).

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
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from ..config import BrokerConfig
from ..model import now_ms
from ..pipeline.codec import encode_state
from ..store.protocol import Batch, Queue
from .credentials import Credentials
from .inbound import BoundedClient, connect_properties
from .topics import Topics
from .why_not_connected import Diagnosis, tls_context

log = logging.getLogger("gatewayd.publish")
MAX_TRIES = 3  # refusals of one batch, while its topic takes others, before it is set aside
STREAK = 3  # refusals in a row on one topic: the topic itself is refused, pause it
BACKOFF_S = (1.0, 30.0)  # first and longest pause of a refused topic
POISON_CODES = {0x95: "packet too large", 0x99: "payload format invalid"}  # the batch, not the topic
PACKET_OVERHEAD = 16  # fixed header, packet id, property length: beyond topic and payload


@dataclass
class LinkStats:
    connected: bool = False
    connects: int = 0
    published: int = 0
    acked: int = 0
    inflight: int = 0
    last_ack_mono: float = 0.0
    refused: int = 0  # PUBACKs with a failure reason code
    set_aside: int = 0
    max_packet_size: int = 0  # from the broker's CONNACK (0: it set none)
    receive_maximum: int = 0
    refusing: dict[str, dict[str, Any]] = field(default_factory=dict)  # topic -> why, since


@dataclass
class TopicState:
    """How one topic (data or event) is faring: refusals in a row, pause, batches to retry."""

    streak: int = 0
    backoff_s: float = BACKOFF_S[0]
    paused_until: float = 0.0
    retry_from: int = 0  # lowest refused seq to send again (0: none)
    retry_at: float = 0.0
    accepted_at: float = 0.0


class Publisher:
    def __init__(self, cfg: BrokerConfig, topics: Topics, store: Queue,
                 birth: Callable[[], bytes], backlog_rate_per_s: float = 0.0,
                 on_command: Callable[[str, bytes], None] | None = None,
                 on_event: Callable[[str, dict[str, Any]], None] = lambda k, f: None) -> None:
        self.cfg = cfg
        self.topics = topics
        self.store = store
        self.birth = birth
        self.backlog_interval_s = 1.0 / backlog_rate_per_s if backlog_rate_per_s else 0.0
        self.on_command = on_command
        self.on_event = on_event
        self.stats = LinkStats()
        self.max_message_bytes = store.max_message_bytes  # ours; the broker may lower it
        self._inflight: dict[int, Batch] = {}  # mid -> batch
        self._window = cfg.inflight_window
        self._topic = {"data": TopicState(), "event": TopicState()}
        self._tries: dict[int, tuple[int, float]] = {}  # seq -> (refusals, first refusal)
        self._live_floor = 0  # seqs >= this were queued during the current connection
        self._cursor = {"live": 0, "backlog": 0}
        self._turn = "live"
        self._next_backlog = 0.0
        self._inbox: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.progress = time.monotonic()  # the watchdog reads this
        self.diagnosis: Diagnosis | None = None  # why connecting fails, once start() runs
        self.client = self._make_client()

    # -- setup --------------------------------------------------------------------------------
    def _make_client(self) -> mqtt.Client:
        cfg = self.cfg
        v5 = cfg.protocol == "5"
        client = BoundedClient(  # paho's client; oversized inbound packets never reach memory
            CallbackAPIVersion.VERSION2,
            client_id=cfg.client_id or f"gatewayd-{self.topics.gateway}",
            protocol=mqtt.MQTTv5 if v5 else mqtt.MQTTv311,
            clean_session=None if v5 else True,
        )
        client.max_inflight_messages_set(cfg.inflight_window)
        client.max_queued_messages_set(0)
        client.reconnect_delay_set(max(1, int(cfg.reconnect_min_s)), int(cfg.reconnect_max_s))
        client.will_set(self.topics.state, encode_state(False), qos=1, retain=True)
        Credentials.of_broker(cfg).apply(client, urlsplit(cfg.url).scheme)
        client.on_connect = self._on_connect
        client.on_connect_fail = self._on_connect_fail
        client.on_disconnect = self._on_disconnect
        client.on_publish = self._on_publish
        client.on_message = self._on_message
        return client

    def start(self) -> None:
        url = urlsplit(self.cfg.url)
        port = url.port or (8883 if url.scheme == "mqtts" else 1883)
        cfg = self.cfg
        self.diagnosis = Diagnosis(
            url.hostname or "127.0.0.1", port,
            lambda: tls_context(cfg.ca_file, cfg.cert_file, cfg.key_file)
            if url.scheme == "mqtts" else None,
            lambda why: log.warning("broker %s: cannot connect: %s", cfg.safe_url, why))
        self.client.connect_async(url.hostname or "127.0.0.1", port, keepalive=self.cfg.keepalive_s,
                                  properties=connect_properties(self.cfg.protocol == "5"))
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
        try:
            if self.stats.connected:
                self.client.publish(self.topics.state, encode_state(False), qos=1,
                                    retain=True).wait_for_publish(1)
        except (RuntimeError, ValueError) as e:  # the connection went as we stopped: the will
            log.info("no offline state sent at stop: %s", e)  # says offline instead
        finally:
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
        """New batches were queued, or something else worth a look."""
        self._inbox.put(("kick", 0))

    def rescan(self) -> None:
        """Set-aside batches were queued again: look for them from the start."""
        self._inbox.put(("rescan", 0))

    # -- paho callbacks (paho's network thread): they only post to the pump's inbox, so paho's
    # -- locks and ours are never held together ----------------------------------------------
    def _on_connect_fail(self, client: mqtt.Client, userdata: object) -> None:
        if self.diagnosis is not None:  # paho's thread: the diagnosis runs on its own
            self.diagnosis.connect_failed()

    def _on_connect(self, client: mqtt.Client, userdata: object, flags: object, reason: object,
                    props: object = None) -> None:
        if getattr(reason, "is_failure", False):
            log.warning("broker %s refused the connection: %s", self.cfg.safe_url, reason)
            return
        if self.diagnosis is not None:
            self.diagnosis.connected()
        client.drop_out_messages()  # unacked batches: the pump re-sends them from the store
        client.publish(self.topics.birth, self.birth(), qos=1, retain=True)
        client.publish(self.topics.state, encode_state(True), qos=1, retain=True)
        if self.on_command is not None:
            client.subscribe(self.topics.cmd(), qos=1)
        limits = (int(getattr(props, "MaximumPacketSize", 0) or 0),
                  int(getattr(props, "ReceiveMaximum", 0) or 0))
        self._inbox.put(("connected", limits))

    def _on_disconnect(self, client: mqtt.Client, userdata: object, flags: object,
                       reason: object, props: object = None) -> None:
        if self.stats.connected and not self._stop.is_set():
            log.warning("lost the broker %s: %s", self.cfg.safe_url, reason)
        self.stats.connected = False
        self._inbox.put(("disconnected", 0))

    def _on_publish(self, client: mqtt.Client, userdata: object, mid: int, reason: object,
                    props: object = None) -> None:
        code = int(getattr(reason, "value", 0) or 0)
        self._inbox.put(("ack", (mid, code, str(reason))))

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        # Size-capped by the command worker before anything parses it (publish/inbound.py).
        if self.on_command is not None:
            payload = msg.payload
            self.on_command(msg.topic.rsplit("/", 1)[-1],
                            payload if isinstance(payload, bytes) else bytes(payload))

    # -- the pump (our thread): sole owner of the window and the lanes ---------------------------
    def _pump(self) -> None:
        while not self._stop.is_set():
            self.progress = time.monotonic()
            batch = self._next() if self._can_send() else None
            if batch is None:
                with contextlib.suppress(queue.Empty):
                    self._handle(self._inbox.get(timeout=0.1))
                continue
            topic = self.topics.for_kind(batch.kind)
            if self._too_big(batch, topic):
                continue
            info = self.client.publish(topic, batch.payload, qos=1)
            self._inflight[info.mid] = batch
            self.stats.published += 1
            self.stats.inflight = len(self._inflight)
            self._handle(None)

    def _too_big(self, batch: Batch, topic: str) -> bool:
        """A batch the broker said it can never take (Maximum Packet Size) is set aside."""
        limit = self.stats.max_packet_size
        size = len(batch.payload) + len(topic.encode()) + PACKET_OVERHEAD
        if not limit or size <= limit:
            return False
        self._set_aside(batch, f"{size} bytes, larger than the broker's Maximum Packet Size "
                               f"({limit})")
        return True

    def _handle(self, first: tuple[str, Any] | None) -> None:
        """Apply what the callbacks posted: acks, (re)connections."""
        items = [first] if first else []
        while True:
            try:
                items.append(self._inbox.get_nowait())
            except queue.Empty:
                break
        for what, arg in items:
            if what == "ack":
                self._acked(*arg)
            elif what == "connected":
                self._connected(*arg)
            elif what == "rescan":
                self._cursor = {"live": 0, "backlog": 0}
        self.stats.inflight = len(self._inflight)

    def _connected(self, max_packet: int, receive_max: int) -> None:
        self._inflight.clear()
        self._live_floor = self.store.next_seq
        self._cursor = {"live": 0, "backlog": 0}
        self.stats.max_packet_size = max_packet
        self.stats.receive_maximum = receive_max
        self._window = min(self.cfg.inflight_window, receive_max or self.cfg.inflight_window)
        # nothing built from now on is larger than the broker takes
        cap = max_packet - len(self.topics.data.encode()) - PACKET_OVERHEAD if max_packet else 0
        caps = [x for x in (self.max_message_bytes, cap) if x > 0]
        self.store.max_message_bytes = min(caps) if caps else 0
        self.stats.connected = True
        self.stats.connects += 1
        log.info("connected to %s", self.cfg.safe_url)

    def _acked(self, mid: int, code: int, reason: str) -> None:
        batch = self._inflight.pop(mid, None)
        if batch is None:
            return
        state = self._topic[batch.kind]
        if code < 0x80:
            self.store.ack(batch.seq)
            self._tries.pop(batch.seq, None)
            self.stats.acked += 1
            self.stats.last_ack_mono = time.monotonic()
            state.streak, state.backoff_s = 0, BACKOFF_S[0]
            state.accepted_at = time.monotonic()
            self._accepted_again(self.topics.for_kind(batch.kind))
            return
        self._refused(batch, state, code, reason)

    def _refused(self, batch: Batch, state: TopicState, code: int, reason: str) -> None:
        """Keep the batch; retry later; set it aside if it is the batch that is refused."""
        now = time.monotonic()
        topic = self.topics.for_kind(batch.kind)
        self.stats.refused += 1
        tries, first = self._tries.get(batch.seq, (0, now))
        self._tries[batch.seq] = (tries + 1, first)
        self._refusing(topic, code, reason, batch.seq)
        if code in POISON_CODES or (tries + 1 >= MAX_TRIES and state.accepted_at > first):
            self._set_aside(batch, f"refused {tries + 1} times: {reason} (0x{code:02x})")
            return
        state.retry_from = min(state.retry_from or batch.seq, batch.seq)
        state.streak += 1
        if state.streak >= STREAK:  # the topic is refused, not this batch: pause it
            state.paused_until = now + state.backoff_s
            state.retry_at = state.paused_until
            state.backoff_s = min(state.backoff_s * 2, BACKOFF_S[1])
        else:
            state.retry_at = max(state.retry_at, now + BACKOFF_S[0])

    def _refusing(self, topic: str, code: int, reason: str, seq: int) -> None:
        known = self.stats.refusing.get(topic)
        if known is not None and known["code"] == code:
            known["batches"] += 1
            return
        log.warning("the broker refuses batches on %s: %s (0x%02x); they stay queued",
                    topic, reason, code)
        self.stats.refusing[topic] = {"reason": reason, "code": code, "since_ms": now_ms(),
                                      "batches": 1}
        self.on_event("publish_refused", {"topic": topic, "reason": reason, "code": code,
                                          "seq": seq})

    def _accepted_again(self, topic: str) -> None:
        if self.stats.refusing.pop(topic, None) is not None:
            log.info("the broker accepts batches on %s again", topic)
            self.on_event("publish_accepted", {"topic": topic})

    def _set_aside(self, batch: Batch, reason: str) -> None:
        log.error("batch %d (%s, %d readings, %d bytes) set aside: %s", batch.seq, batch.kind,
                  batch.n, len(batch.payload), reason)
        self._tries.pop(batch.seq, None)
        if self.store.set_aside(batch.seq, reason) is not None:
            self.stats.set_aside += 1

    def _can_send(self) -> bool:
        return self.stats.connected and len(self._inflight) < self._window

    def _next(self) -> Batch | None:
        """Alternate lanes; the backlog also waits for its rate limit."""
        self._retry_due()
        for lane in (self._turn, "backlog" if self._turn == "live" else "live"):
            batch = self._peek(lane)
            if batch is not None:
                self._turn = "backlog" if lane == "live" else "live"
                self._cursor[lane] = batch.seq
                if lane == "backlog":
                    self._next_backlog = time.monotonic() + self.backlog_interval_s
                return batch
        return None

    def _retry_due(self) -> None:
        """Refused batches whose wait is over: move the cursors back so they go again."""
        now = time.monotonic()
        for state in self._topic.values():
            if state.retry_from and now >= state.retry_at:
                for lane in self._cursor:
                    self._cursor[lane] = min(self._cursor[lane], state.retry_from - 1)
                state.retry_from = 0

    def _peek(self, lane: str) -> Batch | None:
        if lane == "backlog":
            if time.monotonic() < self._next_backlog:
                return None
            after, before = self._cursor["backlog"], self._live_floor
        else:
            after, before = max(self._cursor["live"], self._live_floor - 1), None
        now = time.monotonic()
        open_kinds = [k for k, st in self._topic.items() if now >= st.paused_until]
        if not open_kinds:
            return None
        kind = open_kinds[0] if len(open_kinds) == 1 else None
        sent = {b.seq for b in self._inflight.values()}
        found = self.store.peek(after, 1 + len(sent), before, kind)
        return next((b for b in found if b.seq not in sent), None)
