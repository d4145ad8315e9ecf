"""The real daemon under a service manager that follows gatewayd.service: restart, watchdog,
start limit and OnFailure= rollback, around a signed update."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fleet_kit import (
    SHARED_SITE,
    ServiceManager,
    gatewayd_cli,
    hang_after_ready,
    install_first,
    make_fleet,
    write_config,
)

from gatewayd.consumer import Listener
from gatewayd.fleet.health import HealthGate
from gatewayd.fleet.releases import Releases


@pytest.fixture
def notify_sock(tmp_path: Path) -> Iterator[socket.socket]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp_path / "notify"))
    sock.setblocking(False)
    yield sock
    sock.close()


def _update(root: Path, manifest: Path, tar: Path) -> str:
    return gatewayd_cli(["release", "install", str(tar), "--manifest", str(manifest),
                         "--root", str(root), "--state-dir", str(root / "var/lib/gatewayd"),
                         "--keys", str(root / "etc/gatewayd/keys/release"),
                         "--config", str(root / "etc/gatewayd/gatewayd.toml"),
                         "--share-site-packages", str(SHARED_SITE)])


def test_hung_release_is_rolled_back_by_on_failure(tmp_path: Path, broker: object,
                                                    notify_sock: socket.socket) -> None:
    """A release that goes silent to the watchdog is restarted until the start limit, then
    OnFailure= runs the previous release's rollback and the old daemon comes back READY."""
    fleet = make_fleet(tmp_path / "fleet")
    root = tmp_path / "root"
    _, base = fleet.release("0.1.0")
    install_first(root, fleet, base, "0.1.0")
    write_config(root, "gw-svc", broker.url)  # type: ignore[attr-defined]
    hung, hung_tar = fleet.release("0.3.0", change=hang_after_ready)
    manifest = tmp_path / "hung.manifest.json"
    manifest.write_text(hung.to_json())
    out = _update(root, manifest, hung_tar)
    assert '"step": "restart"' in out and Releases(root).current() == "0.3.0"

    manager = ServiceManager(root, tmp_path / "notify")
    listener = Listener(broker.url, "gw-svc").start()  # type: ignore[attr-defined]

    def back_on_old(log: list[str]) -> bool:
        after = log[log.index("start releases/0.1.0") + 1:] if "start releases/0.1.0" in log else []
        return any("READY=1" in m for m in after)

    try:
        manager.run(notify_sock, back_on_old, timeout_s=90)
        reported = _update_events(listener)
    finally:
        listener.stop()
    log = manager.log
    assert back_on_old(log), log
    assert log.count("watchdog timeout") == 5 and "failed: start limit hit" in log
    assert any(m.startswith("rollback exit 0") for m in log), log
    assert Releases(root).current() == "0.1.0"
    # The restored release reports the outcome once, as an update event (and clears it).
    assert any((e.get("step"), e.get("to")) == ("rolled_back", "0.3.0") for e in reported), reported
    assert HealthGate(root / "var/lib/gatewayd", Releases(root)).take_result() is None


def _update_events(listener: Listener, timeout_s: float = 10) -> list[dict]:
    deadline = time.monotonic() + timeout_s
    found: list[dict] = []
    while time.monotonic() < deadline:
        found += [r for r in listener.records(timeout_s=0.2) if r.get("kind") == "update"]
        if any(e.get("step") == "rolled_back" for e in found):
            break
    return found


def test_good_release_starts_ready_under_the_manager(tmp_path: Path, broker: object,
                                                      notify_sock: socket.socket) -> None:
    """After a good update the manager starts the new release, which reports READY=1."""
    fleet = make_fleet(tmp_path / "fleet")
    root = tmp_path / "root"
    _, base = fleet.release("0.1.0")
    install_first(root, fleet, base, "0.1.0")
    write_config(root, "gw-svc2", broker.url)  # type: ignore[attr-defined]
    good, tar = fleet.release("0.2.0")
    manifest = tmp_path / "good.manifest.json"
    manifest.write_text(good.to_json())
    _update(root, manifest, tar)
    manager = ServiceManager(root, tmp_path / "notify")
    manager.run(notify_sock, lambda log: any("READY=1" in m for m in log), timeout_s=30)
    assert manager.log[0] == "start releases/0.2.0"
    assert any("READY=1" in m for m in manager.log) and "watchdog timeout" not in manager.log
