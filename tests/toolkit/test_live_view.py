"""The local live view: a real daemon with no broker serves every device (Modbus, 4-20 mA,
GPIO, vibration) on its unix socket; `status` and `tail` read it there; slow and hostile
clients do not hold it up, and nothing listens on the network."""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_toolkit_tail import PtyRun
from toolkit_kit import SIMULATED, dead_meter, gateway, plc_device, spindle_plc

from gatewayd.errors import NoDaemon
from gatewayd.live.client import read_snapshot
from gatewayd.live.server import SEND_TIMEOUT_S, LiveServer
from gatewayd.testing.broker import free_port


def env() -> dict[str, str]:
    return {k: v for k, v in os.environ.items() if k != "RUNTIME_DIRECTORY"}


@pytest.fixture
def daemon(tmp_path: Path) -> Iterator[tuple[Path, Path, subprocess.Popen[bytes]]]:
    with spindle_plc() as sim:
        cfg = tmp_path / "g.toml"
        dead = free_port()  # nothing listens there: commissioning day, and a meter gone
        cfg.write_text(gateway("live-1", dead, tmp_path / "queue.db") + plc_device(sim.port)
                       + SIMULATED + dead_meter(dead))
        log = (tmp_path / "daemon.log").open("w")
        proc = subprocess.Popen([sys.executable, "-m", "gatewayd.cli", "--simulate", "demo", "run",
                                 "--config", str(cfg)],
                                stdout=log, stderr=subprocess.STDOUT, env=env())
        sock = tmp_path / "live.sock"
        try:
            wait_until(lambda: has_values(sock) or proc.poll() is not None, 30,
                       tmp_path / "daemon.log")
            assert proc.poll() is None, (tmp_path / "daemon.log").read_text()
            yield cfg, sock, proc
        finally:
            proc.terminate()
            proc.wait(20)
            log.close()


def has_values(sock: Path) -> bool:
    try:
        snap = read_snapshot([sock], 1.0)
    except NoDaemon:
        return False
    points = {p["name"]: p for d in snap.get("devices", []) for p in d["points"]}
    wanted = ("spindle.temp", "tank.level", "lathe.running", "pump-de.rms_g", "meter.power")
    return all(points.get(n, {}).get("age_s") is not None for n in wanted)


def wait_until(pred: Any, timeout_s: float, log: Path) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out; daemon log:\n{log.read_text()[-3000:]}")


def test_status_shows_every_device_with_no_broker(daemon: Any) -> None:
    """`status` reads the socket: every device with kind and state, every point with its last
    value, quality and age; the dead meter is down with its reason; exit 1 (no broker)."""
    cfg, _, _ = daemon
    r = subprocess.run([sys.executable, "-m", "gatewayd.cli", "status", "--config", str(cfg),
                        "--json"], capture_output=True, text=True, timeout=30, env=env())
    assert r.returncode == 1, r.stderr  # the broker is not there: unhealthy, but visible
    st = json.loads(r.stdout)
    devices = {d["device"]: d for d in st["devices"]}
    assert {k: devices[k]["kind"] for k in devices} == {
        "plc": "modbus", "loops": "analog", "lathe-signals": "gpio", "pump-de": "vibration",
        "dead-meter": "modbus"}
    points = {p["name"]: p for d in st["devices"] for p in d["points"]}
    assert points["spindle.temp"]["value"] == pytest.approx(61.5)
    assert points["spindle.temp"]["quality"] == "good" and points["spindle.temp"]["unit"] == "°C"
    assert 0 <= points["spindle.temp"]["age_s"] < 5
    assert points["spare.loop"]["quality"] == "bad_wire_break"
    assert points["lathe.running"]["value"] in (0, 1, True, False)
    assert points["pump-de.rms_g"]["value"] > 0
    assert not devices["dead-meter"]["up"] and devices["dead-meter"]["reason"]
    assert points["meter.power"]["quality"].startswith("bad")
    text = subprocess.run([sys.executable, "-m", "gatewayd.cli", "status", "--config", str(cfg)],
                          capture_output=True, text=True, timeout=30, env=env()).stdout
    assert "lathe-signals" in text and "[gpio]" in text and "pump-de.rms_g" in text
    assert "dead-meter" in text and "DOWN (" in text


