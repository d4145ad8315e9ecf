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
from typing import Any

from ..errors import StoreError
from ..model import now_ms

SCHEMA = """
CREATE TABLE IF NOT EXISTS batches (
    seq     INTEGER PRIMARY KEY,      -- never reused: see `write` and the seq_floor below
    kind    TEXT NOT NULL,            -- 'data' or 'event': the topic it goes to
    ts_ms   INTEGER NOT NULL,         -- time of the oldest reading in it
    n       INTEGER NOT NULL,         -- readings (or events) it carries
    payload BLOB NOT NULL             -- as on the wire, or zlib of it (starts with 0x78)
);
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value INTEGER NOT NULL);
"""
# Measured with bench/store.py (docs/store.md): 2 KiB pages write the fewest bytes for both the
# light and the heavy workload; the WAL is checkpointed every 256 pages and truncated back.
PRAGMAS = (
    "PRAGMA page_size=2048",
    "PRAGMA journal_mode=WAL",
    "PRAGMA synchronous=FULL",
    "PRAGMA wal_autocheckpoint=256",
    "PRAGMA journal_size_limit=1048576",
)
CORRUPT_CODES = {11, 24, 26}  # SQLITE_CORRUPT, SQLITE_FORMAT, SQLITE_NOTADB


class DiskFault(StoreError):
    """The disk refuses to read or write the store; the file is presumed intact."""


class Corrupt(StoreError):
    """The store file is damaged or not a database at all."""


def translate(path: Path, e: sqlite3.Error) -> StoreError:
    # Unknown codes count as disk faults: retrying is harmless, moving a good file aside is not.
    code = (getattr(e, "sqlite_errorcode", None) or 0) & 0xFF
    kind = Corrupt if code in CORRUPT_CODES else DiskFault
    return kind(f"{path}: {e}")


@dataclass(frozen=True)
class Batch:
    seq: int
    kind: str
    ts_ms: int
    n: int
    payload: bytes


@dataclass(frozen=True)
class Totals:
    rows: int
    payload_bytes: int
    readings: int
    max_seq: int


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
        floor = self._query("SELECT value FROM meta WHERE key='seq_floor'")[0][0]
        return Totals(rows, size, readings, max(top, floor))

    def batches(self, after: int, before: int, limit: int) -> list[Batch]:
        rows = self._query("SELECT seq, kind, ts_ms, n, payload FROM batches "
                           "WHERE seq > ? AND seq < ? ORDER BY seq LIMIT ?", (after, before, limit))
        return [Batch(*r) for r in rows]

    def heads(self, after: int, limit: int, kind: str | None = None) -> list[Batch]:
        """Like batches(), without the payloads (its length stands in for it as n bytes)."""
        where = "seq > ?" + (" AND kind = ?" if kind else "")
        args = (after, kind, limit) if kind else (after, limit)
        rows = self._query(f"SELECT seq, kind, ts_ms, n, length(payload) FROM batches "
                           f"WHERE {where} ORDER BY seq LIMIT ?", args)
        return [Batch(s, k, t, n, b"\0" * size) for s, k, t, n, size in rows]

    def size_of(self, seq: int) -> tuple[int, int] | None:
        """(readings, payload bytes) of a stored batch, or None."""
        rows = self._query("SELECT n, length(payload) FROM batches WHERE seq=?", (seq,))
        return rows[0] if rows else None

    # -- the one write -------------------------------------------------------------------------
    def write(self, puts: list[Batch], deletes: list[int], seq_floor: int = 0) -> None:
        """Insert and delete in one transaction: both or neither survive any crash. The caller
        keeps the newest row, so max(seq) never goes back; or, at close, records seq_floor."""
        try:
            self.db.execute("BEGIN IMMEDIATE")
            if seq_floor:
                self.db.execute("UPDATE meta SET value = max(value, ?) WHERE key='seq_floor'",
                                (seq_floor,))
            self.db.executemany("INSERT INTO batches VALUES (?,?,?,?,?)",
                                [(b.seq, b.kind, b.ts_ms, b.n, b.payload) for b in puts])
            self.db.executemany("DELETE FROM batches WHERE seq=?", [(s,) for s in deletes])
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
