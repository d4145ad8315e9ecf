"""The durable queue: encoded batches in SQLite (WAL), deleted only once the broker acked them.

One row per batch, not per reading, to keep writes (and SD-card wear) low. Puts and acks are
grouped into one transaction per commit interval. A batch becomes visible to the publisher
only once committed, so a sequence number that went on the wire is never reused after a crash.

Durability (see docs/store.md): `synchronous=FULL` makes every commit survive a power cut;
a kill -9 or crash loses at most the batches put since the last commit.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import StoreError

SCHEMA = """
CREATE TABLE IF NOT EXISTS batches (
    seq     INTEGER PRIMARY KEY AUTOINCREMENT,
    kind    TEXT NOT NULL,            -- 'data' or 'event': the topic it goes to
    ts_ms   INTEGER NOT NULL,         -- time of the oldest reading in it
    n       INTEGER NOT NULL,         -- readings (or events) it carries
    payload BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""
ROW_OVERHEAD = 64  # rough bytes a row costs beyond its payload, for the byte bound


@dataclass(frozen=True)
class Batch:
    seq: int
    kind: str
    ts_ms: int
    n: int
    payload: bytes


@dataclass
class Dropped:
    """What the eviction policy threw away since it was last reported (a gap)."""

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
    extra: dict[str, int] = field(default_factory=dict)


class DurableQueue:
    def __init__(self, path: Path, max_bytes: int, commit_interval_ms: int = 1000,
                 when_full: str = "drop_oldest", clock: Callable[[], float] = time.monotonic) -> None:
        self.path = Path(path)
        self.max_bytes = max_bytes
        self.commit_interval_s = commit_interval_ms / 1000
        self.when_full = when_full
        self.clock = clock
        self.lock = threading.RLock()
        self.db: sqlite3.Connection | None = None
        self._pending: list[Batch] = []
        self._acks: list[int] = []
        self._acked: set[int] = set()
        self._last_commit = 0.0
        self.next_seq = 1
        self.bytes = 0
        self.rows = 0
        self.readings = 0
        self.dropped = Dropped()
        self.dropped_total = 0
        self.refused_total = 0

    # -- lifecycle ---------------------------------------------------------------------------
    def open(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        try:
            db = sqlite3.connect(self.path, check_same_thread=False, isolation_level=None)
            db.execute("PRAGMA journal_mode=WAL")
            db.execute("PRAGMA synchronous=FULL")
            db.executescript(SCHEMA)
            row = db.execute("PRAGMA quick_check").fetchone()
            if row[0] != "ok":
                raise sqlite3.DatabaseError(row[0])
        except sqlite3.DatabaseError as e:
            raise StoreError(f"{self.path}: {e}") from e
        self.db = db
        self._load_counters()
        self._last_commit = self.clock()

    def _load_counters(self) -> None:
        assert self.db is not None
        n, size, readings = self.db.execute(
            "SELECT count(*), coalesce(sum(length(payload)), 0), coalesce(sum(n), 0) FROM batches"
        ).fetchone()
        self.rows, self.readings = n, readings
        self.bytes = size + n * ROW_OVERHEAD
        row = self.db.execute("SELECT seq FROM sqlite_sequence WHERE name='batches'").fetchone()
        self.next_seq = (row[0] if row else 0) + 1

    def close(self) -> None:
        with self.lock:
            if self.db is None:
                return
            self.commit()
            self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            self.db.close()
            self.db = None

    # -- producing ---------------------------------------------------------------------------
    def put(self, kind: str, payload: bytes, n: int, ts_ms: int) -> int | None:
        """Queue a batch; returns its sequence number, or None if the policy refused it."""
        with self.lock:
            cost = len(payload) + ROW_OVERHEAD
            if self.bytes + cost > self.max_bytes and not self._make_room(cost):
                self.refused_total += n
                self.dropped.add(n, ts_ms)
                self.dropped_total += n
                return None
            seq = self.next_seq
            self.next_seq += 1
            self._pending.append(Batch(seq, kind, ts_ms, n, payload))
            self.bytes += cost
            self.rows += 1
            self.readings += n
            return seq

    def _make_room(self, cost: int) -> bool:
        if self.when_full != "drop_oldest":
            return False
        self.commit()
        assert self.db is not None
        while self.bytes + cost > self.max_bytes:
            row = self.db.execute(
                "SELECT seq, n, ts_ms, length(payload) FROM batches ORDER BY seq LIMIT 1"
            ).fetchone()
            if row is None:
                return False
            seq, n, ts, size = row
            self.db.execute("DELETE FROM batches WHERE seq=?", (seq,))
            self._forget(seq, n, size)
            self.dropped.add(n, ts)
            self.dropped_total += n
        return True

    def _forget(self, seq: int, n: int, size: int) -> None:
        self.bytes -= size + ROW_OVERHEAD
        self.rows -= 1
        self.readings -= n

    def full(self) -> bool:
        return self.bytes >= self.max_bytes

    def take_gap(self) -> Dropped | None:
        """The drops since the last call (to report as a gap event), or None."""
        with self.lock:
            if not self.dropped.readings:
                return None
            gap, self.dropped = self.dropped, Dropped()
            return gap

    # -- committing --------------------------------------------------------------------------
    def commit_due(self) -> bool:
        return self.clock() - self._last_commit >= self.commit_interval_s

    def maybe_commit(self) -> None:
        if self.commit_due():
            self.commit()

    def commit(self) -> None:
        """Write pending puts and acks in one transaction."""
        with self.lock:
            self._last_commit = self.clock()
            if self.db is None or not (self._pending or self._acks):
                return
            pending, acks = self._pending, self._acks
            try:
                self.db.execute("BEGIN")
                self.db.executemany(
                    "INSERT INTO batches(seq, kind, ts_ms, n, payload) VALUES (?,?,?,?,?)",
                    [(b.seq, b.kind, b.ts_ms, b.n, b.payload) for b in pending],
                )
                self.db.executemany("DELETE FROM batches WHERE seq=?", [(s,) for s in acks])
                self.db.execute("COMMIT")
            except sqlite3.Error as e:
                self.db.execute("ROLLBACK") if self.db.in_transaction else None
                raise StoreError(f"{self.path}: commit failed: {e}") from e
            self._pending, self._acks = [], []
            self._acked.difference_update(acks)

    # -- consuming ---------------------------------------------------------------------------
    def peek(self, after_seq: int = 0, limit: int = 16, before_seq: int | None = None) -> list[Batch]:
        """Committed, unacked batches with after_seq < seq (< before_seq), oldest first."""
        with self.lock:
            if self.db is None:
                return []
            upper = before_seq if before_seq is not None else self.next_seq
            rows = self.db.execute(
                "SELECT seq, kind, ts_ms, n, payload FROM batches WHERE seq > ? AND seq < ? "
                "ORDER BY seq LIMIT ?", (after_seq, upper, limit + len(self._acked)),
            ).fetchall()
            out = [Batch(*r) for r in rows if r[0] not in self._acked]
            return out[:limit]

    def ack(self, seq: int) -> None:
        """The broker has the batch: delete it at the next commit (a crash before that only
        means the consumer may see it twice, which its seq makes detectable)."""
        with self.lock:
            if seq in self._acked:
                return
            row = self.db.execute("SELECT n, length(payload) FROM batches WHERE seq=?", (seq,)).fetchone() if self.db else None
            if row is None:
                return
            self._acked.add(seq)
            self._acks.append(seq)
            self._forget(seq, row[0], row[1])

    def oldest_ts_ms(self) -> int:
        with self.lock:
            if self.db is None:
                return 0
            row = self.db.execute("SELECT min(ts_ms) FROM batches").fetchone()
            return row[0] or 0

    def stats(self) -> QueueStats:
        with self.lock:
            return QueueStats(self.rows, self.readings, self.bytes, self.oldest_ts_ms(),
                              self.dropped_total, self.next_seq - 1)
