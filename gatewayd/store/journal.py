"""The journal: what makes a reading safe against a crash of the daemon from the moment it is read.

Each poll's readings are appended to a file beside the store with one `os.write`, no fsync.
The page cache belongs to the kernel, so a SIGKILL, the OOM killer or a crash inside a C
extension cannot take back what `os.write` returned from; only a power cut (or a kernel
crash) can, and for that the SQLite commit at the commit interval is the fsync.

Records, each `<u32 length><u32 crc32>` + a msgpack array (a torn tail fails its crc and ends
the replay there):

    ["S", boot_id, next_seq, first_rid]   opens a segment: who wrote it, where seqs stood
    ["R", rid, readings, events]          one poll's readings (or events), id rid
    ["B", covers, [[seq, kind, ts_ms, n, payload], ...]]
                                          the batches of one flush; every R with an id up to
                                          `covers` is in them (or in an earlier B)
    ["A", [seq, ...]]                     the broker has these (no need to send them again)

Segments (`<store>.journal.<n>`) are rotated after each SQLite commit: the new one starts with
the readings not yet batched, and the old ones are deleted. A segment lives about one commit
interval, so its dirty pages are usually gone before the kernel would write them back.
"""

from __future__ import annotations

import contextlib
import logging
import os
import struct
import threading
import zlib
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import msgpack

from ..model import Event, Reading

log = logging.getLogger("gatewayd.store")
_HEAD = struct.Struct("<II")
_MAX_RECORD = 256 << 20  # anything larger is a damaged length field, not a record


