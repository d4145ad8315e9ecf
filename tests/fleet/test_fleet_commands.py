"""Inbound commands: signed, addressed, fresh, never replayed (even after restarts), allowlisted."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gatewayd.errors import UpdateRefused
from gatewayd.fleet import signing
from gatewayd.fleet.commands import CommandVerifier, sign_command
from gatewayd.testing.clock import ManualClock


@pytest.fixture
def fleet(tmp_path: Path) -> tuple[signing.Ed25519PrivateKey, signing.TrustedKeys]:
    signing.keygen(tmp_path / "cmd.key", tmp_path / "cmd.pub", "command")
    return signing.load_private(tmp_path / "cmd.key"), signing.load_trusted(tmp_path / "cmd.pub")


def _verifier(tmp_path: Path, trusted: signing.TrustedKeys, now: float) -> CommandVerifier:
    return CommandVerifier(trusted, "gw-1", tmp_path / "nonces.json", 300, ManualClock(now))


def test_signed_ping_is_accepted_once(tmp_path: Path, fleet: tuple) -> None:
    """A fresh signed command passes; the same bytes again are a replay."""
    key, trusted = fleet
    payload = sign_command(key, "ping", "gw-1", {"id": "p1"}, now_s=1000.0)
    v = _verifier(tmp_path, trusted, 1001.0)
    cmd = v.verify(payload, topic_verb="ping")
    assert (cmd.verb, cmd.parsed_args().id) == ("ping", "p1")
    with pytest.raises(UpdateRefused, match="replayed"):
        v.verify(payload)


def test_replay_is_refused_after_a_restart(tmp_path: Path, fleet: tuple) -> None:
    """Nonces are persisted: a new verifier (a restarted daemon) still refuses the replay."""
    key, trusted = fleet
    payload = sign_command(key, "rebirth", "gw-1", {}, now_s=1000.0)
    _verifier(tmp_path, trusted, 1000.0).verify(payload)
    with pytest.raises(UpdateRefused, match="replayed"):
        _verifier(tmp_path, trusted, 1010.0).verify(payload)


def test_stale_or_future_commands_are_refused(tmp_path: Path, fleet: tuple) -> None:
    """A command outside the time window is refused, so old captures cannot be replayed."""
    key, trusted = fleet
    for made in (1000.0 - 301, 1000.0 + 301):
        with pytest.raises(UpdateRefused, match="window"):
            _verifier(tmp_path, trusted, 1000.0).verify(sign_command(key, "ping", "gw-1", {}, made))


def test_tampered_unsigned_foreign_and_misaddressed(tmp_path: Path, fleet: tuple) -> None:
    """Changed bytes, no signature, another fleet's key, or another gateway: all refused."""
    key, trusted = fleet
    v = _verifier(tmp_path, trusted, 1000.0)
    doc = json.loads(sign_command(key, "reload", "gw-1", {}, 1000.0))
    doc["command"]["verb"] = "rebirth"
    with pytest.raises(UpdateRefused, match="bad signature"):
        v.verify(json.dumps(doc).encode())
    doc["signatures"] = []
    with pytest.raises(UpdateRefused, match="missing signature"):
        v.verify(json.dumps(doc).encode())
    signing.keygen(tmp_path / "x.key", tmp_path / "x.pub", "command")
    other = signing.load_private(tmp_path / "x.key")
    with pytest.raises(UpdateRefused, match="unknown key"):
        v.verify(sign_command(other, "ping", "gw-1", {}, 1000.0))
    with pytest.raises(UpdateRefused, match="not gw-1"):
        v.verify(sign_command(key, "ping", "gw-2", {}, 1000.0))
    with pytest.raises(UpdateRefused, match="topic"):
        v.verify(sign_command(key, "ping", "gw-1", {}, 1000.0), topic_verb="reload")


def test_only_allowlisted_verbs_and_arguments(tmp_path: Path, fleet: tuple) -> None:
    """A verb outside the allowlist, or unexpected arguments, never reach the daemon."""
    key, trusted = fleet
    v = _verifier(tmp_path, trusted, 1000.0)
    doc = json.loads(sign_command(key, "ping", "gw-1", {}, 1000.0))
    doc["command"]["verb"] = "shell"
    with pytest.raises(UpdateRefused, match=r"malformed command: command\.verb"):
        v.verify(json.dumps(doc).encode())
    with pytest.raises(UpdateRefused, match="bad arguments for reload"):
        v.verify(sign_command(key, "reload", "gw-1", {"cmd": "rm -rf /"}, 1000.0))
    with pytest.raises(UpdateRefused, match="bad arguments for update"):
        v.verify(sign_command(key, "update", "gw-1", {"bundle_url": "x"}, 1000.0))
