"""The consumer side of the wire format: subscribe to a gateway and decode what it sends.

Used by `gatewayd listen`, `scripts/demo`, `tail`, the tests and the benchmarks. It follows the
consumer procedures of docs/payload.md: births are kept by id and each data message is labelled
with the birth it names (never a newer one); a seq already seen is a redelivery and is dropped;
a birth whose `n` is not above every seq seen means the gateway's store was reset.
"""

from __future__ import annotations

import queue
import ssl
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from .model import Point, quality_label
from .pipeline import codec


class SeenSeqs:
    """The set of seqs seen, kept small: every seq up to `floor` is settled (seen, or known
    never to come), plus the seqs seen above it."""

    def __init__(self) -> None:
        self.floor: int | None = None
        self.above: set[int] = set()
        self.gaps: list[tuple[int, int]] = []  # settled but never seen: a resend may fill them

    LIMIT = 100_000  # seqs held above a gap; beyond it the oldest half is settled as gaps

    def add(self, seq: int) -> bool:
        """True when seq is new; False for a redelivery."""
        if self.floor is None:
            self.floor = seq - 1
        if seq <= self.floor:
            return self._fill(seq)
        if seq in self.above:
            return False
        self.above.add(seq)
        self._advance()
        if len(self.above) > self.LIMIT:
            self.settle(sorted(self.above)[self.LIMIT // 2])
        return True

    def _fill(self, seq: int) -> bool:
        """A seq below the floor is new only inside a gap (a batch set aside, then re-sent)."""
        for i, (first, last) in enumerate(self.gaps):
            if first <= seq <= last:
                self.gaps[i:i + 1] = [r for r in ((first, seq - 1), (seq + 1, last)) if r[0] <= r[1]]
                return True
        return False

    def _advance(self) -> None:
        assert self.floor is not None
        while self.floor + 1 in self.above:
            self.floor += 1
            self.above.discard(self.floor)

    @property
    def highest(self) -> int | None:
        return max(self.above) if self.above else self.floor

    def missing(self, below: int | None = None) -> list[tuple[int, int]]:
        """Ranges (first, last) of seqs not seen between the settled floor and `below` (default:
        the highest seen): not yet arrived, or never will."""
        if self.floor is None:
            return []
        top = below if below is not None else (self.highest or 0) + 1
        out: list[tuple[int, int]] = []
        start = self.floor + 1
        for s in sorted(x for x in self.above if x < top):
            if s > start:
                out.append((start, s - 1))
            start = s + 1
        if start < top and below is not None:
            out.append((start, top - 1))
        return out

    def settle(self, oldest: int) -> list[tuple[int, int]]:
        """Give up waiting below `oldest`: what was not seen below it is a gap (a re-sent batch
        may still fill it). Returns those ranges."""
        if self.floor is None or oldest <= self.floor + 1:
            return []
        gaps = self.missing(below=oldest)
        self.gaps = (self.gaps + gaps)[-1000:]
        self.above = {s for s in self.above if s >= oldest}
        self.floor = oldest - 1
        self._advance()
        return gaps


@dataclass(frozen=True)
class Credentials:
    """How to reach the broker: the same fields as the gateway's [broker] table."""

    username: str = ""
    password: str = ""
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None


class Listener:
    def __init__(self, broker_url: str, gateway: str, prefix: str = "gatewayd", site: str = "+",
                 client_id: str = "", persistent: bool = False,
                 credentials: Credentials | None = None) -> None:
        """`persistent` (needs a client_id): the broker keeps our session and queues messages
        for us while we are away, so a consumer that reconnects misses nothing."""
        self.root = f"{prefix}/{site}/{gateway}"
        self.url = urlsplit(broker_url)
        self.points: dict[int, Point] = {}  # of the latest birth
        self.births: dict[int, dict[int, Point]] = {}
        self.messages: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self.seqs: list[int] = []  # new seqs, in arrival order
        self.seen = SeenSeqs()
        self.duplicates = 0
        self.unknown_births: set[int] = set()
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                                  protocol=mqtt.MQTTv5)
        self._auth(credentials or Credentials())
        self.persistent = persistent
        self.client.on_connect = self._on_connect
        self.client.on_message = lambda c, u, m: self.messages.put((m.topic, bytes(m.payload)))
        self.connected = False

    def _auth(self, c: Credentials) -> None:
        if c.username:
            self.client.username_pw_set(c.username, c.password or None)
        if self.url.scheme == "mqtts":
            self.client.tls_set(ca_certs=c.ca_file, certfile=c.cert_file, keyfile=c.key_file,
                                tls_version=ssl.PROTOCOL_TLS_CLIENT)

    def _on_connect(self, client: mqtt.Client, *args: Any) -> None:
        # (userdata, flags, reason, properties): a refused CONNACK (bad password) is no link
        if len(args) > 2 and getattr(args[2], "is_failure", False):
            return
        client.subscribe(f"{self.root}/#", qos=1)
        self.connected = True

    def start(self, timeout_s: float = 10.0) -> Listener:
        props = None
        if self.persistent:
            from paho.mqtt.packettypes import PacketTypes
            from paho.mqtt.properties import Properties

            props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
            props.SessionExpiryInterval = 3600
        self.client.reconnect_delay_set(1, 2)
        default_port = 8883 if self.url.scheme == "mqtts" else 1883
        self.client.connect(self.url.hostname or "127.0.0.1", self.url.port or default_port,
                            clean_start=not self.persistent, properties=props)
        self.client.loop_start()
        deadline = time.monotonic() + timeout_s
        while not self.connected and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.05)  # let the SUBACK land before the caller relies on it
        return self

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()

    def decode(self, topic: str, payload: bytes) -> list[dict[str, Any]]:
        """Turn one message into JSON-ready records (several for a data batch)."""
        leaf = topic.rsplit("/", 1)[-1]
        if "/cmd/" in topic:
            return []  # commands to the gateway, not from it
        try:
            if leaf == "birth":
                return self._birth(payload)
            if leaf == "state":
                return [{"type": "state", "state": codec.decode_state(payload)}]
            if leaf == "event":
                seq, events = codec.decode_events(payload)
                if not self._new(seq):
                    return []
                return [{"type": "event", "seq": seq, **e} for e in events]
            if leaf == "data":
                return self._data(payload)
        except (codec.FormatError, KeyError, TypeError, ValueError) as e:
            return [{"type": "refused", "topic": topic, "reason": str(e)}]
        return []

    def _new(self, seq: int) -> bool:
        if not self.seen.add(seq):
            self.duplicates += 1
            return False
        self.seqs.append(seq)
        return True

    def _birth(self, payload: bytes) -> list[dict[str, Any]]:
        birth = codec.decode_birth(payload)
        self.births[birth["b"]] = birth["points"]
        self.points = birth["points"]
        out: list[dict[str, Any]] = []
        highest = self.seen.highest
        if highest is not None and birth.get("n", highest + 1) <= highest:
            self.seen = SeenSeqs()  # the store restarted its numbering: old seqs mean nothing now
            out.append({"type": "store_reset", "next_seq": birth["n"], "highest_seen": highest})
        out.append({"type": "birth", "gateway": birth["gw"], "birth": birth["b"],
                    "points": len(birth["points"]), "version": birth["sw"]})
        return out

    def _data(self, payload: bytes) -> list[dict[str, Any]]:
        header, readings = codec.decode_data(payload)
        seq, bid = header["seq"], header["b"]
        if not self._new(seq):
            return []
        points = self.births.get(bid)
        out: list[dict[str, Any]] = []
        if points is None:
            if bid not in self.unknown_births:
                self.unknown_births.add(bid)
                out.append({"type": "unknown_birth", "birth": bid, "seq": seq})
            points = {}
        for r in readings:
            p = points.get(r.alias)
            rec: dict[str, Any] = {"seq": seq, "alias": r.alias,
                                   "name": p.name if p else None, "time": r.ts_ms / 1000,
                                   "value": r.value, "unit": p.unit if p else None,
                                   "quality": r.quality, "quality_name": quality_label(r.quality)}
            if p and p.device:
                rec["device"] = p.device
            out.append(rec)
        return out

    def records(self, timeout_s: float = 1.0) -> Iterator[dict[str, Any]]:
        """Decoded records as they arrive; stops after timeout_s with nothing new."""
        while True:
            try:
                topic, payload = self.messages.get(timeout=timeout_s)
            except queue.Empty:
                return
            yield from self.decode(topic, payload)