def boot_id() -> str:
    """Changes at every boot: a journal written in this boot survived in the page cache."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def _pack(record: list[Any]) -> bytes:
    body: bytes = msgpack.packb(record, default=str)
    return _HEAD.pack(len(body), zlib.crc32(body)) + body


@dataclass
class Replay:
    """What the journal holds after an unclean stop."""

    batches: dict[int, tuple[str, int, int, bytes]] = field(default_factory=dict)  # by seq
    readings: list[Reading] = field(default_factory=list)  # read but not yet in a batch
    events: list[Event] = field(default_factory=list)
    acked: set[int] = field(default_factory=set)
    max_seq: int = 0  # highest seq the journal says was handed out
    same_boot: bool = False  # written in this boot: complete (a process crash, not power)
    found: bool = False  # any segment at all: the last stop was not clean
    last_rid: int = 0


class Journal:
    """Appends records; thread-safe (one lock, held for a write call only)."""

    def __init__(self, store_path: Path) -> None:
        self.base = Path(store_path)
        self.lock = threading.Lock()
        self._fd = -1
        self._segment = 0
        self.next_rid = 1
        self.broken = ""  # why appending failed (disk full...), or "" while it works

    # -- replay ----------------------------------------------------------------------------
    def segments(self) -> list[Path]:
        prefix = self.base.name + ".journal."
        found = [p for p in self.base.parent.glob(prefix + "*") if p.name[len(prefix):].isdigit()]
        return sorted(found, key=lambda p: int(p.name[len(prefix):]))

    def replay(self) -> Replay:
        out = Replay()
        me = boot_id()
        polls: dict[int, tuple[list[Any], list[Any]]] = {}
        covers = 0
        for path in self.segments():
            out.found = True
            self._segment = max(self._segment, int(path.name.rsplit(".", 1)[1]))
            for rec in _records(path):
                kind = rec[0]
                if kind == "S":
                    out.same_boot = rec[1] == me and bool(me)
                    out.max_seq = max(out.max_seq, rec[2] - 1)
                elif kind == "R":
                    polls[rec[1]] = (rec[2], rec[3])
                    out.last_rid = max(out.last_rid, rec[1])
                elif kind == "B":
                    covers = max(covers, rec[1])
                    for seq, bkind, ts, n, payload in rec[2]:
                        out.batches[seq] = (bkind, ts, n, payload)
                        out.max_seq = max(out.max_seq, seq)
                elif kind == "A":
                    out.acked.update(rec[1])
        for rid in sorted(polls):
            if rid > covers:
                readings, events = polls[rid]
                out.readings += [Reading(*r) for r in readings]
                out.events += [Event(*e) for e in events]
        self.next_rid = max(out.last_rid, covers) + 1
        return out

    # -- appending -------------------------------------------------------------------------
    def start(self, next_seq: int, carry: Sequence[tuple[int, Sequence[Reading], Sequence[Event]]]
              = ()) -> None:
        """Open a new segment that begins with `carry` (polls not yet batched, with their ids),
        then delete the older segments: everything else in them is in the SQLite file now."""
        old = self.segments()
        self._segment += 1
        path = self.base.with_name(f"{self.base.name}.journal.{self._segment}")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_TRUNC, 0o600)
        except OSError as e:
            self._broken(e)
            return
        with self.lock:
            self._close_fd()
            self._fd = fd
            self.broken = ""
            blob = _pack(["S", boot_id(), next_seq, self.next_rid])
            blob += b"".join(_pack(["R", rid, list(rs), [list(e) for e in es]])
                             for rid, rs, es in carry)
            self._write(blob)
        if not self.broken:
            for p in old:
                with contextlib.suppress(OSError):
                    p.unlink()

    def readings(self, readings: Sequence[Reading], events: Sequence[Event] = ()) -> int:
        """Journal one poll; returns its id (the caller holds its own order under its lock)."""
        with self.lock:
            rid = self.next_rid
            self.next_rid += 1
            if self._fd >= 0:
                self._write(_pack(["R", rid, readings, [list(e) for e in events]]))
            return rid

    def batches(self, covers: int, batches: Iterable[tuple[int, str, int, int, bytes]]) -> None:
        rows = [list(b) for b in batches]
        if rows or covers:
            self._append(_pack(["B", covers, rows]))

    def acked(self, seqs: Sequence[int]) -> None:
        if seqs:
            self._append(_pack(["A", list(seqs)]))

    def _append(self, blob: bytes) -> None:
        with self.lock:
            if self._fd >= 0:
                self._write(blob)

    def _write(self, blob: bytes) -> None:
        try:
            view = memoryview(blob)
            while view:
                view = view[os.write(self._fd, view):]
        except OSError as e:
            self._close_fd()
            self._broken(e)

    def _broken(self, e: OSError) -> None:
        if not self.broken:
            log.error("journal %s cannot be written (%s): readings are safe against a crash "
                      "only once committed, until the disk accepts it again", self.base, e)
        self.broken = str(e)

    def _close_fd(self) -> None:
        if self._fd >= 0:
            with contextlib.suppress(OSError):
                os.close(self._fd)
            self._fd = -1

    def close(self, delete: bool) -> None:
        """Close; `delete` once everything in it is committed (a clean stop)."""
        with self.lock:
            self._close_fd()
        if delete:
            for p in self.segments():
                with contextlib.suppress(OSError):
                    p.unlink()
            self.next_rid = 1


def _records(path: Path) -> Iterator[list[Any]]:
    try:
        data = path.read_bytes()
    except OSError as e:
        log.error("journal %s cannot be read: %s", path, e)
        return
    pos = 0
    while pos + _HEAD.size <= len(data):
        size, crc = _HEAD.unpack_from(data, pos)
        body = data[pos + _HEAD.size: pos + _HEAD.size + size]
        if size > _MAX_RECORD or len(body) < size or zlib.crc32(body) != crc:
            log.warning("journal %s: torn record at byte %d (a write cut short): replay stops "
                        "there", path, pos)
            return
        try:
            rec = msgpack.unpackb(body, strict_map_key=False)
        except ValueError:
            return
        if isinstance(rec, list) and rec:
            yield rec
        pos += _HEAD.size + size
