"""One contract, three queues: the same suite runs against the memory queue, the SQLite queue,
and the SQLite queue while its disk fails (the fallback that keeps batches in memory)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import msgpack
import pytest
from store_kit import put

from gatewayd.store.protocol import ROW_OVERHEAD, Outgoing, Queue
from gatewayd.store.queue import DurableQueue, MemoryQueue
from gatewayd.testing.clock import ManualClock

Make = Callable[..., Queue]


def payload(i: int, size: int = 200) -> bytes:
    """Incompressible-ish bytes, so stored size is close to the size put."""
    return bytes((i * 7919 + k * 104729) % 251 for k in range(size))


@pytest.fixture(params=["memory", "sqlite", "fallback"])
def make(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Make]:
    """make(max_bytes=..., when_full=..., ...) -> an opened queue of the kind under test."""
    made: list[Queue] = []

    def factory(max_bytes: int = 1 << 30, **kw: Any) -> Queue:
        q: Queue
        if request.param == "memory":
            q = MemoryQueue(max_bytes, **kw)
        elif request.param == "sqlite":
            q = DurableQueue(tmp_path / f"q{len(made)}.db", max_bytes, **kw)
        else:  # a file where the store's directory should be: the disk refuses from the start
            blocker = tmp_path / "not-a-dir"
            blocker.write_text("in the way")
            q = DurableQueue(blocker / "q.db", 1 << 30, memory_bytes=max_bytes, **kw)
        q.open()
        made.append(q)
        return q

    yield factory
    for q in made:
        q.close()


def test_batches_are_visible_at_once_in_order_and_gone_once_acked(make: Make) -> None:
    """A batch is peeked as soon as it is queued (the journal keeps it against a crash),
    oldest first, with its bytes; acked ones are gone; the totals follow."""
    q = make()
    seqs = [put(q, "data", payload(i), 10, 1000 + i) for i in range(5)]
    assert [b.seq for b in q.peek()] == seqs
    q.commit()
    assert [b.seq for b in q.peek()] == seqs
    assert q.peek()[2].payload == payload(2)
    q.ack(seqs[0])  # type: ignore[arg-type]
    q.ack(seqs[1])  # type: ignore[arg-type]
    assert [b.seq for b in q.peek()] == seqs[2:]
    q.commit()
    st = q.stats()
    assert (st.depth, st.readings, st.bytes) == (3, 30, 3 * (200 + ROW_OVERHEAD))


def test_the_queue_numbers_each_batch_and_hands_the_seq_to_the_encoder(make: Make) -> None:
    """The encoder is called with the seq the batch gets; seqs rise by one; peek can filter
    by kind and stop below a seq."""
    q = make()
    seen: list[int] = []

    def encode(seq: int) -> bytes:
        seen.append(seq)
        return msgpack.packb({"seq": seq, "pad": "x" * 50})

    got = q.put([Outgoing("data", 1, 1, encode), Outgoing("event", 1, 2, encode),
                 Outgoing("data", 1, 3, encode)])
    assert [r.seq for r in got] == seen == list(range(seen[0], seen[0] + 3))
    assert all(msgpack.unpackb(b.payload)["seq"] == b.seq for b in q.peek())
    assert [b.kind for b in q.peek(kind="data")] == ["data", "data"]
    assert [b.seq for b in q.peek(before_seq=seen[2])] == seen[:2]
    assert q.next_seq == seen[2] + 1


def test_a_batch_larger_than_the_message_limit_is_split(make: Make) -> None:
    """With max_message_bytes set, an encoded batch over it is split (each half numbered
    anew) until every message fits."""
    q = make(max_message_bytes=300)
    values = list(range(100))

    def part(chunk: list[int]) -> Outgoing:
        half = len(chunk) // 2
        return Outgoing("data", len(chunk), 1,
                        lambda seq: msgpack.packb({"seq": seq, "v": [v * 1000 for v in chunk]}),
                        lambda: [part(chunk[:half]), part(chunk[half:])])

    receipts = q.put([part(values)])
    assert len(receipts) > 1 and sum(r.n for r in receipts) == 100
    batches = q.peek(limit=100)
    assert all(len(b.payload) <= 300 for b in batches)
    assert [v // 1000 for b in batches for v in msgpack.unpackb(b.payload)["v"]] == values


def test_drop_oldest_counts_every_reading_and_its_time_range(make: Make) -> None:
    """drop_oldest evicts the oldest data batches; the gap says how many readings and when."""
    cost = 200 + ROW_OVERHEAD
    q = make(max_bytes=10 * cost + 10)
    for i in range(25):
        assert put(q, "data", payload(i), 7, 1000 + i) is not None
        q.commit()
    gap = q.take_gap()
    assert gap is not None and (gap.readings, gap.batches) == (15 * 7, 15)
    assert (gap.first_ts_ms, gap.last_ts_ms) == (1000, 1014)
    assert [b.ts_ms for b in q.peek(limit=100)] == list(range(1015, 1025))
    assert q.take_gap() is None and q.stats().dropped_total == 105


def test_drop_newest_refuses_and_events_still_go_in(make: Make) -> None:
    """drop_newest refuses new data when full (counted); an event batch is always taken."""
    cost = 200 + ROW_OVERHEAD
    q = make(max_bytes=3 * cost, when_full="drop_newest")
    got = [put(q, "data", payload(i), 5, 2000 + i) for i in range(5)]
    assert got[3:] == [None, None] and None not in got[:3]
    assert put(q, "event", b"\x81\xa1k\x01", 1, 3000) is not None
    gap = q.take_gap()
    assert gap is not None and (gap.readings, gap.first_ts_ms, gap.last_ts_ms) == (10, 2003, 2004)
    q.commit()
    assert [b.ts_ms for b in q.peek()] == [2000, 2001, 2002, 3000]
    assert got[:3] == list(range(got[0], got[0] + 3))  # type: ignore[operator]  # no holes


def test_pause_sources_reports_full_until_acks_make_room(make: Make) -> None:
    """pause_sources: full() is what pauses the pollers; acks clear it."""
    q = make(max_bytes=2 * (200 + ROW_OVERHEAD), when_full="pause_sources")
    put(q, "data", payload(1), 1, 1)
    put(q, "data", payload(2), 1, 2)
    assert q.full()
    q.commit()
    q.ack(q.peek()[0].seq)
    assert not q.full()


def test_group_commit_follows_the_interval(make: Make) -> None:
    """commit_due turns true once per commit interval of the injected clock."""
    clock = ManualClock(100.0)
    q = make(commit_interval_ms=250, clock=clock)
    put(q, "data", payload(1), 1, 1)
    clock.t += 0.2
    assert not q.commit_due()
    clock.t += 0.05
    assert q.commit_due()
    q.commit()
    assert not q.commit_due() and len(q.peek()) == 1


def test_set_aside_keeps_a_batch_out_of_the_way_counted_and_announced(make: Make) -> None:
    """A batch set aside is no longer peeked (what follows flows), is listed with its reason,
    counted in stats, announced by an event naming its seq; restore queues it again, same
    seq and bytes."""
    q = make()
    seqs = [put(q, "data", payload(i), 4, 10 + i) for i in range(3)]
    q.commit()
    aside = q.set_aside(seqs[1], "refused 3 times")  # type: ignore[arg-type]
    assert aside is not None and (aside.seq, aside.n, aside.reason) == (seqs[1], 4, "refused 3 times")
    assert [b.seq for b in q.peek()] == [seqs[0], seqs[2]]
    assert [a.seq for a in q.aside()] == [seqs[1]]
    st = q.stats()
    assert (st.depth, st.readings, st.extra["aside"]) == (2, 8, 1)
    ev = [e for e in q.take_events() if e.kind == "batch_set_aside"]
    assert [(e.fields["seq_from"], e.fields["seq_to"]) for e in ev] == [(seqs[1], seqs[1])]
    assert q.set_aside(999_999, "unknown") is None
    assert q.restore() == 1
    assert [b.seq for b in q.peek()] == seqs and q.peek()[1].payload == payload(1)
    assert q.aside() == [] and q.stats().depth == 3


def test_a_batch_acked_twice_or_unknown_changes_nothing(make: Make) -> None:
    """Acks of unknown or already acked seqs (a late PUBACK after an eviction) are ignored."""
    q = make()
    seq = put(q, "data", payload(1), 2, 1)
    q.ack(seq)  # type: ignore[arg-type]
    q.ack(seq)  # type: ignore[arg-type]
    q.ack(123_456)
    q.commit()
    assert q.stats().depth == 0 and q.stats().readings == 0 and q.peek() == []
