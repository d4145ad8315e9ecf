"""The SQLite queue on its own: seqs across closes and crashes, the journal, corrupt files,
the memory bound while the disk fails. (What every queue must do: test_queue_contract.py.)"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
from store_kit import put

from gatewayd.store.queue import ROW_OVERHEAD, DurableQueue


def payload(i: int, size: int = 200) -> bytes:
    """Incompressible-ish bytes, so stored size is close to the size put."""
    return bytes((i * 7919 + k * 104729) % 251 for k in range(size))


def opened(path: Path, max_bytes: int = 1 << 30, **kw: object) -> DurableQueue:
    q = DurableQueue(path, max_bytes, **kw)  # type: ignore[arg-type]
    q.open()
    return q


def test_seqs_are_never_reused_after_everything_was_acked(tmp_path: Path) -> None:
    """Acked-and-deleted seqs stay used: across a clean close and across a crash."""
    path = tmp_path / "q.db"
    q = opened(path)
    for i in range(3):
        put(q, "data", payload(i), 1, i)
    q.commit()
    for b in q.peek():
        q.ack(b.seq)
    q.commit()
    q.close()
    q = opened(path)
    assert q.next_seq == 4 and q.stats().depth == 0
    put(q, "data", payload(9), 1, 9)
    q.commit()
    q.ack(4)
    q.commit()  # the newest row stays on disk until a newer one comes: a crash now...
    del q  # ...is simulated by simply not closing
    q = opened(path)
    assert q.next_seq == 5
    q.close()


def test_sigkill_keeps_every_batch_committed_or_not(tmp_path: Path) -> None:
    """A process killed with SIGKILL loses nothing committed, and (the journal) nothing put
    after the last commit either: same seqs, same bytes. (Before the journal, the 10 puts
    after the commit were lost.)"""
    path = tmp_path / "q.db"
    code = f"""
import os, signal
from gatewayd.store.protocol import Outgoing
from gatewayd.store.queue import DurableQueue
q = DurableQueue({str(path)!r}, 1 << 30); q.open()
for i in range(50):
    q.put([Outgoing("data", 1, i, lambda seq, i=i: bytes([i]) * 300)])
    if i == 39:
        q.commit()
os.kill(os.getpid(), signal.SIGKILL)
"""
    proc = subprocess.run([sys.executable, "-c", code], check=False)
    assert proc.returncode == -9
    q = opened(path)
    got = q.peek(limit=100)
    assert [b.ts_ms for b in got] == list(range(50))
    assert [b.seq for b in got] == list(range(1, 51))
    assert all(b.payload == bytes([b.ts_ms]) * 300 for b in got)
    assert q.next_seq == 51
    q.close()


def test_garbage_file_is_moved_aside_and_reported(tmp_path: Path) -> None:
    """A file that is not a database: set aside, store_corrupt event, fresh store works."""
    path = tmp_path / "q.db"
    path.write_bytes(b"\x17garbage" * 4000)
    q = opened(path)
    events = q.take_events()
    assert [e.kind for e in events] == ["store_corrupt"]
    aside = Path(events[0].fields["moved_to"])
    assert aside.read_bytes().startswith(b"\x17garbage")
    seq = put(q, "data", payload(1), 1, 1)
    assert seq is not None and seq > 1_600_000_000_000  # above anything the old file used
    q.commit()
    assert len(q.peek()) == 1
    q.close()


def test_file_that_opens_but_has_garbage_pages_is_caught(tmp_path: Path) -> None:
    """A valid header over damaged pages opens in sqlite, fails the check, is set aside."""
    path = tmp_path / "q.db"
    q = opened(path)
    for i in range(200):
        put(q, "data", payload(i, 1500), 1, i)
    q.close()
    raw = bytearray(path.read_bytes())
    raw[2048:] = payload(7, len(raw) - 2048)  # page 1 (the header) intact, the rest garbage
    path.write_bytes(bytes(raw))
    sqlite3.connect(path).close()  # opens fine
    q = opened(path)
    assert [e.kind for e in q.take_events()] == ["store_corrupt"]
    assert q.stats().depth == 0 and put(q, "data", payload(1), 1, 1) is not None
    q.close()


@pytest.mark.parametrize("policy", ["drop_oldest", "drop_newest"])
def test_memory_bound_applies_the_policy_while_the_disk_fails(tmp_path: Path, policy: str) -> None:
    """With the store directory unusable, batches live in memory up to memory_bytes."""
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("a file where the store's directory should be")
    q = DurableQueue(blocker / "q.db", 1 << 30, when_full=policy,
                     memory_bytes=4 * (200 + ROW_OVERHEAD))
    q.open()
    assert q.fault and [e.kind for e in q.take_events()] == ["store_fault"]
    for i in range(6):
        put(q, "data", payload(i), 3, 100 + i)
    kept = [b.ts_ms for b in q.peek(limit=10)]
    assert kept == ([102, 103, 104, 105] if policy == "drop_oldest" else [100, 101, 102, 103])
    assert q.take_gap().readings == 6  # type: ignore[union-attr]
    q.close()


def _crash_after_sending(path: Path) -> None:
    """A daemon that committed 10 batches, queued (and, in real life, sent) 20 more, and died."""
    code = f"""
import os, signal
from gatewayd.store.protocol import Outgoing
from gatewayd.store.queue import DurableQueue
q = DurableQueue({str(path)!r}, 1 << 30); q.open()
for i in range(30):
    q.put([Outgoing("data", 1, i, lambda seq, i=i: bytes([i]) * 300)])
    if i == 9:
        q.commit()
os.kill(os.getpid(), signal.SIGKILL)
"""
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == -9


def test_power_cut_that_loses_the_journal_never_reuses_a_seq(tmp_path: Path) -> None:
    """The page cache (and so the journal) lost in a power cut: what was committed is there,
    and numbering resumes above the reservation fsynced in the file, never at seq 11 again,
    because seqs 11-30 may have reached a consumer with other contents."""
    path = tmp_path / "q.db"
    _crash_after_sending(path)
    for seg in path.parent.glob("q.db.journal.*"):
        seg.unlink()
    q = opened(path)
    assert [b.seq for b in q.peek(limit=100)] == list(range(1, 11))
    assert q.next_seq > 30
    q.close()


def test_journal_of_an_earlier_boot_is_replayed_and_seqs_skip_ahead(tmp_path: Path) -> None:
    """A journal written before a reboot may have lost its tail: what it holds is queued again
    (same seqs, same bytes), and numbering resumes above the reservation."""
    from gatewayd.store import journal

    path = tmp_path / "q.db"
    _crash_after_sending(path)
    for seg in path.parent.glob("q.db.journal.*"):
        records = list(journal._records(seg))
        records = [["S", "an-earlier-boot", *r[2:]] if r[0] == "S" else r for r in records]
        seg.write_bytes(b"".join(journal._pack(r) for r in records))
    q = opened(path)
    got = q.peek(limit=100)
    assert [b.seq for b in got] == list(range(1, 31))
    assert all(b.payload == bytes([b.ts_ms]) * 300 for b in got)
    assert q.next_seq > 30 + 1000
    q.close()
