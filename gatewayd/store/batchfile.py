"""The SQLite file under the durable queue: one row per encoded batch, WAL, synchronous=FULL.

Every sqlite3 error leaves this module as one of two StoreErrors, because the queue answers
them differently:

    DiskFault   the disk refuses (full, read-only, I/O error, cannot open): keep the batches
                in memory and retry later; the file itself is fine
    Corrupt     the file is not a database or its pages are damaged: move it aside, start anew
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

from ..errors import StoreCorrupt, StoreDiskFault
from ..model import now_ms
from .protocol import Aside, Batch

SCHEMA = """
CREATE TABLE IF NOT EXISTS batches (
    seq     INTEGER PRIMARY KEY,      -- never reused: see `write` and the seq_floor below
    kind    TEXT NOT NULL,            -- 'data' or 'event': the topic it goes to
    ts_ms   INTEGER NOT NULL,         -- time of the oldest reading in it
    n       INTEGER NOT NULL,         -- readings (or events) it carries
    payload BLOB NOT NULL             -- as on the wire, or zlib of it (starts with 0x78)
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS aside (    -- batches the broker would not take: kept, not sent
    seq     INTEGER PRIMARY KEY,
    kind    TEXT NOT NULL,
    ts_ms   INTEGER NOT NULL,
    n       INTEGER NOT NULL,
    payload BLOB NOT NULL,
    reason  TEXT NOT NULL,
    at_ms   INTEGER NOT NULL
);
"""
# Measured with bench/store.py (docs/store.md): 2 KiB pages write the fewest bytes for both the
# light and the heavy workload; the WAL is checkpointed every 256 pages and truncated back.
PRAGMAS = (
    "PRAGMA page_size=2048",
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA wal_autocheckpoint=256",
    "PRAGMA journal_size_limit=1048576",
    # The queue touches its newest and oldest pages only; SQLite's default 2 MB page cache
    # would hold pages that are never read again (bench/footprint.py).
    "PRAGMA cache_size=-256",
)
CORRUPT_CODES = {11, 24, 26}  # SQLITE_CORRUPT, SQLITE_FORMAT, SQLITE_NOTADB


DiskFault = StoreDiskFault  # the names this module has always used
Corrupt = StoreCorrupt


def translate(path: Path, e: sqlite3.Error) -> StoreDiskFault | StoreCorrupt:
    # Unknown codes count as disk faults: retrying is harmless, moving a good file aside is not.
    code = (getattr(e, "sqlite_errorcode", None) or 0) & 0xFF
    kind = Corrupt if code in CORRUPT_CODES else DiskFault
    return kind(f"{path}: {e}")


class Row(NamedTuple):
    """A stored batch without its payload."""

    seq: int
    kind: str
    ts_ms: int
    n: int
    size: int


@dataclass(frozen=True)
class Totals:
    rows: int
    payload_bytes: int
    readings: int
    max_seq: int  # highest seq stored, or recorded as used at a clean close
    reserved: int  # seqs up to this may have been handed out (and sent) before a power cut
    clean: bool  # the last user closed it (False: it died, or is still running)


class BatchFile:
    """An open store file. Not thread-safe: the queue serialises every call under its lock."""

    def __init__(self, path: Path, db: sqlite3.Connection) -> None:
        self.path = path
        self.db = db

    @classmethod
    def open(cls, path: Path, first_seq: int = 1) -> BatchFile:
        """Open (or create) and check the file; a new file numbers its batches from first_seq."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        except OSError as e:
            raise DiskFault(f"{path}: {e}") from e
        except sqlite3.Error as e:
            raise translate(path, e) from e
        try:
            cls._prepare(db, first_seq)
        except sqlite3.Error as e:
            db.close()
            raise translate(path, e) from e
        except Corrupt:
            db.close()
            raise
        return cls(path, db)

    @staticmethod
    def _prepare(db: sqlite3.Connection, first_seq: int) -> None:
        for pragma in PRAGMAS:
            db.execute(pragma)
        db.executescript(SCHEMA)
        problems = [row[0] for row in db.execute("PRAGMA quick_check")]
        if problems != ["ok"]:
            raise Corrupt(f"quick_check: {'; '.join(problems[:3])}")
        db.execute("INSERT OR IGNORE INTO meta VALUES ('seq_floor', ?)", (first_seq - 1,))
        db.execute("INSERT OR IGNORE INTO meta VALUES ('seq_reserved', ?)", (first_seq - 1,))

    def close(self) -> None:
        with contextlib.suppress(sqlite3.Error):  # else the WAL is replayed at next open
            self.db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        self.db.close()

    # -- reads -------------------------------------------------------------------------------
    def _query(self, sql: str, args: Iterable[object] = ()) -> list[tuple[Any, ...]]:
        try:
            return self.db.execute(sql, tuple(args)).fetchall()
        except sqlite3.Error as e:
            raise translate(self.path, e) from e

    def totals(self) -> Totals:
        rows, size, readings, top = self._query(
            "SELECT count(*), coalesce(sum(length(payload)), 0), coalesce(sum(n), 0), "
            "coalesce(max(seq), 0) FROM batches")[0]
        meta = dict(self._query("SELECT key, value FROM meta"))
        aside = self._query("SELECT coalesce(max(seq), 0) FROM aside")[0][0]
        return Totals(rows, size, readings, max(top, aside, meta["seq_floor"]),
                      meta["seq_reserved"], bool(meta.get("clean", 1)))

    def batches(self, after: int, before: int, limit: int, kind: str | None = None
                ) -> list[Batch]:
        where, args = self._range(after, before, kind)
        rows = self._query(f"SELECT seq, kind, ts_ms, n, payload FROM batches WHERE {where} "
                           "ORDER BY seq LIMIT ?", (*args, limit))
        return [Batch(*r) for r in rows]

    def rows(self, after: int, limit: int, kind: str | None = None) -> list[Row]:
        """Like batches(), without the payloads."""
        where, args = self._range(after, 1 << 62, kind)
        found = self._query(f"SELECT seq, kind, ts_ms, n, length(payload) FROM batches "
                            f"WHERE {where} ORDER BY seq LIMIT ?", (*args, limit))
        return [Row(*r) for r in found]

    @staticmethod
    def _range(after: int, before: int, kind: str | None) -> tuple[str, tuple[object, ...]]:
        if kind is None:
            return "seq > ? AND seq < ?", (after, before)
        return "seq > ? AND seq < ? AND kind = ?", (after, before, kind)

    def row(self, seq: int) -> Row | None:
        found = self._query("SELECT seq, kind, ts_ms, n, length(payload) FROM batches "
                            "WHERE seq=?", (seq,))
        return Row(*found[0]) if found else None

    def has(self, seqs: list[int]) -> set[int]:
        """Which of these seqs are stored (queued or set aside)."""
        out: set[int] = set()
        for i in range(0, len(seqs), 500):
            part = seqs[i:i + 500]
            marks = ",".join("?" * len(part))
            for table in ("batches", "aside"):
                out.update(r[0] for r in self._query(
                    f"SELECT seq FROM {table} WHERE seq IN ({marks})", part))
        return out

    # -- the one write -------------------------------------------------------------------------
    def write(self, puts: list[Batch], deletes: list[int], seq_floor: int = 0,
              reserve: int = 0, clean: bool | None = None) -> None:
        """Insert and delete in one transaction: both or neither survive any crash. At a clean
        close, seq_floor records the last seq used; `reserve` raises the seq reservation;
        `clean` marks the file closed (True) or in use (False)."""
        try:
            self.db.execute("BEGIN IMMEDIATE")
            if clean is not None:
                self.db.execute("INSERT OR REPLACE INTO meta VALUES ('clean', ?)", (int(clean),))
            for key, value in (("seq_floor", seq_floor), ("seq_reserved", reserve)):
                if value:
                    self.db.execute("UPDATE meta SET value = max(value, ?) WHERE key=?",
                                    (value, key))
            self.db.executemany("INSERT OR IGNORE INTO batches VALUES (?,?,?,?,?)",
                                [(b.seq, b.kind, b.ts_ms, b.n, b.payload) for b in puts])
            self.db.executemany("DELETE FROM batches WHERE seq=?", [(s,) for s in deletes])
            self.db.execute("COMMIT")
        except sqlite3.Error as e:
            self._rollback()
            raise translate(self.path, e) from e

    # -- set aside -------------------------------------------------------------------------------
    def set_aside(self, batch: Batch, reason: str, at_ms: int) -> None:
        """Move a batch (stored or not yet) into the aside table, at once."""
        self._transaction(
            ("INSERT OR REPLACE INTO aside VALUES (?,?,?,?,?,?,?)",
             (batch.seq, batch.kind, batch.ts_ms, batch.n, batch.payload, reason, at_ms)),
            ("DELETE FROM batches WHERE seq=?", (batch.seq,)))

    def aside(self) -> list[Aside]:
        rows = self._query("SELECT seq, kind, ts_ms, n, length(payload), reason, at_ms "
                           "FROM aside ORDER BY seq")
        return [Aside(*r) for r in rows]

    def restore(self, seqs: list[int] | None) -> list[Row]:
        """Move set-aside batches back into the queue; returns what moved."""
        moved = [Row(a.seq, a.kind, a.ts_ms, a.n, a.size) for a in self.aside()
                 if seqs is None or a.seq in seqs]
        marks = ",".join("?" * len(moved))
        cols = "seq, kind, ts_ms, n, payload"
        keys = [r.seq for r in moved]
        if moved:
            self._transaction(
                (f"INSERT OR IGNORE INTO batches SELECT {cols} FROM aside WHERE seq IN ({marks})",
                 keys),
                (f"DELETE FROM aside WHERE seq IN ({marks})", keys))
        return moved

    def _transaction(self, *steps: tuple[str, Iterable[object]]) -> None:
        try:
            self.db.execute("BEGIN IMMEDIATE")
            for sql, args in steps:
                self.db.execute(sql, tuple(args))
            self.db.execute("COMMIT")
        except sqlite3.Error as e:
            self._rollback()
            raise translate(self.path, e) from e

    def _rollback(self) -> None:
        with contextlib.suppress(sqlite3.Error):  # a failed rollback changes nothing on disk
            if self.db.in_transaction:
                self.db.execute("ROLLBACK")


def move_aside(path: Path) -> Path:
    """Rename the file (and its -wal/-shm) to `<name>.corrupt-<ms>`; returns the new name."""
    aside = path.with_name(f"{path.name}.corrupt-{now_ms()}")
    try:
        for suffix in ("", "-wal", "-shm"):
            p = Path(f"{path}{suffix}")
            if p.exists():
                p.rename(f"{aside}{suffix}")
    except OSError as e:
        raise DiskFault(f"{path}: cannot move the corrupt file aside: {e}") from e
    return aside
