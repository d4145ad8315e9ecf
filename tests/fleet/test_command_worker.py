"""The command worker's bounds and its watchdog mark, with a real FleetAgent and real commands."""

from __future__ import annotations

import contextlib
import hashlib
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from test_fleet_download import Trickle, _serve

from gatewayd.command_worker import INBOX_SIZE, CommandWorker
from gatewayd.fleet import manifest as mf
from gatewayd.fleet import signing
from gatewayd.fleet.agent import FleetAgent
from gatewayd.fleet.commands import sign_command
from gatewayd.publish.inbound import MAX_COMMAND_BYTES, PACKET_MAX, connect_properties

BUNDLE = b"x" * 4000


@pytest.fixture
def slow_bundle() -> Iterator[str]:
    """An HTTP server that takes about 4 s to send a small bundle."""
    head = b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n" % len(BUNDLE)
    yield from _serve(Trickle(head, BUNDLE, gap_s=0.001, max_s=4.0))


@pytest.fixture
def agent(tmp_path: Path) -> tuple[FleetAgent, list[tuple[str, dict[str, Any]]], Path]:
    for role in ("release", "command"):
        (tmp_path / "keys" / role).mkdir(parents=True)
        signing.keygen(tmp_path / f"{role}.key", tmp_path / "keys" / role / "k.pub", role)
    events: list[tuple[str, dict[str, Any]]] = []
    (tmp_path / "state").mkdir()
    a = FleetAgent("gw-1", "s1", tmp_path / "state", None, lambda k, f: events.append((k, f)),
                   root=tmp_path / "root", keys_dir=tmp_path / "keys")
    return a, events, tmp_path


def _ping(keys: Path) -> bytes:
    return sign_command(signing.load_private(keys / "command.key"), "ping", "gw-1", {})


