"""`DurableQueue`: the queue kept in a SQLite file (batchfile.py) and a journal (journal.py).

One row per batch, not per reading, to keep writes (and SD-card wear) low. A batch is sent as
soon as it is queued: the journal already holds it against a crash of the process, and its
seq lies below a reservation fsynced in the file, so no seq is ever used twice even after a
power cut. Once a commit interval, the batches still unacked are written in one transaction
(with the deletes of acked and evicted ones) and the journal starts a new segment; batches
acked before that never reach the file at all.

Faults, each answered without stopping (docs/store.md has the whole story):
- full (by the byte bound): the policy applies; every dropped reading is counted, and
  `take_gap` hands the count and time range to the supervisor to publish as a `gap` event;
- the disk refuses (ENOSPC, read-only, I/O error): batches stay in memory, bounded by
  `memory_bytes` with the same policy (the fallback); the disk is retried every `retry_s`
  and the memory is written to it as soon as it accepts;
- the file is corrupt (at open or later): it is moved aside and a fresh one started; the
  batches it held are counted as dropped. Faults are logged once and become events.
"""

from __future__ import annotations

import json
import logging
import time
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from ..model import Event, Reading, now_ms
from .batchfile import BatchFile, Corrupt, DiskFault, Row, move_aside
from .journal import Journal, Replay
from .memory import MemoryQueue
from .protocol import RESERVE, ROW_OVERHEAD, Aside, Batch, Dropped, Poll, QueueStats, Receipt

__all__ = ["ROW_OVERHEAD", "Batch", "Dropped", "DurableQueue", "MemoryQueue", "QueueStats",
           "Receipt"]
log = logging.getLogger("gatewayd.store")
T = TypeVar("T")
NO_ROWS: list[Row] = []  # what a failed read gives (never mutated)
NO_BATCHES: list[Batch] = []
NO_SEQS: set[int] = set()


