"""Bundle downloads are bounded in time and bytes, against a real HTTP server on loopback that
trickles its answer, or sends more than it may."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from gatewayd.errors import UpdateRefused
from gatewayd.fleet.download import MAX_BUNDLE_BYTES, download


@dataclass
class Trickle:
    """A raw TCP HTTP server: `head` (status line and headers), then `body`, each byte after
    `gap_s`. `slow_head` trickles the headers as well. Every answer ends within `max_s`."""

    head: bytes
    body: bytes
    gap_s: float = 0.05
    slow_head: bool = False
    max_s: float = 4.0
    stop: threading.Event = field(default_factory=threading.Event)

    def serve(self, listener: socket.socket) -> None:
        while not self.stop.is_set():
            try:
                conn, _ = listener.accept()
            except OSError:
                return
            with conn:
                self._answer(conn)

    def _answer(self, conn: socket.socket) -> None:
        conn.recv(4096)
        end = time.monotonic() + self.max_s
        if not self.slow_head:
            conn.sendall(self.head)
        for byte in (self.head if self.slow_head else b"") + self.body:
            if self.stop.is_set() or time.monotonic() > end:
                return
            try:
                conn.sendall(bytes([byte]))
            except OSError:
                return  # the client went away: what a deadline does
            time.sleep(self.gap_s)


def _serve(trickle: Trickle) -> Iterator[str]:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(4)
    listener.settimeout(0.2)
    port = listener.getsockname()[1]

    def loop() -> None:
        while not trickle.stop.is_set():
            try:
                trickle.serve(listener)
            except TimeoutError:
                continue

    thread = threading.Thread(target=loop, name="trickle-http")
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}/b.tar"
    finally:
        trickle.stop.set()
        thread.join(10)
        listener.close()


BODY = bytes(range(256)) * 4


@pytest.fixture
def slow_body() -> Iterator[str]:
    head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(BODY)
    yield from _serve(Trickle(head, BODY))


@pytest.fixture
def slow_head() -> Iterator[str]:
    head = b"HTTP/1.1 200 OK\r\nX-Pad: " + b"a" * 200 + b"\r\n\r\n"
    yield from _serve(Trickle(head, BODY, slow_head=True))


@pytest.fixture
def endless() -> Iterator[str]:
    """No Content-Length, then more bytes than any manifest signed (closing ends the body)."""
    head = b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n"
    yield from _serve(Trickle(head, bytes(200_000), gap_s=0.0))


def test_a_trickling_body_stops_at_the_overall_deadline(tmp_path: Path, slow_body: str) -> None:
    """One byte every 50 ms never trips the per-read timeout; the overall deadline ends it."""
    began = time.monotonic()
    with pytest.raises(UpdateRefused, match=r"deadline|longer than"):
        download(slow_body, tmp_path / "b.tar", len(BODY), timeout_s=5, deadline_s=1.0)
    assert time.monotonic() - began < 2.5
    assert not (tmp_path / "b.tar").exists()


def test_trickling_headers_stop_at_the_overall_deadline(tmp_path: Path, slow_head: str) -> None:
    """The deadline holds while the status line and headers are still arriving."""
    began = time.monotonic()
    with pytest.raises(UpdateRefused, match="longer than"):
        download(slow_head, tmp_path / "b.tar", len(BODY), timeout_s=5, deadline_s=1.0)
    assert time.monotonic() - began < 2.5


def test_a_body_without_length_is_cut_at_the_signed_size(tmp_path: Path, endless: str) -> None:
    """A server that announces nothing and sends on is cut off just past the signed size."""
    with pytest.raises(UpdateRefused, match="larger"):
        download(endless, tmp_path / "b.tar", 10_000, timeout_s=5, deadline_s=10)
    part = tmp_path / "b.tar.part"
    assert part.stat().st_size <= 10_000 + (1 << 17)  # at most one network read past the cap


def test_a_manifest_claiming_a_huge_bundle_is_refused(tmp_path: Path) -> None:
    """Whatever the manifest signs, no bundle above the absolute byte cap is fetched."""
    with pytest.raises(UpdateRefused, match="larger than"):
        download("http://127.0.0.1:1/b.tar", tmp_path / "b.tar", MAX_BUNDLE_BYTES + 1)
