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


def _mangled(doc: dict, change: str) -> bytes:
    d = json.loads(json.dumps(doc))
    if change == "unknown":
        d["command"]["shell"] = "rm -rf /"
    elif change == "missing":
        del d["command"]["nonce"]
    elif change == "type":
        d["command"]["ts_ms"] = str(d["command"]["ts_ms"])  # strict: "1000" is not a number
    elif change == "key_id":
        d["signatures"][0]["key_id"] = "KEY"
    return json.dumps(d).encode()


@pytest.mark.parametrize(("change", "named"), [
    ("unknown", "command.shell: unknown key"),
    ("missing", "command.nonce: missing"),
    ("type", "command.ts_ms: Expected `int`"),
    ("key_id", "signatures.0.key_id: Expected `str` matching"),
])
def test_malformed_envelopes_are_refused_naming_the_key(tmp_path: Path, fleet: tuple,
                                                        change: str, named: str) -> None:
    """Unknown, missing or mistyped keys of the envelope are refused, naming where."""
    key, trusted = fleet
    doc = json.loads(sign_command(key, "ping", "gw-1", {}, 1000.0))
    with pytest.raises(UpdateRefused, match=f"malformed command: {named}"):
        _verifier(tmp_path, trusted, 1000.0).verify(_mangled(doc, change))


def test_hostile_bytes_are_refused_not_raised(tmp_path: Path, fleet: tuple) -> None:
    """Garbage, another JSON shape, empty bytes and arguments nested past any sane depth
    are each an UpdateRefused (never another exception), and the next command is served."""
    key, trusted = fleet
    v = _verifier(tmp_path, trusted, 1000.0)
    signed = sign_command(key, "ping", "gw-1", {}, 1000.0).decode()
    for depth in (200, 980, 5000):
        deep = signed.replace('"args":{}', '"args":{"a":' + "[" * depth + "]" * depth + "}")
        assert deep != signed
        with pytest.raises(UpdateRefused, match=r"nested too deeply|bad signature"):
            v.verify(deep.encode())
    for junk in (b"\xff\x00\x9c", b"[1, 2]", b"", b'{"command": 7}', b"{" * 5000):
        with pytest.raises(UpdateRefused, match="malformed command"):
            v.verify(junk)
    assert v.verify(signed.encode()).verb == "ping"


def test_arguments_are_bounded_and_typed(tmp_path: Path, fleet: tuple) -> None:
    """A ping id past 64 characters, an empty or wrongly typed bundle URL: refused by key."""
    key, trusted = fleet
    v = _verifier(tmp_path, trusted, 1000.0)
    with pytest.raises(UpdateRefused, match=r"bad arguments for ping: id: .*length <= 64"):
        v.verify(sign_command(key, "ping", "gw-1", {"id": "x" * 65}, 1000.0))
    for url in ("", 7, "u" * 2049):
        with pytest.raises(UpdateRefused, match=r"bad arguments for update: .*bundle_url"):
            v.verify(sign_command(key, "update", "gw-1", {"manifest": _signed_manifest(),
                                                          "bundle_url": url}, 1000.0))
    assert v.verify(sign_command(key, "ping", "gw-1", {"id": "x" * 64}, 1000.0)).verb == "ping"


def _signed_manifest() -> dict:
    from gatewayd.fleet import manifest as mf

    return mf.SignedManifest(manifest=mf.Manifest(version="1.0.0", bundle_sha256="ab" * 32,
                                                  bundle_size=1, bundle_name="b.tar")).as_dict()