class DurableQueue(MemoryQueue):
    def __init__(self, path: Path, max_bytes: int, commit_interval_ms: int = 1000,
                 when_full: str = "drop_oldest", clock: Callable[[], float] = time.monotonic,
                 memory_bytes: int = 8 << 20, retry_s: float = 5.0,
                 max_message_bytes: int = 0) -> None:
        super().__init__(max_bytes, when_full, commit_interval_ms, clock, max_message_bytes)
        self.path = Path(path)
        self.memory_bytes = memory_bytes
        self.retry_s = retry_s
        self.journal = Journal(self.path)
        self.file: BatchFile | None = None
        self.fault = ""  # why the disk is not in use, or "" while it is
        self._doomed: list[int] = []  # rows on disk to delete at the next commit (acked/evicted)
        self._gone: set[int] = set()  # the same seqs, so peek skips them
        self._evicted_to = 0  # eviction has looked at rows up to this seq
        self._reserved = 0  # seqs below this are reserved on disk
        self._was_clean = True  # the file was closed cleanly last time
        self._marked = False  # the file says it is in use (written at the first commit)
        self._next_retry = 0.0
        self._replay: tuple[int, list[Reading], list[Event]] = (0, [], [])

    # -- lifecycle ---------------------------------------------------------------------------
    def open(self) -> None:
        """Open the store and replay the journal; never raises for a bad disk or file."""
        with self.lock:
            self._last_commit = self.clock()
            attached = self._attach()
            self._replay_journal(attached)
            self._apply_resend_request()

    def _attach(self) -> bool:
        try:
            self.file = self._open_file()
        except DiskFault as e:
            if not self.fault and self._next == 1:  # history unknown: never reuse a seq
                self._next = now_ms()
            self._degrade(e)
            return False
        t = self.file.totals()
        self.totals.rows += t.rows
        self.totals.readings += t.readings
        self.totals.bytes += t.payload_bytes + t.rows * ROW_OVERHEAD
        self._next = max(self._next, t.max_seq + 1)
        self._reserved = t.reserved
        self._was_clean = t.clean
        self._marked = False
        return True

    def _replay_journal(self, attached: bool) -> None:
        """After a crash: batches journaled but not committed are queued again with their own
        seq and bytes; readings journaled but not batched go to the batcher (take_replay).
        The journal of this boot is complete (the page cache survived); one from an earlier
        boot may have lost its tail, and seqs continue above the reservation."""
        found = self.journal.replay()
        if not (found.found and found.same_boot) and (found.found or not self._was_clean):
            # not closed cleanly, and no journal of this boot says how far seqs went: a power
            # cut may have taken the journal's tail with seqs that went out; skip them all
            self._next = max(self._next, self._reserved + 1)
        self._next = max(self._next, found.max_seq + 1)
        self._requeue(found, attached)
        carry: list[Poll] = []
        if found.readings or found.events:
            carry = [(found.last_rid, found.readings, found.events)]
            self._replay = (found.last_rid, found.readings, found.events)
            log.warning("store %s: %d readings and %d events read before a crash are queued "
                        "again", self.path, len(found.readings), len(found.events))
        if (attached and self.commit()) or carry:
            self.journal.start(self._next, carry)

    def _requeue(self, found: Replay, attached: bool) -> None:
        seqs = sorted(s for s in found.batches if s not in found.acked)
        stored = self._disk(lambda f: f.has(seqs), NO_SEQS) if attached else NO_SEQS
        for seq in seqs:
            if seq not in stored:
                kind, ts, n, payload = found.batches[seq]
                self._hold(Batch(seq, kind, ts, n, payload))
        for seq in found.acked:
            self._ack_disk(seq)
        if seqs:
            log.info("store %s: %d batches recovered from the journal", self.path,
                     len(seqs) - len(stored))

    def _open_file(self) -> BatchFile:
        try:
            return BatchFile.open(self.path)
        except Corrupt as e:
            self._set_file_aside(e, lost=None)
            # the old file's seqs are unknown: continue above anything it can have used
            return BatchFile.open(self.path, first_seq=max(self._next, now_ms()))

    def _set_file_aside(self, e: Exception, lost: tuple[int, int] | None) -> None:
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
            done = self.commit(final=True) and not self._held
            if self._held:
                log.error("store %s: %d batches (%d readings) only in memory at exit (%s); "
                          "the journal keeps them for the next start if the disk allows",
                          self.path, len(self._held), sum(b.n for b in self._held.values()),
                          self.fault)
            self.journal.close(delete=done)
            if self.file is not None:
                self.file.close()
                self.file = None

    def take_replay(self) -> tuple[int, list[Reading], list[Event]]:
        with self.lock:
            replay, self._replay = self._replay, (0, [], [])
            return replay

    # -- hooks of MemoryQueue ------------------------------------------------------------------
    def _over(self, cost: int) -> bool:
        if self.fault:
            return self._held_bytes + cost > self.memory_bytes
        return self.totals.bytes + cost > self.max_bytes

    def _evict_oldest(self) -> bool:
        """Drop the oldest data batch: from disk (deleted at the next commit), else memory."""
        row = None if self.fault else self._oldest_row("data")
        if row is None:
            return self._evict_held()
        self._evicted_to = row.seq
        self._doom(row)
        self._drop(row.n, row.ts_ms)
        return True

    def _oldest_row(self, kind: str | None = None) -> Row | None:
        after = self._evicted_to if kind else 0
        rows = self._disk(lambda f: f.rows(after, len(self._gone) + 1, kind), NO_ROWS)
        return next((r for r in rows if r.seq not in self._gone), None)

    def _doom(self, row: Row) -> None:
        self._gone.add(row.seq)
        self._doomed.append(row.seq)
        self.totals.add(row.n, row.size, -1)

    def _stored(self, payload: bytes) -> bytes:
        return pack(payload)

    def _wire(self, stored: bytes) -> bytes:
        return unpack(stored)

    def _journal_batches(self, covers: int, made: list[Batch]) -> None:
        if made and made[-1].seq >= self._reserved:
            self._reserve(made[-1].seq)
        self.journal.batches(covers, [(b.seq, b.kind, b.ts_ms, b.n, b.payload) for b in made])

    def _reserve(self, seq: int) -> None:
        """Reserve seqs on disk before one goes out beyond the reservation (rare: every
        RESERVE/2 seqs the commit does it on the way)."""
        def write(f: BatchFile) -> bool:
            f.write([], [], reserve=seq + RESERVE)
            return True

        if self._disk(write, False):
            self._reserved = seq + RESERVE

    def _disk_rows(self, after: int, before: int, limit: int, kind: str | None) -> list[Batch]:
        rows = self._disk(lambda f: f.batches(after, before, limit + len(self._gone), kind),
                          NO_BATCHES)
        return [b for b in rows if b.seq not in self._gone][:limit]

    def _ack_disk(self, seq: int) -> None:
        if seq in self._gone:
            return
        row = self._disk(lambda f: f.row(seq), None)
        if row is not None:
            self._doom(row)
            self.journal.acked([seq])

    def _aside_disk(self, seq: int, reason: str, at_ms: int) -> Aside | None:
        if seq in self._gone:
            return None
        found = self._disk(lambda f: f.batches(seq - 1, seq + 1, 1), NO_BATCHES)
        if not found:
            return None
        batch = found[0]

        def move(f: BatchFile) -> bool:
            f.set_aside(batch, reason, at_ms)
            return True

        if not self._disk(move, False):
            return None
        self.totals.add(batch.n, len(batch.payload), -1)
        return Aside(seq, batch.kind, batch.ts_ms, batch.n, len(batch.payload), reason, at_ms)

    def _keep_aside(self, batch: Batch, reason: str, at_ms: int) -> Aside | None:
        def move(f: BatchFile) -> bool:
            f.set_aside(batch, reason, at_ms)
            return True

        if self.fault or not self._disk(move, False):
            return super()._keep_aside(batch, reason, at_ms)
        return Aside(batch.seq, batch.kind, batch.ts_ms, batch.n, len(batch.payload), reason,
                     at_ms)

    def _aside_on_disk(self) -> list[Aside]:
        return self._disk(lambda f: f.aside(), [])

    def _restore_disk(self, seqs: Sequence[int] | None) -> int:
        moved = self._disk(lambda f: f.restore(list(seqs) if seqs is not None else None), NO_ROWS)
        for row in moved:
            self.totals.add(row.n, row.size)
        return len(moved)

    def _oldest_disk_ts(self) -> int:
        row = self._oldest_row()
        return row.ts_ms if row else 0

    def _extra(self) -> dict[str, Any]:
        return {"fault": self.fault, "in_memory": len(self._held) if self.fault else 0}

    # -- resend requests from `gatewayd queue resend` ------------------------------------------
    @property
    def resend_request(self) -> Path:
        return self.path.with_name(self.path.name + ".resend")

    def _apply_resend_request(self) -> int:
        """A request file left by `gatewayd queue resend`: {"seqs": [..]} or {"seqs": null}."""
        req = self.resend_request
        try:
            seqs = json.loads(req.read_text()).get("seqs")
        except (FileNotFoundError, NotADirectoryError):
            return 0
        except (OSError, ValueError, AttributeError) as e:
            log.error("ignoring the resend request %s: %s", req, e)
            seqs = []
        moved = self.restore([int(s) for s in seqs] if isinstance(seqs, list) else None)
        try:
            req.unlink(missing_ok=True)
        except OSError as e:
            log.error("cannot remove the resend request %s: %s", req, e)
        log.info("store %s: %d set-aside batches queued again on request", self.path, moved)
        return moved

    def poll_requests(self) -> int:
        """Apply a pending resend request (the pipeline calls this once a commit)."""
        with self.lock:
            return self._apply_resend_request() if self.resend_request.exists() else 0

    # -- committing --------------------------------------------------------------------------
    def commit(self, final: bool = False) -> bool:
        """Write the unacked batches held in memory and the pending deletes in one transaction
        (while the disk fails: only when a retry is due, and the batches stay in memory until
        it succeeds). Returns True when everything is on disk (the journal may rotate)."""
        with self.lock:
            self._last_commit = self.clock()
            if self.fault and self.clock() < self._next_retry:
                return False
            if self.file is None and not self._attach():
                return False
            puts = list(self._held.values())
            reserve = self._next + RESERVE if self._next + RESERVE // 2 > self._reserved else 0
            mark = True if final else (None if self._marked else False)
            if not (puts or self._doomed or final or reserve or mark is not None):
                return True
            doomed = list(self._doomed)
            floor = self._next - 1 if final else 0

            def write(f: BatchFile) -> bool:
                f.write(puts, doomed, floor, reserve, mark)
                return True

            if not self._disk(write, False):
                return False
            self._marked = mark is False or (self._marked and not final)
            self._reserved = max(self._reserved, reserve)
            self._held.clear()
            self._held_bytes = 0
            self._gone.difference_update(doomed)
            self._doomed = []
            if self.fault:
                self._recovered(len(puts))
            return True

    def rotate(self, carry: Sequence[Poll]) -> None:
        """After a commit: a new journal segment with the polls not yet batched."""
        with self.lock:
            if not self.fault and not self._held:
                self.journal.start(self._next, carry)

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
        lost_rows = self.totals.rows - len(self._held)
        lost_readings = self.totals.readings - sum(b.n for b in self._held.values())
        if self.file is not None:
            self.file.db.close()
        self.file = None
        try:
            self._set_file_aside(e, (lost_rows, lost_readings))
        except DiskFault as fault:
            self._degrade(fault)
        self.dropped_total += lost_readings
        self.totals.rows, self.totals.bytes = len(self._held), self._held_bytes
        self.totals.readings = sum(b.n for b in self._held.values())
        self._gone.clear()
        self._doomed = []
        self._reserved = 0
        self._next = max(self._next, now_ms())


def pack(payload: bytes) -> bytes:
    """What the disk keeps: zlib at level 1 writes ~40 % fewer bytes for our msgpack batches
    (docs/store.md); kept as is when that does not help."""
    packed = zlib.compress(payload, 1)
    return packed if len(packed) < len(payload) or payload[:1] == b"\x78" else payload


def unpack(stored: bytes) -> bytes:
    # A zlib stream starts with 0x78; a wire payload (a msgpack map) never does.
    return zlib.decompress(stored) if stored[:1] == b"\x78" else stored
