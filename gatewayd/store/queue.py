"""The durable queue: encoded batches in SQLite (see batchfile.py), deleted only once acked.

One row per batch, not per reading, to keep writes (and SD-card wear) low. Puts, acks and
evictions are grouped into one transaction per commit interval. A batch becomes visible to the
publisher only once committed, so a sequence number that went on the wire is never reused
after a crash.

Faults, each answered without stopping (docs/store.md has the whole story):
- full (by the byte bound): the policy applies; every dropped reading is counted, and
  `take_gap` hands the count and time range to the supervisor to publish as a `gap` event;
- the disk refuses (ENOSPC, read-only, I/O error): batches stay in memory, bounded by
  `memory_bytes` with the same policy, visible to the publisher; the disk is retried every
  `retry_s` and the memory is written to it as soon as it accepts;
- the file is corrupt (at open or later): it is moved aside and a fresh one started; the
  batches it held are counted as dropped. Faults are logged once and become events
  (`take_events`).
"""

from __future__ import annotations

import logging
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, TypeVar

from ..model import Event, now_ms
from .batchfile import Batch, BatchFile, Corrupt, DiskFault, move_aside

__all__ = ["ROW_OVERHEAD", "Batch", "Dropped", "DurableQueue", "QueueStats"]
log = logging.getLogger("gatewayd.store")
ROW_OVERHEAD = 64  # bytes a row costs beyond its payload (b-tree cell, page slack), measured
T = TypeVar("T")
NONE: list[Batch] = []  # what a failed read gives (never mutated)


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
class QueueStats:
    depth: int = 0
    readings: int = 0
    bytes: int = 0
    oldest_ts_ms: int = 0
    dropped_total: int = 0
    committed_seq: int = 0
    extra: dict[str, Any] = field(default_factory=dict)


