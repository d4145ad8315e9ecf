"""Replies a healthy server never sends: a Modbus TCP peer written byte by byte in the test
answers short or garbled frames; the source turns each into bad quality with the reason."""

from __future__ import annotations

import socket
import struct
import threading
from collections.abc import Iterator

import pytest

from gatewayd import config
from gatewayd.errors import CommError
from gatewayd.model import Quality
from gatewayd.sources.modbus.source import build


class RawPeer:
    """Accepts one client; answers every read-holding request with `reply(tid, unit, count)`."""

    def __init__(self, reply) -> None:
        self.reply = reply
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        try:
            conn, _ = self.server.accept()
        except OSError:
            return
        with conn:
            while True:
                try:
                    head = conn.recv(12)
                except OSError:
                    return
                if len(head) < 12:
                    return
                tid, _, _, unit, _fc, _addr, count = struct.unpack(">HHHBBHH", head)
                conn.sendall(self.reply(tid, unit, count))

    def close(self) -> None:
        self.server.close()
        self.thread.join(5)


def short_reply(tid: int, unit: int, count: int) -> bytes:
    body = struct.pack(">BB", 3, 2) + b"\x00\x07"  # one register where `count` were asked
    return struct.pack(">HHHB", tid, 0, len(body) + 1, unit) + body


def garbage(tid: int, unit: int, count: int) -> bytes:
    return b"\xde\xad\xbe\xef" * 5


@pytest.fixture
def device_for() -> Iterator:
    peers: list[RawPeer] = []
    devices = []

    def make(reply):
        peer = RawPeer(reply)
        peers.append(peer)
        data = {"gateway": {"id": "g"}, "devices": [{
            "kind": "modbus", "name": "odd", "port": peer.port, "timeout_ms": 300, "retries": 0,
            "points": [{"alias": 1, "name": "a", "register": 0, "data_type": "uint32"}]}]}
        dev = build(config.parse(data).devices[0], None)
        devices.append(dev)
        dev.open()
        return dev

    yield make
    for d in devices:
        d.close()
    for p in peers:
        p.close()


def test_short_reply_is_malformed(device_for) -> None:
    """Fewer registers than asked for: the point is bad_malformed, and counted."""
    dev = device_for(short_reply)
    (r,) = dev.read(0)
    assert (r.value, r.quality) == (None, Quality.BAD_MALFORMED)
    assert dev.counters["bad_malformed"] == 1


def test_garbage_is_a_failed_poll_not_a_value(device_for) -> None:
    """Bytes that are no Modbus frame never become a value: the poll fails with a named device."""
    dev = device_for(garbage)
    with pytest.raises(CommError, match=r"unit 1 on 127\.0\.0\.1"):
        dev.read(0)
