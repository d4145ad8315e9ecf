"""What a queue is, whichever keeps it: the `Queue` protocol and the records it deals in.

Three implementations keep one contract (tests/store/test_queue_contract.py runs the same suite
against each): `MemoryQueue` (memory only: tests, benches), `DurableQueue` (SQLite file +
journal) and the same `DurableQueue` while its disk fails, when it falls back to memory.

The queue assigns every sequence number: a producer hands it `Outgoing` batches whose
`encode(seq)` makes the wire bytes for the seq it is given, and nothing upstream guesses it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from ..model import Event, Reading

ROW_OVERHEAD = 64  # bytes a row costs beyond its payload (b-tree cell, page slack), measured
RESERVE = 10_000  # seqs reserved ahead on disk, so a power cut never reuses one


@dataclass(frozen=True)
class Batch:
    seq: int
    kind: str  # 'data' or 'event': the topic it goes to
    ts_ms: int  # time of the oldest reading in it
    n: int  # readings (or events) it carries
    payload: bytes


@dataclass(frozen=True)
class Aside:
    """A batch the broker never took, kept on disk and out of the way (see docs/store.md)."""

    seq: int
    kind: str
    ts_ms: int
    n: int
    size: int
    reason: str
    at_ms: int


@dataclass(frozen=True)
class Outgoing:
    """A batch to be: the queue numbers it and calls encode(seq). If the bytes come out larger
    than the queue's `max_message_bytes`, it calls split() and queues the halves instead."""

    kind: str
    n: int
    ts_ms: int
    encode: Callable[[int], bytes]
    split: Callable[[], Sequence[Outgoing]] | None = None


@dataclass(frozen=True)
class Receipt:
    """What became of one batch handed to `put`: its seq, or None when the policy refused it."""

    seq: int | None
    kind: str
    n: int
    size: int  # wire bytes


@dataclass
class Dropped:
    """What the policy threw away since it was last reported (a gap)."""

    readings: int = 0
    batches: int = 0
    first_ts_ms: int = 0
    last_ts_ms: int = 0

    def add(self, n: int, ts_ms: int) -> None:
        self.readings += n
        self.batches += 1
        self.first_ts_ms = min(self.first_ts_ms or ts_ms, ts_ms)
        self.last_ts_ms = max(self.last_ts_ms, ts_ms)


@dataclass
class Totals:
    """Batches, readings and bytes queued: kept in this one place, counted as they change."""

    rows: int = 0
    readings: int = 0
    bytes: int = 0

    def add(self, n: int, size: int, sign: int = 1) -> None:
        self.rows += sign
        self.readings += sign * n
        self.bytes += sign * (size + ROW_OVERHEAD)


@dataclass
class QueueStats:
    depth: int = 0
    readings: int = 0
    bytes: int = 0
    oldest_ts_ms: int = 0
    dropped_total: int = 0
    committed_seq: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


Poll = tuple[int, Sequence[Reading], Sequence[Event]]  # a journal record id and what it holds


class Journal(Protocol):
    """Where a producer writes each poll the moment it is read (store/journal.py)."""

    def readings(self, readings: Sequence[Reading], events: Sequence[Event] = ()) -> int: ...


class Queue(Protocol):
    """Batches in seq order, each deleted only once acked; see the module docstring."""

    journal: Journal
    when_full: str
    max_message_bytes: int

    @property
    def next_seq(self) -> int: ...
    def open(self) -> None: ...
    def close(self) -> None: ...
    def put(self, batches: Sequence[Outgoing], covers: int = 0) -> list[Receipt]: ...
    def peek(self, after_seq: int = 0, limit: int = 16, before_seq: int | None = None,
             kind: str | None = None) -> list[Batch]: ...
    def ack(self, seq: int) -> None: ...
    def set_aside(self, seq: int, reason: str) -> Aside | None: ...
    def aside(self) -> list[Aside]: ...
    def restore(self, seqs: Sequence[int] | None = None) -> int: ...
    def full(self) -> bool: ...
    def commit_due(self) -> bool: ...
    def commit(self, final: bool = False) -> bool: ...
    def rotate(self, carry: Sequence[Poll]) -> None: ...
    def take_replay(self) -> tuple[int, list[Reading], list[Event]]: ...
    def take_gap(self) -> Dropped | None: ...
    def take_events(self) -> list[Event]: ...
    def stats(self) -> QueueStats: ...
