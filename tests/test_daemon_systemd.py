"""The real daemon under a notify socket made by the test, as systemd would run it: READY=1,
STATUS lines, WATCHDOG=1 while every loop makes progress, STOPPING=1 on SIGTERM. A device that
is merely dead (a Modbus unit timing out) keeps the pings going; a hung bus (an I2C slave that
holds the bus forever) stops them, so systemd restarts the daemon."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from gatewayd.testing.modbus_server import ModbusSim, RegisterModel

CONFIG = """
[gateway]
id = "gw-notify"
[broker]
url = "{url}"
[store]
path = "{tmp}/q.db"

[[devices]]
kind = "modbus"
name = "dead-plc"
port = {port}
period_ms = 200
timeout_ms = 1500           # dead: every poll waits 1.5 s, within what this device may take
retries = 0
points = [ {{ alias = 1, name = "temp", register = 0 }} ]

[[devices]]
kind = "i2c"
name = "env"
profile = "bme280"
bus = 1                     # simulated (world "stuck"): answers about 4 s, then hangs
period_ms = 100
points = [ {{ alias = 2, name = "t", measurand = "temperature" }} ]
"""


def listen(sock: socket.socket, log: list[tuple[float, str]], t0: float, until_s: float) -> None:
    """Collect (seconds since t0, message) until `until_s` after t0."""
    while time.monotonic() - t0 < until_s:
        with contextlib.suppress(TimeoutError):
            log += [(time.monotonic() - t0, m) for m in sock.recv(4096).decode().splitlines()]


def test_watchdog_follows_real_progress(tmp_path: Path, broker: Any) -> None:
    """Pings while the Modbus device is dead but the I2C bus works; none once the bus hangs."""
    path = str(tmp_path / "notify.sock")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(0.2)
    log: list[tuple[float, str]] = []
    with ModbusSim({1: RegisterModel(holding=10)}) as sim:
        sim.fault(1, "silent")
        cfg = tmp_path / "g.toml"
        cfg.write_text(CONFIG.format(url=broker.url, tmp=tmp_path, port=sim.port))
        env = {**os.environ, "NOTIFY_SOCKET": path, "WATCHDOG_USEC": "2000000",
               "GATEWAYD_SIMULATE": "stuck"}
        proc = subprocess.Popen([sys.executable, "-m", "gatewayd.cli", "run", "--config", str(cfg)],
                                env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        t0 = time.monotonic()
        try:
            listen(sock, log, t0, 12.0)
            proc.send_signal(signal.SIGTERM)
            listen(sock, log, t0, 15.0)
        finally:
            proc.send_signal(signal.SIGKILL) if proc.poll() is None else None
            proc.wait(20)
            sock.close()
    messages = [m for _, m in log]
    assert messages[0] == "READY=1" or "READY=1" in messages
    status = [m for m in messages if m.startswith("STATUS=")]
    assert status and "queue=" in status[0] and "devices_down=" in status[-1]
    pings = [t for t, m in log if m == "WATCHDOG=1"]
    assert len(pings) >= 3, log  # the dead Modbus device alone does not silence them
    assert pings[-1] < 9.0, pings  # the hung bus (from about 4 s on) does
    assert "STOPPING=1" in messages
