"""`MemoryQueue`: the queue held in memory, and the base `DurableQueue` builds on.

Everything the contract asks that does not involve a disk lives here: numbering, the byte
bound and its policy, gap counting, acks, set-aside batches and the totals (kept in one
`Totals`, never recounted). DurableQueue adds the SQLite file and the journal through the
hooks marked below (`_over`, `_evict_oldest`, `_disk_rows`, ...).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from ..model import Event, Reading, now_ms
from .protocol import (
    ROW_OVERHEAD,
    Aside,
    Batch,
    Dropped,
    Outgoing,
    Poll,
    QueueStats,
    Receipt,
    Totals,
)

_MAX_SPLITS = 24  # a batch halved this often is down to one reading: queued as it is


class NoJournal:
    """The journal of a queue that keeps nothing across a crash: it only numbers the polls."""

    def __init__(self) -> None:
        self.next_rid = 1
        self._lock = threading.Lock()

    def readings(self, readings: Sequence[Reading], events: Sequence[Event] = ()) -> int:
        with self._lock:
            rid = self.next_rid
            self.next_rid += 1
            return rid


class MemoryQueue:
    """Batches in memory, bounded by `max_bytes` with the `when_full` policy."""

    def __init__(self, max_bytes: int, when_full: str = "drop_oldest",
                 commit_interval_ms: int = 1000, clock: Callable[[], float] = time.monotonic,
                 max_message_bytes: int = 0) -> None:
        self.max_bytes = max_bytes
        self.when_full = when_full
        self.max_message_bytes = max_message_bytes  # 0: no limit (the broker may set one)
        self.commit_interval_s = commit_interval_ms / 1000
        self.clock = clock
        self.lock = threading.RLock()
        self.journal: Any = NoJournal()
        self.totals = Totals()
        self._held: dict[int, Batch] = {}  # in memory, by seq, ascending
        self._held_bytes = 0
        self._aside: dict[int, tuple[Aside, Batch]] = {}  # set aside, kept in memory
        self._next = 1
        self._last_commit = 0.0
        self._events: list[Event] = []
        self.dropped = Dropped()
        self.dropped_total = 0
        self.refused_total = 0

    @property
    def next_seq(self) -> int:
        """The seq the next batch will get (the publisher splits live from backlog by it)."""
        return self._next

    # -- lifecycle ---------------------------------------------------------------------------
    def open(self) -> None:
        self._last_commit = self.clock()

    def close(self) -> None:
        self.commit(final=True)

    # -- producing ---------------------------------------------------------------------------
    def put(self, batches: Sequence[Outgoing], covers: int = 0) -> list[Receipt]:
        """Number, encode and queue the batches of one flush; data batches obey the policy
        (refused ones get no seq), event batches are always taken: a gap report must not
        be dropped itself. `covers`: the last journal record these batches hold."""
        with self.lock:
            made: list[Batch] = []
            out = [r for ob in batches for r in self._put_one(ob, made, 0)]
            self._journal_batches(covers, made)
            return out

    def _put_one(self, ob: Outgoing, made: list[Batch], depth: int) -> list[Receipt]:
        seq = self._next
        payload = ob.encode(seq)
        limit = self.max_message_bytes
        if limit and len(payload) > limit and ob.split is not None and depth < _MAX_SPLITS:
            parts = ob.split()
            if len(parts) > 1:
                return [r for p in parts for r in self._put_one(p, made, depth + 1)]
        stored = self._stored(payload)
        if ob.kind == "data" and not self._make_room(len(stored) + ROW_OVERHEAD):
            self.refused_total += ob.n
            self._drop(ob.n, ob.ts_ms)
            return [Receipt(None, ob.kind, ob.n, len(payload))]
        self._next += 1
        batch = Batch(seq, ob.kind, ob.ts_ms, ob.n, stored)
        self._hold(batch)
        made.append(batch)
        return [Receipt(seq, ob.kind, ob.n, len(payload))]

    def _hold(self, batch: Batch) -> None:
        self._held[batch.seq] = batch
        self._held_bytes += len(batch.payload) + ROW_OVERHEAD
        self.totals.add(batch.n, len(batch.payload))

    def _unhold(self, seq: int) -> Batch | None:
        batch = self._held.pop(seq, None)
        if batch is not None:
            self._held_bytes -= len(batch.payload) + ROW_OVERHEAD
            self.totals.add(batch.n, len(batch.payload), -1)
        return batch

    def full(self) -> bool:
        with self.lock:
            return self._over(1)

    def _make_room(self, cost: int) -> bool:
        while self._over(cost):
            if self.when_full != "drop_oldest" or not self._evict_oldest():
                return False
        return True

    def _drop(self, n: int, ts_ms: int) -> None:
        self.dropped.add(n, ts_ms)
        self.dropped_total += n

    def _evict_held(self) -> bool:
        batch = next((b for b in self._held.values() if b.kind == "data"), None)
        if batch is None:
            return False
        self._unhold(batch.seq)
        self._drop(batch.n, batch.ts_ms)
        return True

    # -- hooks DurableQueue overrides --------------------------------------------------------
    def _over(self, cost: int) -> bool:
        return self.totals.bytes + cost > self.max_bytes

    def _evict_oldest(self) -> bool:
        return self._evict_held()

    def _stored(self, payload: bytes) -> bytes:
        return payload

    def _wire(self, stored: bytes) -> bytes:
        return stored

    def _journal_batches(self, covers: int, made: list[Batch]) -> None:
        pass

    def _disk_rows(self, after: int, before: int, limit: int, kind: str | None) -> list[Batch]:
        return []

    def _ack_disk(self, seq: int) -> None:
        pass

    def _aside_disk(self, seq: int, reason: str, at_ms: int) -> Aside | None:
        return None

    def _restore_disk(self, seqs: Sequence[int] | None) -> int:
        return 0

    def _aside_on_disk(self) -> list[Aside]:
        return []

    def _oldest_disk_ts(self) -> int:
        return 0

    def _extra(self) -> dict[str, Any]:
        return {}

    # -- consuming ---------------------------------------------------------------------------
    def peek(self, after_seq: int = 0, limit: int = 16, before_seq: int | None = None,
             kind: str | None = None) -> list[Batch]:
        """Queued batches with after_seq < seq (< before_seq), oldest first, of one kind if
        given: on disk and in memory alike (a batch is sent before it is committed: the
        journal already keeps it across a crash, and its seq is reserved on disk)."""
        with self.lock:
            upper = before_seq if before_seq is not None else self._next
            out = self._disk_rows(after_seq, upper, limit, kind)
            if len(out) < limit:
                out += list(self._held_range(after_seq, upper, kind, limit - len(out)))
            return [Batch(b.seq, b.kind, b.ts_ms, b.n, self._wire(b.payload)) for b in out]

    def _held_range(self, after: int, before: int, kind: str | None, limit: int
                    ) -> Iterator[Batch]:
        for seq, b in self._held.items():
            if limit <= 0 or seq >= before:
                return
            if seq > after and (kind is None or b.kind == kind):
                limit -= 1
                yield b

    def ack(self, seq: int) -> None:
        """The broker has the batch: forget it (a crash before the delete reaches the disk
        only means the consumer may see it twice, which its seq makes detectable)."""
        with self.lock:
            if self._unhold(seq) is None:
                self._ack_disk(seq)

    # -- set aside: batches the broker will not take ---------------------------------------
    def set_aside(self, seq: int, reason: str) -> Aside | None:
        """Move a batch out of the queue, kept (on disk when there is one) and counted, so
        everything behind it flows; a `batch_set_aside` event names it."""
        with self.lock:
            at = now_ms()
            batch = self._unhold(seq)
            if batch is None:
                found = self._aside_disk(seq, reason, at)
            else:
                found = self._keep_aside(batch, reason, at)
            if found is not None:
                self._event("batch_set_aside", {
                    "seq_from": seq, "seq_to": seq, "batch_kind": found.kind, "readings": found.n,
                    "bytes": found.size, "reason": reason[:200]})
            return found

    def _keep_aside(self, batch: Batch, reason: str, at_ms: int) -> Aside | None:
        aside = Aside(batch.seq, batch.kind, batch.ts_ms, batch.n, len(batch.payload), reason,
                      at_ms)
        self._aside[batch.seq] = (aside, batch)
        return aside

    def aside(self) -> list[Aside]:
        with self.lock:
            found = self._aside_on_disk() + [a for a, _ in self._aside.values()]
            return sorted(found, key=lambda a: a.seq)

    def restore(self, seqs: Sequence[int] | None = None) -> int:
        """Queue set-aside batches again (all, or those seqs), same seq and bytes."""
        with self.lock:
            picked = [s for s in self._aside if seqs is None or s in seqs]
            for s in picked:
                self._hold(self._aside.pop(s)[1])
            self._held = dict(sorted(self._held.items()))
            moved = len(picked) + self._restore_disk(seqs)
            if moved:
                self._event("batches_restored", {"batches": moved})
            return moved

    # -- committing --------------------------------------------------------------------------
    def commit_due(self) -> bool:
        return self.clock() - self._last_commit >= self.commit_interval_s

    def commit(self, final: bool = False) -> bool:
        """Nothing to make durable in memory; True means the journal may be rotated."""
        with self.lock:
            self._last_commit = self.clock()
            return True

    def rotate(self, carry: Sequence[Poll]) -> None:
        pass

    def take_replay(self) -> tuple[int, list[Reading], list[Event]]:
        """Readings journaled before a crash and not yet batched (none in memory)."""
        return 0, [], []

    # -- reporting ---------------------------------------------------------------------------
    def take_gap(self) -> Dropped | None:
        """The drops since the last call (to report as a gap event), or None."""
        with self.lock:
            if not self.dropped.readings:
                return None
            gap, self.dropped = self.dropped, Dropped()
            return gap

    def take_events(self) -> list[Event]:
        """Faults, recoveries and set-aside batches since the last call, to publish."""
        with self.lock:
            events, self._events = self._events, []
            return events

    def _event(self, kind: str, fields: dict[str, Any]) -> None:
        self._events.append(Event(now_ms(), kind, fields))

    def stats(self) -> QueueStats:
        with self.lock:
            oldest = self._oldest_disk_ts()
            if not oldest and self._held:
                oldest = next(iter(self._held.values())).ts_ms
            aside = self.aside()
            return QueueStats(self.totals.rows, self.totals.readings, self.totals.bytes, oldest,
                              self.dropped_total, self._next - 1,
                              {"aside": len(aside), "aside_bytes": sum(a.size for a in aside),
                               **self._extra()})
