"""The daemon side of the live view: a unix socket that hands each client one snapshot.

The protocol is the smallest that a hostile or slow client cannot turn against the daemon:
the server never reads from a client. It accepts, writes the latest snapshot (one JSON
document and a newline, a few hundred KB at most), and closes. One thread serves every client
without blocking on any: a client that does not read is cut off after SEND_TIMEOUT_S, beyond
MAX_CLIENTS at once new ones are closed at once, and the main loop only swaps in a new
snapshot (bytes under a lock). Nothing listens on the
network: the socket lives in the runtime directory (0750, owned by the service user), mode
0660, so root and the service's group read it.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import selectors
import socket
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

log = logging.getLogger("gatewayd")
SOCKET_NAME = "live.sock"
SEND_TIMEOUT_S = 2.0  # a client has this long to take its snapshot
MAX_CLIENTS = 32
MAX_SNAPSHOT_BYTES = 4 * 1024 * 1024  # 10,000 points fit several times over


def encode(status: dict[str, Any]) -> bytes:
    """A snapshot as the socket sends it (values the encoder does not know become text)."""
    data = json.dumps(status, default=str, separators=(",", ":")).encode() + b"\n"
    if len(data) > MAX_SNAPSHOT_BYTES:
        data = json.dumps({**status, "devices": [], "truncated": True}, default=str).encode() + b"\n"
    return data


@dataclass
class _Client:
    conn: socket.socket
    data: memoryview
    deadline: float


class LiveServer:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._snapshot = b"{}\n"
        self._lock = threading.Lock()
        self._sock: socket.socket | None = None
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self.served = 0
        self.cut_off = 0  # clients that did not read their snapshot in time

    def publish(self, status: dict[str, Any]) -> None:
        data = encode(status)
        with self._lock:
            self._snapshot = data

    def start(self) -> bool:
        """Listen; False (and a log line) when the directory does not allow it: the daemon runs
        on without its live view rather than not at all."""
        try:
            with contextlib.suppress(FileNotFoundError):
                self.path.unlink()  # left by a daemon that was killed
            sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            sock.bind(str(self.path))
            os.chmod(self.path, 0o660)
            sock.listen(64)
        except OSError as e:
            log.warning("live view off: cannot listen on %s: %s", self.path, e.strerror or e)
            return False
        self._sock = sock
        self._stop.clear()
        self._thread = threading.Thread(target=self._serve, name="live view", daemon=True)
        self._thread.start()
        return True

    def _serve(self) -> None:
        """One thread, non-blocking: every client is written to as its socket takes data, so
        a client that does not read delays no one; it is dropped at its deadline."""
        assert self._sock is not None
        self._sock.setblocking(False)
        sel = selectors.DefaultSelector()
        sel.register(self._sock, selectors.EVENT_READ)
        clients: dict[socket.socket, _Client] = {}
        try:
            while not self._stop.is_set():
                for key, _ in sel.select(timeout=0.2):
                    if key.fileobj is self._sock:
                        self._accept(sel, clients)
                    else:
                        self._write(sel, clients, clients[key.fileobj])  # type: ignore[index]
                now = time.monotonic()
                for c in [c for c in clients.values() if c.deadline < now]:
                    self.cut_off += 1
                    self._drop(sel, clients, c)
        finally:
            for c in list(clients.values()):
                self._drop(sel, clients, c)
            sel.close()

    def _accept(self, sel: selectors.BaseSelector, clients: dict[socket.socket, _Client]) -> None:
        try:
            conn, _ = self._sock.accept()  # type: ignore[union-attr]
        except OSError:
            return
        if len(clients) >= MAX_CLIENTS:
            conn.close()  # a flood of connections costs the flood, not the daemon
            self.cut_off += 1
            return
        conn.setblocking(False)
        with self._lock:
            data = self._snapshot
        c = _Client(conn, memoryview(data), time.monotonic() + SEND_TIMEOUT_S)
        clients[conn] = c
        sel.register(conn, selectors.EVENT_WRITE)

    def _write(self, sel: selectors.BaseSelector, clients: dict[socket.socket, _Client],
               c: _Client) -> None:
        try:
            sent = c.conn.send(c.data)
        except BlockingIOError:
            return
        except OSError:
            self.cut_off += 1
            self._drop(sel, clients, c)
            return
        c.data = c.data[sent:]
        if not c.data:
            self.served += 1
            self._drop(sel, clients, c)

    @staticmethod
    def _drop(sel: selectors.BaseSelector, clients: dict[socket.socket, _Client],
              c: _Client) -> None:
        sel.unregister(c.conn)
        clients.pop(c.conn, None)
        c.conn.close()

    def stop(self) -> None:
        self._stop.set()
        if self._sock is not None:
            self._sock.close()
        if self._thread is not None:
            self._thread.join(5)
        with contextlib.suppress(OSError):
            self.path.unlink()