class DurableQueue:
    def __init__(self, path: Path, max_bytes: int, commit_interval_ms: int = 1000,
                 when_full: str = "drop_oldest", clock: Callable[[], float] = time.monotonic,
                 memory_bytes: int = 8 << 20, retry_s: float = 5.0) -> None:
        self.path = Path(path)
        self.max_bytes = max_bytes
        self.memory_bytes = memory_bytes
        self.commit_interval_s = commit_interval_ms / 1000
        self.when_full = when_full
        self.retry_s = retry_s
        self.clock = clock
        self.lock = threading.RLock()
        self.file: BatchFile | None = None
        self.fault = ""  # why the disk is not in use, or "" while it is
        self._pending: dict[int, Batch] = {}  # not on disk yet, by seq (oldest first)
        self._pending_bytes = 0
        self._doomed: list[int] = []  # rows on disk to delete at the next commit (acked/evicted)
        self._gone: set[int] = set()  # the same seqs, so peek skips them
        self._evicted_to = 0  # eviction has looked at rows up to this seq
        self._top = 0  # newest seq on disk: its row is deleted last, so max(seq) never goes back
        self._last_commit = 0.0
        self._next_retry = 0.0
        self._events: list[Event] = []
        self.next_seq = 1
        self.bytes = 0  # of everything queued and unacked, on disk or in memory
        self.rows = 0
        self.readings = 0
        self.dropped = Dropped()
        self.dropped_total = 0
        self.refused_total = 0

    # -- lifecycle ---------------------------------------------------------------------------
    def open(self) -> None:
        """Open the store; never raises for a bad disk or file: see the module docstring."""
        with self.lock:
            self._last_commit = self.clock()
            self._attach()

    def _attach(self) -> bool:
        try:
            self.file = self._open_file()
        except DiskFault as e:
            if not self.fault and self.next_seq == 1:  # history unknown: never reuse a seq
                self.next_seq = now_ms()
            self._degrade(e)
            return False
        t = self.file.totals()
        self.rows += t.rows
        self.readings += t.readings
        self.bytes += t.payload_bytes + t.rows * ROW_OVERHEAD
        self.next_seq = max(self.next_seq, t.max_seq + 1)
        self._top = max(self._top, t.max_seq)
        return True

    def _open_file(self) -> BatchFile:
        try:
            return BatchFile.open(self.path)
        except Corrupt as e:
            self._set_aside(e, lost=None)
            # the old file's seqs are unknown: continue above anything it can have used
            return BatchFile.open(self.path, first_seq=max(self.next_seq, now_ms()))

    def _set_aside(self, e: Exception, lost: tuple[int, int] | None) -> None:
        aside = move_aside(self.path)
        log.error("store %s is corrupt (%s): moved aside to %s, starting a fresh one",
                  self.path, e, aside.name)
        fields: dict[str, Any] = {"path": str(self.path), "moved_to": str(aside), "error": str(e)}
        if lost is not None:
            fields |= {"lost_batches": lost[0], "lost_readings": lost[1]}
        self._event("store_corrupt", fields)

    def close(self) -> None:
        with self.lock:
            self._next_retry = 0.0
            self.commit(final=True)
            if self._pending:
                log.error("store %s: %d batches (%d readings) only in memory are lost at exit: "
                          "%s", self.path, len(self._pending),
                          sum(b.n for b in self._pending.values()), self.fault)
            if self.file is not None:
                self.file.close()
                self.file = None

    # -- producing ---------------------------------------------------------------------------
    def put(self, kind: str, payload: bytes, n: int, ts_ms: int) -> int | None:
        """Queue a batch; returns its sequence number, or None if the policy refused it.
        Event batches are small and always taken: a gap report must not be dropped itself."""
        with self.lock:
            payload = pack(payload)
            cost = len(payload) + ROW_OVERHEAD
            if kind == "data" and not self._make_room(cost):
                self.refused_total += n
                self._drop(n, ts_ms)
                return None
            seq = self.next_seq
            self.next_seq += 1
            self._pending[seq] = Batch(seq, kind, ts_ms, n, payload)
            self._pending_bytes += cost
            self._count(1, n, cost)
            return seq

    def _over(self, cost: int) -> bool:
        if self.fault:
            return self._pending_bytes + cost > self.memory_bytes
        return self.bytes + cost > self.max_bytes

    def full(self) -> bool:
        return self._over(1)

    def _make_room(self, cost: int) -> bool:
        while self._over(cost):
            if self.when_full != "drop_oldest" or not self._evict_oldest():
                return False
        return True

    def _evict_oldest(self) -> bool:
        """Drop the oldest data batch: from disk (deleted at the next commit), else memory."""
        batch = None if self.fault else self._oldest_on_disk()
        if batch is not None:
            self._evicted_to = batch.seq
            self._doom(batch.seq)
        else:
            batch = next((b for b in self._pending.values() if b.kind == "data"), None)
            if batch is None:
                return False
            del self._pending[batch.seq]
            self._pending_bytes -= len(batch.payload) + ROW_OVERHEAD
        self._count(-1, -batch.n, -(len(batch.payload) + ROW_OVERHEAD))
        self._drop(batch.n, batch.ts_ms)
        return True

    def _oldest_on_disk(self) -> Batch | None:
        after = self._evicted_to
        heads = self._disk(lambda f: f.heads(after, len(self._gone) + 1, "data"), NONE)
        return next((b for b in heads if b.seq not in self._gone), None)

    def _count(self, rows: int, readings: int, size: int) -> None:
        self.rows += rows
        self.readings += readings
        self.bytes += size

    def _drop(self, n: int, ts_ms: int) -> None:
        self.dropped.add(n, ts_ms)
        self.dropped_total += n

    def _doom(self, seq: int) -> None:
        self._gone.add(seq)
        self._doomed.append(seq)

    def take_gap(self) -> Dropped | None:
        """The drops since the last call (to report as a gap event), or None."""
        with self.lock:
            if not self.dropped.readings:
                return None
            gap, self.dropped = self.dropped, Dropped()
            return gap

    def take_events(self) -> list[Event]:
        """Faults and recoveries since the last call, to publish as events."""
        with self.lock:
            events, self._events = self._events, []
            return events

    def _event(self, kind: str, fields: dict[str, Any]) -> None:
        self._events.append(Event(now_ms(), kind, fields))

    # -- committing --------------------------------------------------------------------------
    def commit_due(self) -> bool:
        return self.clock() - self._last_commit >= self.commit_interval_s

    def maybe_commit(self) -> None:
        if self.commit_due():
            self.commit()

    def commit(self, final: bool = False) -> None:
        """Write pending puts and deletes in one transaction (while the disk fails: only when
        a retry is due, and the batches stay in memory until it succeeds). The newest row stays
        until a newer one is written, unless `final` records the seq floor instead."""
        with self.lock:
            self._last_commit = self.clock()
            if self.fault and self.clock() < self._next_retry:
                return
            if self.file is None and not self._attach():
                return
            if not (self._pending or self._doomed or final):
                return
            puts = list(self._pending.values())
            top = max(self._top, puts[-1].seq if puts else 0)
            later = [] if final else [s for s in self._doomed if s == top]
            doomed = [s for s in self._doomed if s not in later]
            floor = self.next_seq - 1 if final else 0

            def write(f: BatchFile) -> bool:
                f.write(puts, doomed, floor)
                return True

            if not self._disk(write, False):
                return
            self._top = top
            self._pending.clear()
            self._pending_bytes = 0
            self._gone.difference_update(doomed)
            self._doomed = later
            if self.fault:
                self._recovered(len(puts))

    def _disk(self, op: Callable[[BatchFile], T], failed: T) -> T:
        """Run op on the file; a disk fault or corruption is handled here, and gives `failed`."""
        if self.file is None:
            return failed
        try:
            return op(self.file)
        except DiskFault as e:
            self._degrade(e)
        except Corrupt as e:
            self._replace_corrupt(e)
        return failed

    def _degrade(self, e: Exception) -> None:
        if not self.fault:
            log.error("store %s cannot be used (%s): keeping up to %.1f MB in memory, retrying "
                      "every %g s", self.path, e, self.memory_bytes / 2**20, self.retry_s)
            self._event("store_fault", {"path": str(self.path), "error": str(e)})
        self.fault = str(e)
        self._next_retry = self.clock() + self.retry_s

    def _recovered(self, moved: int) -> None:
        log.info("store %s is writable again: %d batches moved from memory to disk",
                 self.path, moved)
        self._event("store_recovered", {"path": str(self.path), "batches": moved,
                                        "fault": self.fault})
        self.fault = ""

    def _replace_corrupt(self, e: Exception) -> None:
        """The file went bad while running: set it aside, keep what is in memory."""
        lost_rows = self.rows - len(self._pending)
        lost_readings = self.readings - sum(b.n for b in self._pending.values())
        self.file.db.close() if self.file else None
        self.file = None
        try:
            self._set_aside(e, (lost_rows, lost_readings))
        except DiskFault as fault:
            self._degrade(fault)
        self.dropped_total += lost_readings
        self.rows, self.bytes = len(self._pending), self._pending_bytes
        self.readings = sum(b.n for b in self._pending.values())
        self._gone.clear()
        self._doomed = []
        self._top = 0
        self.next_seq = max(self.next_seq, now_ms())

    # -- consuming ---------------------------------------------------------------------------
    def peek(self, after_seq: int = 0, limit: int = 16,
             before_seq: int | None = None) -> list[Batch]:
        """Unacked batches with after_seq < seq (< before_seq), oldest first: committed ones,
        and while the disk fails also those held in memory."""
        with self.lock:
            upper = before_seq if before_seq is not None else self.next_seq
            rows = self._disk(lambda f: f.batches(after_seq, upper, limit + len(self._gone)), NONE)
            out = [b for b in rows if b.seq not in self._gone][:limit]
            if self.fault and len(out) < limit:
                out += [b for s, b in self._pending.items() if after_seq < s < upper]
            return [replace(b, payload=unpack(b.payload)) for b in out[:limit]]

    def ack(self, seq: int) -> None:
        """The broker has the batch: delete it at the next commit (a crash before that only
        means the consumer may see it twice, which its seq makes detectable)."""
        with self.lock:
            if seq in self._gone:
                return
            held = self._pending.pop(seq, None)
            if held is not None:
                self._pending_bytes -= len(held.payload) + ROW_OVERHEAD
                self._count(-1, -held.n, -(len(held.payload) + ROW_OVERHEAD))
                return
            found = self._disk(lambda f: f.size_of(seq), None)
            if found is not None:
                self._doom(seq)
                self._count(-1, -found[0], -(found[1] + ROW_OVERHEAD))

    def oldest_ts_ms(self) -> int:
        """Time of the oldest unacked batch (0 if none)."""
        with self.lock:
            heads = self._disk(lambda f: f.heads(0, len(self._gone) + 1), NONE)
            first = next((b for b in heads if b.seq not in self._gone), None)
            if first is None:
                first = next(iter(self._pending.values()), None)
            return first.ts_ms if first else 0

    def stats(self) -> QueueStats:
        with self.lock:
            memory = len(self._pending) if self.fault else 0
            return QueueStats(self.rows, self.readings, self.bytes, self.oldest_ts_ms(),
                              self.dropped_total, self.next_seq - 1,
                              {"fault": self.fault, "in_memory": memory})


def pack(payload: bytes) -> bytes:
    """What the disk keeps: zlib at level 1 writes ~40 % fewer bytes for our msgpack batches
    (docs/store.md); kept as is when that does not help."""
    packed = zlib.compress(payload, 1)
    return packed if len(packed) < len(payload) or payload[:1] == b"\x78" else payload


def unpack(stored: bytes) -> bytes:
    # A zlib stream starts with 0x78; a wire payload (a msgpack map) never does.
    return zlib.decompress(stored) if stored[:1] == b"\x78" else stored
