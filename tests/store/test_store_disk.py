"""Real disk faults on a tiny tmpfs: the byte bound on a small file system, ENOSPC and a
read-only remount fall back to memory and return to disk."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from store_kit import put, remount, tmpfs

from gatewayd.store.queue import DurableQueue
from gatewayd.testing.clock import ManualClock


def noise(i: int, size: int = 4000) -> bytes:
    """Bytes zlib cannot shrink, so the file system fills at a known pace."""
    import random

    return random.Random(i).randbytes(size)


@pytest.fixture
def small_fs(tmp_path: Path) -> Iterator[Path]:
    with tmpfs(tmp_path / "mnt", "512k") as where:
        yield where


def test_byte_bound_on_a_tiny_filesystem_applies_the_policy(small_fs: Path) -> None:
    """A 400 kB bound on a 1.5 MB file system (room for the WAL's 0.5 MB): the oldest are
    dropped and counted, the disk never fills."""
    remount(small_fs, "size=1536k")
    q = DurableQueue(small_fs / "q.db", 400_000)
    q.open()
    for i in range(240):
        put(q, "data", noise(i), 10, 1000 + i)
        q.commit()
    assert not q.fault
    gap = q.take_gap()
    assert gap is not None and gap.readings == 10 * gap.batches and gap.first_ts_ms == 1000
    kept = [b.ts_ms for b in q.peek(limit=200)]
    assert kept == list(range(1000 + gap.batches, 1240))
    q.close()


def test_enospc_keeps_batches_in_memory_and_returns_to_disk(small_fs: Path) -> None:
    """Disk full: no batch accepted is lost, the publisher still sees them, and once space
    is back (a bigger remount) they move to disk; fault and recovery are events."""
    clock = ManualClock(0.0)
    q = DurableQueue(small_fs / "q.db", 1 << 30, clock=clock, retry_s=5.0)
    q.open()
    seqs = []
    for i in range(200):
        seqs.append(put(q, "data", noise(i), 10, i))
        q.commit()
        clock.t += 1
    assert q.fault and "full" in q.fault
    assert [b.seq for b in q.peek(limit=500)] == seqs  # on disk + in memory, in order
    assert q.stats().extra["in_memory"] > 0 and q.take_gap() is None
    remount(small_fs, "size=16m")
    clock.t += 5
    q.commit()
    assert not q.fault
    assert [e.kind for e in q.take_events()] == ["store_fault", "store_recovered"]
    q.close()
    q = DurableQueue(small_fs / "q.db", 1 << 30)
    q.open()
    assert [b.seq for b in q.peek(limit=500)] == seqs
    q.close()


def test_read_only_filesystem_then_writable_again(small_fs: Path) -> None:
    """A file system mounted read-only at start (as after the kernel remounts it on errors):
    the queue runs in memory (acks work there too) and moves to disk once it is writable.
    (Linux refuses a read-only remount while the store file is open for writing, so a
    running daemon meets read-only only this way, or as I/O errors.)"""
    remount(small_fs, "ro")
    clock = ManualClock(0.0)
    q = DurableQueue(small_fs / "q.db", 1 << 30, clock=clock, retry_s=2.0)
    try:
        q.open()
        for i in range(1, 6):
            put(q, "data", noise(i, 100), 1, i)
            clock.t += 1
            q.commit()
        assert q.fault and q.stats().extra["in_memory"] == 5
        in_memory = q.peek(limit=10)
        assert [b.ts_ms for b in in_memory] == [1, 2, 3, 4, 5]
        q.ack(in_memory[1].seq)  # acked from memory: never written
    finally:
        remount(small_fs, "rw")
    clock.t += 2
    q.commit()
    assert not q.fault
    assert [e.kind for e in q.take_events()] == ["store_fault", "store_recovered"]
    q.close()
    q = DurableQueue(small_fs / "q.db", 1 << 30)
    q.open()
    assert [b.ts_ms for b in q.peek(limit=10)] == [1, 3, 4, 5]
    q.close()


def test_journal_on_a_full_disk_comes_back_with_the_space(small_fs: Path) -> None:
    """Disk full: a poll's journal write fails (the readings still go on, in memory), and once
    there is room the next commit starts a journal segment again, which then holds each poll
    the moment it arrives (a second reader replays it, as the next start would)."""
    from gatewayd.model import Reading
    from gatewayd.pipeline.batcher import Batcher
    from gatewayd.store.journal import Journal

    clock = ManualClock(0.0)
    q = DurableQueue(small_fs / "q.db", 1 << 30, clock=clock, retry_s=1.0)
    q.open()
    batcher = Batcher(q, {}, 0)
    filler = small_fs / "filler"
    with filler.open("wb", buffering=0) as f, pytest.raises(OSError):
        for _ in range(1024):
            f.write(noise(0, 4096))
    batcher.add_many([Reading(a, 1000, float(a)) for a in range(1, 2001)])
    assert "No space" in q.journal.broken
    assert batcher.flush() == 2000 and q.stats().readings == 2000
    filler.unlink()
    clock.t += 2
    assert batcher.commit() and not q.journal.broken and not q.fault
    batcher.add_many([Reading(7, 2000, 7.5)])
    assert Journal(small_fs / "q.db").replay().readings == [Reading(7, 2000, 7.5)]
    q.close()
