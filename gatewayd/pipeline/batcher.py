"""Collects readings for one publish interval and encodes them once into the wire payload.

Sources on many threads call `add`; a deque append is atomic, so producers never wait on the
encoder. `flush` (one thread) turns what arrived into data and event batches in the store.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Mapping
from functools import partial

from ..model import Event, Reading
from ..store.queue import DurableQueue
from . import codec


class Batcher:
    def __init__(self, store: DurableQueue, resolution: Mapping[int, float], birth_id: int,
                 max_readings: int = 50_000, on_put: Callable[[], None] = lambda: None) -> None:
        self.store = store
        self.resolution = dict(resolution)
        self.birth_id = birth_id
        self.max_readings = max_readings
        self.on_put = on_put
        self._readings: deque[Reading] = deque()
        self._events: deque[Event] = deque()
        self.accepted = 0
        self.refused = 0
        self.payload_bytes = 0  # of data batches accepted: the wire cost of the readings
        self.last_payload = b""

    def add(self, reading: Reading) -> None:
        self._readings.append(reading)

    def add_many(self, readings: Iterable[Reading]) -> None:
        self._readings.extend(readings)

    def event(self, event: Event) -> None:
        self._events.append(event)

    def pending(self) -> int:
        return len(self._readings)

    def flush(self) -> int:
        """Encode everything that arrived into batches in the store; returns readings taken."""
        taken = 0
        while self._readings:
            size = min(self.max_readings, len(self._readings))
            chunk = [self._readings.popleft() for _ in range(size)]
            taken += len(chunk)
            self._put("data", len(chunk), partial(self._encode_readings, chunk),
                      min(r.ts_ms for r in chunk))
        if self._events:
            events = [self._events.popleft() for _ in range(len(self._events))]
            self._put("event", len(events), partial(codec.encode_events, events=events),
                      events[0].ts_ms)
        return taken

    def _encode_readings(self, chunk: list[Reading], seq: int) -> bytes:
        return codec.encode_data(seq, chunk, self.resolution, self.birth_id)

    def _put(self, kind: str, n: int, encode: Callable[[int], bytes], ts_ms: int) -> None:
        # The payload carries its own sequence number, so it is encoded for the seq it gets.
        seq = self.store.next_seq
        payload = encode(seq)
        seq_got = self.store.put(kind, payload, n, ts_ms)
        if seq_got is None:
            self.refused += n
            return
        assert seq_got == seq
        if kind == "data":
            self.accepted += n
            self.payload_bytes += len(payload)
            self.last_payload = payload
        self.on_put()
