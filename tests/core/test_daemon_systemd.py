"""The real daemon under a notify socket made by the test, as systemd would run it: READY=1,
STATUS lines, WATCHDOG=1 while every loop makes progress, no pings once a bus thread hangs,
STOPPING=1 on SIGTERM."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from gatewayd.sims.modbus_server import ModbusSim, RegisterModel

CONFIG = """
[gateway]
id = "gw-notify"
[broker]
url = "{url}"
[store]
path = "{tmp}/q.db"
[[devices]]
kind = "modbus"
name = "plc"
port = {port}
period_ms = 200
timeout_ms = 30000          # a device that stops answering holds the bus thread for 30 s
points = [ {{ alias = 1, name = "temp", register = 0 }} ]
"""


def messages(sock: socket.socket, seconds: float) -> list[str]:
    out: list[str] = []
    deadline = time.monotonic() + seconds
    while (left := deadline - time.monotonic()) > 0:
        sock.settimeout(left)
        try:
            out += sock.recv(4096).decode().splitlines()
        except TimeoutError:
            break
    return out


def test_notify_watchdog_follows_progress(tmp_path: Path, broker: Any) -> None:
    """Pings flow while healthy and stop when a bus thread hangs, so systemd would restart us."""
    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    with ModbusSim({1: RegisterModel(holding=10)}) as sim:
        cfg = tmp_path / "g.toml"
        cfg.write_text(CONFIG.format(url=broker.url, tmp=tmp_path, port=sim.port))
        env = {**os.environ, "NOTIFY_SOCKET": path, "WATCHDOG_USEC": "2000000"}
        proc = subprocess.Popen([sys.executable, "-m", "gatewayd.cli", "run", "--config", str(cfg)],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        try:
            healthy = messages(sock, 4.0)
            sim.fault(1, "silent")
            messages(sock, 1.5)  # the last ping of the healthy round may still come
            hung = messages(sock, 3.0)
            proc.send_signal(signal.SIGTERM)
            stopping = messages(sock, 2.0)
        finally:
            proc.send_signal(signal.SIGKILL) if proc.poll() is None else None
            proc.wait(20)
            sock.close()
    assert "READY=1" in healthy
    status = [m for m in healthy if m.startswith("STATUS=")]
    assert status and "queue=" in status[-1] and "broker=connected" in status[-1]
    assert healthy.count("WATCHDOG=1") >= 2
    assert "WATCHDOG=1" not in hung
    assert "STOPPING=1" in stopping
