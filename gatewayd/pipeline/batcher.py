"""Collects readings between flushes and encodes them once into wire payloads.

Sources on many threads call `add_many` once a poll: the readings go to the store's journal
first (one `os.write`, so a crash of the daemon from then on loses none of them), then to the
list the next flush takes. `flush` (the pipeline thread) hands them to the store as batches;
the store numbers each batch and calls back the encoder with its seq. `commit` makes the
store durable and starts a new journal segment with what is not batched yet.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

from ..model import Event, Reading
from ..store.protocol import Outgoing, Poll, Queue
from . import codec

FIELD_CHARS = 512  # an event field longer than this is cut (a 60 KB topic is not news)
EVENT_FIELDS = 32  # and an event has at most this many fields


class Batcher:
    def __init__(self, store: Queue, resolution: Mapping[int, float], birth_id: int,
                 max_readings: int = 50_000, on_put: Callable[[], None] = lambda: None) -> None:
        self.store = store
        self.resolution = dict(resolution)
        self.birth_id = birth_id
        self.max_readings = max_readings
        self.on_put = on_put
        self._lock = threading.Lock()
        self._polls: list[Poll] = []  # journaled, not yet batched: (record id, readings, events)
        self._pending = 0
        self._oldest: float | None = None  # when the first of those arrived (monotonic)
        self.arrived = threading.Event()  # set when a poll arrives and none was waiting
        self.accepted = 0
        self.refused = 0
        self.payload_bytes = 0  # of data batches accepted: the wire cost of the readings
        self.last_payload = b""
        self._adopt()

    def _adopt(self) -> None:
        """Readings a crash left journaled but unbatched come first (already journaled)."""
        rid, readings, events = self.store.take_replay()
        if readings or events:
            self._append((rid, readings, events))

    def add(self, reading: Reading) -> None:
        self.add_many((reading,))

    def add_many(self, readings: Iterable[Reading]) -> None:
        batch = readings if isinstance(readings, list) else list(readings)
        with self._lock:
            rid = self.store.journal.readings(batch)
            self._append((rid, batch, ()))

    def event(self, event: Event) -> None:
        ev = bounded(event)
        with self._lock:
            rid = self.store.journal.readings((), (ev,))
            self._append((rid, (), (ev,)))

    def _append(self, poll: Poll) -> None:
        if not self._polls:
            self._oldest = time.monotonic()
            self.arrived.set()
        self._polls.append(poll)
        self._pending += len(poll[1])

    def pending(self) -> int:
        return self._pending

    def oldest_mono(self) -> float | None:
        """When the oldest reading or event not yet flushed arrived (None: nothing waits)."""
        return self._oldest

    def flush(self) -> int:
        """Everything that arrived, as batches in the store; returns the readings taken."""
        with self._lock:
            polls, self._polls = self._polls, []
            self._pending = 0
            self._oldest = None
            self.arrived.clear()
        if not polls:
            return 0
        readings = [r for _, rs, _ in polls for r in rs]
        events = [e for _, _, es in polls for e in es]
        out = [self._data(readings[i:i + self.max_readings])
               for i in range(0, len(readings), self.max_readings)]
        if events:
            out.append(self._events(events))
        receipts = self.store.put(out, covers=polls[-1][0])
        for r in receipts:
            if r.kind != "data":
                continue
            if r.seq is None:
                self.refused += r.n
            else:
                self.accepted += r.n
                self.payload_bytes += r.size
        if any(r.seq is not None for r in receipts):
            self.on_put()
        return len(readings)

    def commit(self) -> bool:
        """Make the store durable; then the journal can start afresh with what is unbatched."""
        if not self.store.commit():
            return False
        with self._lock:
            self.store.rotate(list(self._polls))
        return True

    def _data(self, chunk: Sequence[Reading]) -> Outgoing:
        def encode(seq: int) -> bytes:
            payload = codec.encode_data(seq, chunk, self.resolution, self.birth_id)
            self.last_payload = payload
            return payload

        half = len(chunk) // 2
        return Outgoing("data", len(chunk), min(r.ts_ms for r in chunk), encode,
                        lambda: [self._data(chunk[:half]), self._data(chunk[half:])])

    def _events(self, events: Sequence[Event]) -> Outgoing:
        half = len(events) // 2
        return Outgoing("event", len(events), events[0].ts_ms,
                        lambda seq: codec.encode_events(seq, events),
                        lambda: [self._events(events[:half]), self._events(events[half:])])


def bounded(event: Event) -> Event:
    """The event with every field small: long strings cut, big structures summarised, so no
    event can make a message the broker refuses (a 60 KB topic quoted in a refusal...)."""
    fields = dict(list(event.fields.items())[:EVENT_FIELDS])
    return Event(event.ts_ms, event.kind[:FIELD_CHARS],
                 {str(k)[:64]: _small(v) for k, v in fields.items()})


def _small(value: Any, depth: int = 0) -> Any:
    if isinstance(value, str):
        if len(value) <= FIELD_CHARS:
            return value
        return f"{value[:FIELD_CHARS]}... ({len(value)} chars)"
    if isinstance(value, bytes):
        return _small(value.decode("utf-8", "replace"), depth)
    if isinstance(value, dict):
        if depth > 3:
            return f"<{len(value)} fields>"
        return {str(k)[:64]: _small(v, depth + 1) for k, v in list(value.items())[:EVENT_FIELDS]}
    if isinstance(value, (list, tuple)):
        if depth > 3:
            return f"<{len(value)} items>"
        return [_small(v, depth + 1) for v in value[:EVENT_FIELDS]]
    return value
