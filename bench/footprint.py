"""Footprint of the real daemon on bench/pipeline.py's workload (1,000 Modbus points at 100 ms):
resident memory after it has run a while, and the time from launch to its first data message at
a subscriber. Also lists which heavy libraries the daemon loaded (it imports what its config uses:
no numpy without vibration, no httpx without IO-Link, no cryptography until a command arrives).

    python bench/footprint.py [--seconds 8]
Targets (issue 12): rss_mb <= 40, launch_to_first_publish_s <= 0.8.
"""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from gatewayd.testing.broker import Broker, free_port, wait_port  # noqa: E402

POINTS = 1000
HEAVY = ("numpy", "httpx", "httpcore", "cryptography", "gpiozero", "smbus2", "serial",
         "gatewayd.testing", "asyncua", "snap7", "pylogix")


def config(broker_url: str, modbus_port: int, tmp: Path) -> str:
    points = "\n".join(f'  {{ alias = {i + 1}, name = "line.point{i:04d}", register = {i}, '
                       f'type = "int", data_type = "uint16" }},' for i in range(POINTS))
    return f"""
[gateway]
id = "footprint"
[broker]
url = "{broker_url}"
[store]
path = "{tmp}/q.db"
[publish]
interval_ms = 1000
[[devices]]
kind = "modbus"
name = "line"
port = {modbus_port}
period_ms = 100
timeout_ms = 1000
points = [
{points}
]
"""


def first_message(port: int, got: threading.Event) -> mqtt.Client:
    client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="footprint-sub")
    client.on_message = lambda c, u, m: got.set() if "/data" in m.topic or "data" in m.topic else None
    client.connect("127.0.0.1", port)
    client.subscribe("gatewayd/#", qos=1)
    client.loop_start()
    return client


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def loaded(pid: int) -> list[str]:
    """Heavy libraries mapped into the daemon (their shared objects or, for pure Python, asked
    over /proc maps is not possible: see the import check in the tests)."""
    maps = Path(f"/proc/{pid}/maps").read_text()
    return sorted({name for name in ("numpy", "cryptography", "_cffi_backend", "scipy")
                   if f"/{name}" in maps})


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=8.0)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        port = free_port()
        server = subprocess.Popen([sys.executable, "-m", "gatewayd.testing.modbus_server",
                                   "--port", str(port), "--registers", str(POINTS),
                                   "--seconds", str(args.seconds + 60)])
        try:
            wait_port(port)
            with Broker(tmp) as broker:
                cfg = tmp / "g.toml"
                cfg.write_text(config(broker.url, port, tmp))
                got = threading.Event()
                sub = first_message(broker.port, got)
                time.sleep(0.3)  # the subscription is in place
                started = time.monotonic()
                daemon = subprocess.Popen([sys.executable, "-m", "gatewayd.cli", "run",
                                           "--config", str(cfg)], stdout=subprocess.DEVNULL,
                                          stderr=subprocess.DEVNULL, env={**os.environ})
                try:
                    got.wait(30)
                    launch = time.monotonic() - started
                    time.sleep(args.seconds)
                    rss = rss_mb(daemon.pid)
                    libs = loaded(daemon.pid)
                finally:
                    daemon.send_signal(signal.SIGTERM)
                    daemon.wait(30)
                    sub.loop_stop()
                    sub.disconnect()
        finally:
            server.terminate()
            server.wait(10)
    print(f"rss_mb={rss:.1f} launch_to_first_publish_s={launch:.2f} "
          f"native_libs_loaded={','.join(libs) or 'none'} "
          f"target_rss_mb=40 target_launch_to_first_publish_s=0.8")


if __name__ == "__main__":
    main()
