"""The health gate (injected clock), HTTP download with resume, and the daemon-facing agent."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from gatewayd.errors import UpdateRefused
from gatewayd.fleet.download import download
from gatewayd.fleet.health import EXIT_RESTART, HealthGate
from gatewayd.fleet.releases import Releases
from gatewayd.testing.clock import ManualClock


def _root(tmp_path: Path) -> Releases:
    r = Releases(tmp_path)
    for v in ("1.0.0", "1.1.0"):
        r.path(v).mkdir(parents=True)
    r.switch("1.0.0")
    r.switch("1.1.0")
    return r


def test_links_switch_atomically_and_roll_back(tmp_path: Path) -> None:
    """switch() keeps the old release as previous; rollback() restores it."""
    r = _root(tmp_path)
    assert (r.current(), r.previous()) == ("1.1.0", "1.0.0")
    assert r.rollback() == "1.0.0" and r.current() == "1.0.0"
    assert not list(r.base.glob(".*.tmp"))
    with pytest.raises(UpdateRefused, match="no previous"):
        r.rollback()


def test_healthy_release_is_confirmed(tmp_path: Path) -> None:
    """A release on trial that becomes healthy keeps current and reports 'healthy' once."""
    r, clock = _root(tmp_path), ManualClock(1_000_000.0)
    gate = HealthGate(tmp_path, r, clock)
    gate.arm("1.0.0", "1.1.0", 60)
    assert gate.on_start() == "trial"
    clock.t += 30
    assert not gate.expired() and gate.confirm()
    result = gate.take_result()
    assert result is not None and result["outcome"] == "healthy" and result["to"] == "1.1.0"
    assert gate.take_result() is None and gate.on_start() == "none"
    assert r.current() == "1.1.0"


def test_only_the_release_on_trial_judges_itself(tmp_path: Path) -> None:
    """The old release, still running until the restart, neither confirms nor times out the
    new one's trial; the new one does."""
    r, clock = _root(tmp_path), ManualClock(1_000_000.0)
    gate = HealthGate(tmp_path, r, clock)
    gate.arm("1.0.0", "1.1.0", 60)
    assert not gate.confirm(running="1.0.0")
    clock.t += 120
    assert not gate.expired(running="1.0.0") and gate.on_start(running="1.0.0") == "none"
    assert gate.pending() is not None
    assert gate.on_start(running="1.1.0") == "rolled_back"  # past its deadline by now


def test_deadline_passed_rolls_back(tmp_path: Path) -> None:
    """Not healthy before the deadline: the previous release is restored and reported."""
    r, clock = _root(tmp_path), ManualClock(1_000_000.0)
    gate = HealthGate(tmp_path, r, clock)
    gate.arm("1.0.0", "1.1.0", 60)
    assert gate.on_start() == "trial"
    clock.t += 61
    assert gate.expired()
    assert gate.rollback("late") == "1.0.0" and r.current() == "1.0.0"
    result = gate.take_result()
    assert result is not None and (result["outcome"], result["reason"]) == ("rolled_back", "late")


def test_too_many_starts_roll_back(tmp_path: Path) -> None:
    """A release that keeps restarting without confirming is rolled back at its next start."""
    r = _root(tmp_path)
    gate = HealthGate(tmp_path, r, ManualClock(1_000_000.0), max_boots=3)
    gate.arm("1.0.0", "1.1.0", 600)
    assert [gate.on_start() for _ in range(4)] == ["trial", "trial", "trial", "rolled_back"]
    assert r.current() == "1.0.0" and gate.pending() is None


class Ranged(BaseHTTPRequestHandler):
    """Serves `data`, honouring `Range: bytes=N-` (like any static file server)."""

    data = bytes(range(256)) * 400
    ranges: list[str] = []  # noqa: RUF012 (per-test record, reset by the fixture)

    def do_GET(self) -> None:
        rng = self.headers.get("Range")
        self.ranges.append(rng or "")
        start = int(rng.split("=")[1].rstrip("-")) if rng else 0
        body = self.data[start:]
        self.send_response(206 if rng else 200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def http_url() -> Iterator[str]:
    Ranged.ranges = []
    server = ThreadingHTTPServer(("127.0.0.1", 0), Ranged)
    thread = threading.Thread(target=server.serve_forever, name="bundle-http")
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/b.tar"
    server.shutdown()
    server.server_close()
    thread.join()


def test_download_resumes_a_partial_file(tmp_path: Path, http_url: str) -> None:
    """A partial download continues with a Range request and ends byte-identical."""
    dest = tmp_path / "b.tar"
    (tmp_path / "b.tar.part").write_bytes(Ranged.data[:40_000])
    download(http_url, dest, len(Ranged.data))
    assert Ranged.ranges == ["bytes=40000-"]
    assert dest.read_bytes() == Ranged.data


def test_download_refuses_more_bytes_than_signed(tmp_path: Path, http_url: str) -> None:
    """A server sending more than the manifest's size is cut off."""
    with pytest.raises(UpdateRefused, match="larger"):
        download(http_url, tmp_path / "b.tar", 1000)


def test_agent_exit_code_is_the_restart_code() -> None:
    """The exit code that asks systemd for a restart is the one the unit forces a restart on."""
    from fleet_kit import REPO, unit_settings

    unit = unit_settings(REPO / "systemd/gatewayd.service")
    assert unit["RestartForceExitStatus"] == [str(EXIT_RESTART)]
