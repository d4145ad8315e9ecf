"""The real daemon process: SIGTERM delivers everything and exits 0; SIGHUP swaps to a valid
new config and refuses a broken one while the old config keeps running."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gatewayd.consumer import Listener
from gatewayd.sources.modbus.decode import encode_value
from gatewayd.testing.modbus_server import ModbusSim, RegisterModel

CONFIG = """
[gateway]
id = "{gw}"
[broker]
url = "{url}"
[store]
path = "{tmp}/q.db"
commit_interval_ms = 200
[publish]
interval_ms = 300
[[devices]]
kind = "modbus"
name = "plc"
port = {port}
period_ms = 100
points = [
  {{ alias = 1, name = "temp", unit = "°C", register = 0, data_type = "float32", resolution = 0.1 }},
  {extra}
]
"""


@pytest.fixture
def sim() -> Iterator[ModbusSim]:
    with ModbusSim({1: RegisterModel(holding=50)}) as s:
        s.model(1).set("holding", 0, encode_value(40.0, "float32"))
        s.model(1).set("holding", 2, [7])
        yield s


def start(cfg: Path, log: Path) -> subprocess.Popen[bytes]:
    with log.open("w") as f:
        return subprocess.Popen([sys.executable, "-m", "gatewayd.cli", "run", "--config", str(cfg)],
                                stdout=f, stderr=subprocess.STDOUT)


def wait_for(listener: Listener, pred: Any, timeout_s: float = 15) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        got += list(listener.records(timeout_s=0.2))
        if pred(got):
            return got
    raise AssertionError(f"not seen in {timeout_s} s: {got[-3:]}")


def test_sigterm_delivers_everything_and_exits_cleanly(tmp_path: Path, broker: Any, sim: ModbusSim) -> None:
    """After SIGTERM the queue is empty on disk, every sequence number arrived, and the exit code is 0."""
    cfg = tmp_path / "g.toml"
    cfg.write_text(CONFIG.format(gw="gw-term", url=broker.url, tmp=tmp_path, port=sim.port, extra=""))
    listener = Listener(broker.url, "gw-term").start()
    proc = start(cfg, tmp_path / "log")
    try:
        wait_for(listener, lambda g: len(listener.seqs) >= 3)
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(20) == 0
        got = list(listener.records(timeout_s=1.0))
    finally:
        proc.kill() if proc.poll() is None else None
        listener.stop()
    assert {"type": "state", "state": "offline"} in got
    seqs = sorted(listener.seqs)
    assert seqs == list(range(1, seqs[-1] + 1))
    import sqlite3

    with sqlite3.connect(tmp_path / "q.db") as db:
        assert db.execute("SELECT count(*) FROM batches").fetchone()[0] == 0
    assert "everything was delivered" in (tmp_path / "log").read_text()


def test_sighup_reload_good_and_bad(tmp_path: Path, broker: Any, sim: ModbusSim) -> None:
    """A valid new file adds its point after SIGHUP; a broken one is refused and data keeps flowing."""
    cfg = tmp_path / "g.toml"
    fmt = dict(gw="gw-hup", url=broker.url, tmp=tmp_path, port=sim.port)
    cfg.write_text(CONFIG.format(**fmt, extra=""))
    listener = Listener(broker.url, "gw-hup").start()
    proc = start(cfg, tmp_path / "log")
    try:
        wait_for(listener, lambda g: any(r.get("name") == "temp" for r in g))
        count = '{ alias = 2, name = "count", register = 2, type = "int" },'
        cfg.write_text(CONFIG.format(**fmt, extra=count))
        proc.send_signal(signal.SIGHUP)
        wait_for(listener, lambda g: any(r.get("name") == "count" and r["value"] == 7 for r in g))
        cfg.write_text(CONFIG.format(**fmt, extra='{ alias = 2, name = "count", regster = 2 },'))
        proc.send_signal(signal.SIGHUP)
        time.sleep(1.0)
        after = wait_for(listener, lambda g: sum(1 for r in g if r.get("name") == "count") >= 5)
        assert proc.poll() is None
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)
        listener.stop()
    log = (tmp_path / "log").read_text()
    assert "reload refused, the running config stays" in log and "regster" in log
    assert all(r["quality_name"] == "good" for r in after if "name" in r)


def test_status_file_stays_off_the_store_disk_under_systemd(tmp_path: Path, broker: Any,
                                                             sim: ModbusSim) -> None:
    """With a RuntimeDirectory (tmpfs) the 2-second status file goes there, never beside the
    store on the SD card, and `gatewayd status` finds it and reports a healthy daemon."""
    import os

    run = tmp_path / "run"
    run.mkdir()
    cfg = tmp_path / "g.toml"
    cfg.write_text(CONFIG.format(gw="gw-status", url=broker.url, tmp=tmp_path, port=sim.port, extra=""))
    env = {**os.environ, "RUNTIME_DIRECTORY": str(run)}
    with (tmp_path / "log").open("w") as f:
        proc = subprocess.Popen([sys.executable, "-m", "gatewayd.cli", "run", "--config", str(cfg)],
                                stdout=f, stderr=subprocess.STDOUT, env=env)
    try:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline and not (run / "status.json").exists():
            time.sleep(0.1)
        time.sleep(2.5)  # a status written after the broker connected
        status = subprocess.run([sys.executable, "-m", "gatewayd.cli", "status", "--config",
                                 str(cfg)], capture_output=True, text=True, env=env)
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)
    assert (run / "status.json").exists()
    assert not (tmp_path / "status.json").exists()
    assert status.returncode == 0, status.stdout + status.stderr
    assert "gw-status" in status.stdout and "connected" in status.stdout
