"""The durable queue on its own: policies, gaps, group commit, seqs, corrupt files."""

from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from gatewayd.sims.clock import ManualClock
from gatewayd.store.queue import ROW_OVERHEAD, DurableQueue


def payload(i: int, size: int = 200) -> bytes:
    """Incompressible-ish bytes, so stored size is close to the size put."""
    return bytes((i * 7919 + k * 104729) % 251 for k in range(size))


def opened(path: Path, max_bytes: int = 1 << 30, **kw: object) -> DurableQueue:
    q = DurableQueue(path, max_bytes, **kw)  # type: ignore[arg-type]
    q.open()
    return q


def test_batches_come_back_in_order_after_commit_only(tmp_path: Path) -> None:
    """A batch is invisible until committed, then peeked oldest first, and gone once acked."""
    q = opened(tmp_path / "q.db")
    seqs = [q.put("data", payload(i), 10, 1000 + i) for i in range(5)]
    assert q.peek() == []
    q.commit()
    assert [b.seq for b in q.peek()] == seqs
    assert q.peek()[2].payload == payload(2)
    q.ack(seqs[0])
    q.ack(seqs[1])
    assert [b.seq for b in q.peek()] == seqs[2:]
    q.commit()
    assert q.stats().depth == 3 and q.stats().readings == 30
    q.close()


def test_drop_oldest_counts_every_reading_and_its_time_range(tmp_path: Path) -> None:
    """drop_oldest evicts the oldest data batches; the gap says how many readings and when."""
    cost = 200 + ROW_OVERHEAD
    q = opened(tmp_path / "q.db", max_bytes=10 * cost + 10)
    for i in range(25):
        assert q.put("data", payload(i), 7, 1000 + i) is not None
        q.commit()
    gap = q.take_gap()
    assert gap is not None and (gap.readings, gap.batches) == (15 * 7, 15)
    assert (gap.first_ts_ms, gap.last_ts_ms) == (1000, 1014)
    assert [b.ts_ms for b in q.peek(limit=100)] == list(range(1015, 1025))
    assert q.take_gap() is None and q.stats().dropped_total == 105
    q.close()


def test_drop_newest_refuses_and_events_still_go_in(tmp_path: Path) -> None:
    """drop_newest refuses new data when full (counted); an event batch is always taken."""
    cost = 200 + ROW_OVERHEAD
    q = opened(tmp_path / "q.db", max_bytes=3 * cost, when_full="drop_newest")
    got = [q.put("data", payload(i), 5, 2000 + i) for i in range(5)]
    assert got[3:] == [None, None] and None not in got[:3]
    assert q.put("event", b"\x81\xa1k\x01", 1, 3000) is not None
    gap = q.take_gap()
    assert gap is not None and (gap.readings, gap.first_ts_ms, gap.last_ts_ms) == (10, 2003, 2004)
    q.commit()
    assert [b.ts_ms for b in q.peek()] == [2000, 2001, 2002, 3000]
    q.close()


def test_pause_sources_reports_full_until_acks_make_room(tmp_path: Path) -> None:
    """pause_sources: full() is what pauses the pollers; acks clear it."""
    q = opened(tmp_path / "q.db", max_bytes=2 * (200 + ROW_OVERHEAD), when_full="pause_sources")
    q.put("data", payload(1), 1, 1)
    q.put("data", payload(2), 1, 2)
    assert q.full()
    q.commit()
    q.ack(q.peek()[0].seq)
    assert not q.full()
    q.close()


def test_group_commit_follows_the_interval(tmp_path: Path) -> None:
    """commit_due turns true once per commit interval of the injected clock."""
    clock = ManualClock(100.0)
    q = opened(tmp_path / "q.db", commit_interval_ms=250, clock=clock)
    q.put("data", payload(1), 1, 1)
    clock.t += 0.2
    assert not q.commit_due()
    clock.t += 0.05
    assert q.commit_due()
    q.maybe_commit()
    assert not q.commit_due() and len(q.peek()) == 1
    q.close()


def test_seqs_are_never_reused_after_everything_was_acked(tmp_path: Path) -> None:
    """Acked-and-deleted seqs stay used: across a clean close and across a crash."""
    path = tmp_path / "q.db"
    q = opened(path)
    for i in range(3):
        q.put("data", payload(i), 1, i)
    q.commit()
    for b in q.peek():
        q.ack(b.seq)
    q.commit()
    q.close()
    q = opened(path)
    assert q.next_seq == 4 and q.stats().depth == 0
    q.put("data", payload(9), 1, 9)
    q.commit()
    q.ack(4)
    q.commit()  # the newest row stays on disk until a newer one comes: a crash now...
    del q  # ...is simulated by simply not closing
    q = opened(path)
    assert q.next_seq == 5
    q.close()


def test_sigkill_keeps_every_committed_batch(tmp_path: Path) -> None:
    """A process killed with SIGKILL right after commit loses nothing committed, only puts
    made after the last commit."""
    path = tmp_path / "q.db"
    code = f"""
import os, signal
from gatewayd.store.queue import DurableQueue
from gatewayd.sims.clock import ManualClock
q = DurableQueue({str(path)!r}, 1 << 30); q.open()
for i in range(50):
    q.put("data", bytes([i]) * 300, 1, i)
    if i == 39:
        q.commit()
os.kill(os.getpid(), signal.SIGKILL)
"""
    proc = subprocess.run([sys.executable, "-c", code], check=False)
    assert proc.returncode == -9
    q = opened(path)
    assert [b.ts_ms for b in q.peek(limit=100)] == list(range(40))
    assert q.next_seq == 41
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
    seq = q.put("data", payload(1), 1, 1)
    assert seq is not None and seq > 1_600_000_000_000  # above anything the old file used
    q.commit()
    assert len(q.peek()) == 1
    q.close()


def test_file_that_opens_but_has_garbage_pages_is_caught(tmp_path: Path) -> None:
    """A valid header over damaged pages opens in sqlite, fails the check, is set aside."""
    path = tmp_path / "q.db"
    q = opened(path)
    for i in range(200):
        q.put("data", payload(i, 1500), 1, i)
    q.close()
    raw = bytearray(path.read_bytes())
    raw[2048:] = payload(7, len(raw) - 2048)  # page 1 (the header) intact, the rest garbage
    path.write_bytes(bytes(raw))
    sqlite3.connect(path).close()  # opens fine
    q = opened(path)
    assert [e.kind for e in q.take_events()] == ["store_corrupt"]
    assert q.stats().depth == 0 and q.put("data", payload(1), 1, 1) is not None
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
        q.put("data", payload(i), 3, 100 + i)
    kept = [b.ts_ms for b in q.peek(limit=10)]
    assert kept == ([102, 103, 104, 105] if policy == "drop_oldest" else [100, 101, 102, 103])
    assert q.take_gap().readings == 6  # type: ignore[union-attr]
    q.close()