def _wait(pred: Any, timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline and not pred():
        time.sleep(0.02)
    assert pred()


def test_oversized_and_flooding_commands_are_dropped_and_counted(agent: tuple) -> None:
    """Above the size cap a command is dropped on arrival; a full inbox drops the excess; each
    drop is counted and a bounded number of events say so."""
    a, events, keys = agent
    worker = CommandWorker(threading.Event())
    worker.submit("ping", b"{" * (MAX_COMMAND_BYTES + 1))
    for _ in range(INBOX_SIZE + 40):
        worker.submit("x" * 70_000, b"{}")  # a 70 KB topic level is cut to a short verb
    assert worker.dropped == 41 and worker.inbox.qsize() == INBOX_SIZE
    worker.start(a)
    _wait(lambda: worker.inbox.qsize() == 0 and len(events) >= INBOX_SIZE * 2)
    drops = [f for k, f in events if "command dropped" in str(f.get("refused", ""))]
    assert len(drops) == INBOX_SIZE and all(len(f["verb"]) <= 32 for f in drops)
    assert str(MAX_COMMAND_BYTES + 1) in drops[0]["refused"]
    worker.submit("ping", _ping(keys))
    _wait(lambda: not worker.results.empty())
    worker.stop()


HOSTILE = [b"\xff\xfe\x00", b"", b"[]", b'{"command": null}', b"[" * 60_000,
           b'{"command": {"verb": "shell"}, "signatures": []}',
           b'{"command": {}, "signatures": [], "extra": ' + b"{}" * 30_000 + b"}"]


def test_hostile_payloads_are_refusals_not_errors(agent: tuple) -> None:
    """Junk within the size cap (bad UTF-8, wrong shapes, a verb outside the allowlist, deep
    nesting) is a `refused` event each: nothing raises in the worker, which serves the next
    signed command."""
    a, events, keys = agent
    worker = CommandWorker(threading.Event())
    worker.start(a)
    for junk in HOSTILE:
        assert len(junk) <= MAX_COMMAND_BYTES
        worker.submit("ping", junk)
    _wait(lambda: len(events) >= len(HOSTILE))
    assert [f["refused"].split(":")[0] for _, f in events] == ["malformed command"] * len(HOSTILE)
    worker.submit("ping", _ping(keys))
    _wait(lambda: not worker.results.empty())
    worker.stop()
    assert worker.errors == 0


def test_the_mark_moves_while_alive_and_freezes_when_dead(agent: tuple) -> None:
    """Idle and alive: the watchdog mark moves. Stopped: it stands still."""
    a, _, _ = agent
    worker = CommandWorker(threading.Event())
    worker.start(a)
    first = worker.progress()
    time.sleep(0.05)
    assert worker.alive() and worker.progress() > first
    worker.stop()
    frozen = worker.progress()
    time.sleep(0.05)
    assert not worker.alive() and worker.progress() == frozen


def test_a_command_past_its_limit_freezes_the_mark(agent: tuple, slow_bundle: str) -> None:
    """An update still downloading past the command limit counts as hung; when it ends, the
    mark moves again."""
    a, events, keys = agent
    m = mf.Manifest(version="9.0.0", bundle_sha256=hashlib.sha256(BUNDLE).hexdigest(),
                    bundle_size=len(BUNDLE), bundle_name="b.tar")
    signed = signing.sign_manifest(mf.SignedManifest(manifest=m),
                                   signing.load_private(keys / "release.key"))
    cmd = sign_command(signing.load_private(keys / "command.key"), "update", "gw-1",
                       {"manifest": signed.as_dict(), "bundle_url": slow_bundle})
    worker = CommandWorker(threading.Event(), limit_s=0.5)
    worker.start(a)
    worker.submit("update", cmd)
    _wait(lambda: any(f.get("step") == "space" for _, f in events))
    time.sleep(1.0)
    frozen = worker.progress()
    time.sleep(0.1)
    assert worker.progress() == frozen, "a command past its limit must stop the pings"
    _wait(lambda: any(f.get("step") == "refused" for _, f in events), timeout_s=15)
    time.sleep(0.05)
    assert worker.progress() > frozen  # served: alive and idle again
    worker.stop()


def test_mqtt5_connect_asks_for_a_maximum_packet_size() -> None:
    """Under MQTT 5, CONNECT carries Maximum Packet Size; 3.1.1 has no such property."""
    props = connect_properties(True)
    assert props is not None and props.MaximumPacketSize == PACKET_MAX
    assert PACKET_MAX < 256 * 1024 and connect_properties(False) is None


class _Loops:
    """The supervisor's side of the watchdog, always progressing (only the worker varies)."""

    def progress_marks(self) -> dict[str, float]:
        return {"bus tcp": time.monotonic(), "pipeline": time.monotonic()}

    def status(self) -> dict[str, Any]:
        return {"queue": {"depth": 0, "oldest_age_s": 0, "bytes": 0, "dropped": 0},
                "broker": {"connected": True}, "devices": []}


def test_watchdog_pings_only_while_the_worker_lives(agent: tuple, tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """The daemon's Notifier sends WATCHDOG=1 while the command worker lives, and stops once
    its thread is gone, though every other loop still progresses."""
    import socket

    from gatewayd.daemon import Notifier

    a, _, _ = agent
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(str(tmp_path / "notify"))
    sock.settimeout(0.01)
    monkeypatch.setenv("NOTIFY_SOCKET", str(tmp_path / "notify"))
    monkeypatch.setenv("WATCHDOG_USEC", "200000")
    worker = CommandWorker(threading.Event())
    worker.start(a)
    notifier = Notifier(lambda: {"commands": worker.progress()})
    loops = _Loops()

    def pings(seconds: float) -> int:
        n, end = 0, time.monotonic() + seconds
        while time.monotonic() < end:
            notifier.tick(loops, None)  # type: ignore[arg-type]
            with contextlib.suppress(TimeoutError):
                n += sock.recv(4096).count(b"WATCHDOG=1")
        return n

    try:
        notifier.ready(loops)  # type: ignore[arg-type]
        assert pings(0.6) >= 3
        worker.stop()
        pings(0.2)  # the round in progress
        assert pings(0.6) == 0
    finally:
        worker.stop()
        sock.close()
