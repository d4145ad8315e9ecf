"""Every poll has an overall deadline (issue 11): an IO-Link master that trickles its answer a
byte every 0.5 s is cut at its timeout, marked down and backed off, while the watchdog pings
and the other bus (a Modbus PLC polled every 200 ms) keep their schedule. A real daemon, a real
trickling HTTP server on loopback, a real pymodbus server, a notify socket as systemd's."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gatewayd.testing.iolink_master import IODD_DIR
from gatewayd.testing.modbus_server import ModbusSim, RegisterModel

CONFIG = """
[gateway]
id = "gw-trickle"
[broker]
url = "{url}"
[store]
path = "{tmp}/q.db"

[[devices]]
kind = "modbus"
name = "plc"
port = {plc}
period_ms = 200
timeout_ms = 500
points = [ {{ alias = 1, name = "t", register = 0 }} ]

[[devices]]
kind = "iolink"
name = "slow-master"
access = "http"
url = "http://127.0.0.1:{master}"
timeout_ms = 1000
period_ms = 500
ports = [ {{ port = 1, iodd = "{iodd}/Gatewayd-TS14-20260101-IODD1.1.xml" }} ]
points = [ {{ alias = 2, name = "oil", port = 1, item = "Temperature" }} ]
"""


class Trickler:
    """An HTTP server that answers every request one byte every 0.5 s, status line included."""

    def __init__(self) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.requests = 0
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._accept = threading.Thread(target=self._serve, name="trickler", daemon=True)

    def __enter__(self) -> Trickler:
        self._accept.start()
        return self

    def _serve(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop.is_set():
            try:
                conn, _ = self.sock.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            t = threading.Thread(target=self._trickle, args=(conn,), name="trickle", daemon=True)
            self._threads.append(t)
            t.start()

    def _trickle(self, conn: socket.socket) -> None:
        body = json.dumps({"cid": 1, "code": 200, "data": {}}).encode()
        answer = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body)
        with conn, contextlib.suppress(OSError):
            conn.settimeout(5)
            conn.recv(65536)
            self.requests += 1
            for i in range(len(answer)):
                if self._stop.wait(0.5):
                    return
                conn.sendall(answer[i:i + 1])

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self.sock.close()
        self._accept.join(5)
        for t in self._threads:
            t.join(5)


def listen(sock: socket.socket, log: list[tuple[float, str]], t0: float, until_s: float) -> None:
    while time.monotonic() - t0 < until_s:
        with contextlib.suppress(TimeoutError):
            log += [(time.monotonic() - t0, m) for m in sock.recv(4096).decode().splitlines()]


@pytest.fixture
def notify(tmp_path: Path) -> Iterator[socket.socket]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp_path / "notify.sock"))
    sock.settimeout(0.2)
    yield sock
    sock.close()


def test_trickling_master_does_not_stop_the_watchdog_or_the_other_bus(
        tmp_path: Path, broker: Any, notify: socket.socket) -> None:
    """The master's polls end at their 1 s deadline (down, then backed off); pings never
    pause; the PLC on its own bus keeps its 200 ms schedule; status says why the master is down."""
    log: list[tuple[float, str]] = []
    with ModbusSim({1: RegisterModel(holding=10)}) as plc, Trickler() as master:
        cfg = tmp_path / "g.toml"
        cfg.write_text(CONFIG.format(url=broker.url, tmp=tmp_path, plc=plc.port,
                                     master=master.port, iodd=IODD_DIR))
        env = {**os.environ, "NOTIFY_SOCKET": str(tmp_path / "notify.sock"),
               "WATCHDOG_USEC": "2000000"}
        proc = subprocess.Popen([sys.executable, "-m", "gatewayd.cli", "run", "--config",
                                 str(cfg)], env=env, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL)
        t0 = time.monotonic()
        try:
            listen(notify, log, t0, 14.0)  # longer than the runner's default 10 s poll limit
            status = json.loads((tmp_path / "status.json").read_text())
            proc.send_signal(signal.SIGTERM)
            assert proc.wait(20) == 0
        finally:
            if proc.poll() is None:
                proc.send_signal(signal.SIGKILL)
                proc.wait(20)
        requests = master.requests
    pings = [t for t, m in log if m == "WATCHDOG=1"]
    assert pings and pings[0] < 3.0, log
    gaps = [b - a for a, b in itertools.pairwise(pings)]
    assert max(gaps) < 1.8 and pings[-1] > 12.0, pings  # never paused (systemd waits 2 s)
    devices = {d["device"]: d for d in status["devices"]}
    slow, fast = devices["slow-master"], devices["plc"]
    assert not slow["up"] and "no answer within 1 s" in slow["reason"], slow
    assert slow["bus"] != fast["bus"]
    assert 2 <= requests <= 8  # cut at 1 s each, then backed off (not hammered 2 a second)
    assert fast["up"] and fast["polls"] >= 40, fast  # ~12 s at 200 ms on a bus of its own
    assert status["overruns"] <= 5