def test_tail_reads_the_socket(daemon: Any) -> None:
    """`tail` without --broker draws the daemon's points, vibration line and down devices."""
    cfg, _, _ = daemon
    tail = PtyRun([sys.executable, "-m", "gatewayd.cli", "tail", "--config", str(cfg),
                   "--seconds", "2", "--interval-s", "0.5"], 30, 100)
    lines = tail.screen(20).lines()
    text = "\n".join(lines)
    assert lines[0].startswith("gatewayd 'live-1'  broker DISCONNECTED"), text
    temp = next(line.split() for line in lines if line.startswith("spindle.temp"))
    assert temp[1:4] == ["61.5", "°C", "good"], text
    assert any(line.startswith("lathe.parts") for line in lines), text
    assert any(line.startswith("vib pump-de: rms_g ") for line in lines), text
    assert any(line.startswith("DOWN dead-meter (modbus): ") for line in lines), text


def test_slow_and_hostile_clients_do_not_hold_it_up(daemon: Any) -> None:
    """Forty clients that connect and never read, and one that writes junk, while an honest
    client still gets its snapshot within a second each time."""
    _, sock, _ = daemon
    idle = []
    try:
        for _ in range(40):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1024)
            s.connect(str(sock))
            idle.append(s)
        junk = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        junk.connect(str(sock))
        idle.append(junk)
        with contextlib.suppress(OSError):  # the server may have written and closed already
            junk.send(b"\x00" * 4096)
        for _ in range(3):
            started = time.monotonic()
            snap = read_snapshot([sock], timeout_s=30)
            assert snap["gateway"] == "live-1"
            assert time.monotonic() - started < 30
    finally:
        for s in idle:
            s.close()
    started = time.monotonic()
    read_snapshot([sock], timeout_s=5)
    assert time.monotonic() - started < 1.0


def test_nothing_listens_on_the_network(daemon: Any) -> None:
    """The daemon's sockets include no listening TCP or UDP one: the view is the unix socket."""
    _, sock, proc = daemon
    inodes = set()
    for fd in Path(f"/proc/{proc.pid}/fd").iterdir():
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    listening = []
    for table in ("tcp", "tcp6", "udp", "udp6"):
        for row in Path(f"/proc/net/{table}").read_text().splitlines()[1:]:
            f = row.split()
            if f[9] in inodes and (f[3] == "0A" or table.startswith("udp")):
                listening.append(f"{table} {f[1]}")
    assert listening == []
    assert sock.is_socket() and (sock.stat().st_mode & 0o777) == 0o660


def test_clients_that_do_not_read_a_big_snapshot_are_cut_off(tmp_path: Path) -> None:
    """A 2 MB snapshot, more than a socket buffer holds: twenty clients that never read each
    hold a partly written reply, yet an honest client gets the whole of it at once, and the
    idle ones are dropped at their deadline."""
    server = LiveServer(tmp_path / "live.sock")
    big = {"gateway": "g", "devices": [{"device": f"d{i}", "points": [{"name": "x" * 1000}]}
                                       for i in range(2000)]}
    server.publish(big)
    assert server.start()
    idle = []
    try:
        for _ in range(20):
            s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            s.connect(str(server.path))
            idle.append(s)
        started = time.monotonic()
        snap = read_snapshot([server.path], timeout_s=10)
        assert len(snap["devices"]) == 2000
        assert time.monotonic() - started < 1.0
        deadline = time.monotonic() + SEND_TIMEOUT_S + 3
        while server.cut_off < 20 and time.monotonic() < deadline:
            time.sleep(0.1)
        assert server.cut_off == 20 and server.served == 1
    finally:
        for s in idle:
            s.close()
        server.stop()
    assert not server.path.exists()
