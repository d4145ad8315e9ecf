"""The consumer side of the wire format: subscribe to a gateway and decode what it sends.

Used by `gatewayd listen`, `scripts/demo`, the tests and the benchmarks; a data message is
decoded with the birth it names (its `b` field), so a renamed point is never mislabelled.
"""

from __future__ import annotations

import queue
import time
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from .model import Point, quality_label
from .pipeline import codec


class Listener:
    def __init__(self, broker_url: str, gateway: str, prefix: str = "gatewayd", site: str = "+",
                 client_id: str = "", persistent: bool = False) -> None:
        """`persistent` (needs a client_id): the broker keeps our session and queues messages
        for us while we are away, so a consumer that reconnects misses nothing."""
        self.root = f"{prefix}/{site}/{gateway}"
        self.url = urlsplit(broker_url)
        self.points: dict[int, Point] = {}
        self.births: dict[int, dict[int, Point]] = {}
        self.messages: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self.seqs: list[int] = []
        self.client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id=client_id,
                                  protocol=mqtt.MQTTv5)
        self.persistent = persistent
        self.client.on_connect = self._on_connect
        self.client.on_message = lambda c, u, m: self.messages.put((m.topic, bytes(m.payload)))
        self.connected = False

    def _on_connect(self, client: mqtt.Client, *args: Any) -> None:
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
        self.client.connect(self.url.hostname or "127.0.0.1", self.url.port or 1883,
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
        if leaf == "birth":
            birth = codec.decode_birth(payload)
            self.births[birth["b"]] = birth["points"]
            self.points = birth["points"]
            return [{"type": "birth", "gateway": birth["gw"], "points": len(birth["points"]),
                     "version": birth["sw"]}]
        if leaf == "state":
            return [{"type": "state", "state": payload.decode(errors="replace")}]
        if leaf == "event":
            seq, events = codec.decode_events(payload)
            self.seqs.append(seq)
            return [{"type": "event", "seq": seq, **e} for e in events]
        if leaf == "data":
            return self._data(payload)
        return []

    def _data(self, payload: bytes) -> list[dict[str, Any]]:
        head = codec.unpack(payload)
        points = self.births.get(head.get("b"), self.points)
        header, readings = codec.decode_data(payload, {a: p.resolution for a, p in points.items()})
        self.seqs.append(header["seq"])
        out = []
        for r in readings:
            p = points.get(r.alias)
            out.append({"seq": header["seq"], "name": p.name if p else f"alias{r.alias}",
                        "time": r.ts_ms / 1000, "value": r.value, "unit": p.unit if p else "",
                        "quality": quality_label(r.quality)})
        return out

    def records(self, timeout_s: float = 1.0) -> Iterator[dict[str, Any]]:
        """Decoded records as they arrive; stops after timeout_s with nothing new."""
        while True:
            try:
                topic, payload = self.messages.get(timeout=timeout_s)
            except queue.Empty:
                return
            yield from self.decode(topic, payload)
