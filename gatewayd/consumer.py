"""The consumer side of the wire format: subscribe to a gateway and decode what it sends.

Used by `gatewayd listen`, `scripts/demo`, `tail`, the tests and the benchmarks. It follows the
consumer procedures of docs/payload.md: births are kept by id and each data message is labelled
with the birth it names (never a newer one); a seq already seen is a redelivery and is dropped;
a birth whose `n` is not above every seq seen means the gateway's store was reset.
"""

from __future__ import annotations

import bisect
import queue
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from .errors import FormatError
from .model import Point, quality_label
from .pipeline import codec
from .publish.credentials import Credentials as Credentials  # re-exported: listen, tail


class SeenSeqs:
    """The set of seqs seen, as sorted disjoint ranges [first, last]: a gateway's seqs are
    mostly contiguous, so this stays a handful of ranges however long it runs. Seqs arrive in
    any order (the backlog interleaves with live data), so a seq below every seq seen so far
    is new, never assumed seen."""

    LIMIT = 10_000  # ranges kept; past it the oldest gaps are given up (merged as if seen)

    def __init__(self) -> None:
        self.firsts: list[int] = []
        self.lasts: list[int] = []

    def add(self, seq: int) -> bool:
        """True when seq is new; False for a redelivery."""
        i = bisect.bisect_right(self.firsts, seq) - 1
        if i >= 0 and seq <= self.lasts[i]:
            return False
        joins_left = i >= 0 and self.lasts[i] == seq - 1
        joins_right = i + 1 < len(self.firsts) and self.firsts[i + 1] == seq + 1
        if joins_left and joins_right:
            self.lasts[i] = self.lasts[i + 1]
            del self.firsts[i + 1], self.lasts[i + 1]
        elif joins_left:
            self.lasts[i] = seq
        elif joins_right:
            self.firsts[i + 1] = seq
        else:
            self.firsts.insert(i + 1, seq)
            self.lasts.insert(i + 1, seq)
            if len(self.firsts) > self.LIMIT:
                self.lasts[0] = self.lasts[1]  # give up on the oldest gap
                del self.firsts[1], self.lasts[1]
        return True

    @property
    def highest(self) -> int | None:
        return self.lasts[-1] if self.lasts else None

    def missing(self) -> list[tuple[int, int]]:
        """Ranges not seen between the lowest and highest seq seen: not yet arrived (backlog,
        re-send), or lost; the gateway's own events say which were lost."""
        return [(last + 1, first - 1)
                for last, first in zip(self.lasts[:-1], self.firsts[1:], strict=True)]


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
        (credentials or Credentials()).apply(self.client, self.url.scheme)
        self.persistent = persistent
        self.client.on_connect = self._on_connect
        self.client.on_message = lambda c, u, m: self.messages.put((m.topic, bytes(m.payload)))
        self.connected = False


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
        except (FormatError, KeyError, TypeError, ValueError) as e:
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

    def records(self, timeout_s: float = 1.0, max_s: float | None = None) -> Iterator[dict[str, Any]]:
        """Decoded records as they arrive; stops after timeout_s with nothing new, or once max_s
        (default timeout_s + 1 s) has passed, so a caller's own deadline holds even while a
        gateway publishes more often than every timeout_s."""
        end = time.monotonic() + (timeout_s + 1.0 if max_s is None else max_s)
        while (left := end - time.monotonic()) > 0:
            try:
                topic, payload = self.messages.get(timeout=min(timeout_s, left))
            except queue.Empty:
                return
            yield from self.decode(topic, payload)
