"""Releases and commands are signed with keys of separate roles: a release key never signs a
command and a command key never signs a release, in the tooling and on the gateway."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from gatewayd.errors import UpdateRefused
from gatewayd.fleet import manifest as mf
from gatewayd.fleet import signing
from gatewayd.fleet.agent import FleetAgent
from gatewayd.fleet.commands import sign_command


@pytest.fixture
def keys(tmp_path: Path) -> Path:
    """A release pair and a command pair, and a gateway's keys/ with each in its role folder."""
    for role in ("release", "command"):
        signing.keygen(tmp_path / f"{role}.key", tmp_path / f"{role}.pub", role)
        (tmp_path / "etc/keys" / role).mkdir(parents=True)
        shutil.copy(tmp_path / f"{role}.pub", tmp_path / "etc/keys" / role / f"{role}.pub")
    return tmp_path


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gatewayd.cli", "release", *args],
                          capture_output=True, text=True, timeout=60)


def _agent(keys: Path, events: list[tuple[str, dict[str, Any]]]) -> FleetAgent:
    state = keys / "state"
    state.mkdir(exist_ok=True)
    return FleetAgent("gw-1", "s1", state, None, lambda k, f: events.append((k, f)),
                      root=keys / "root", keys_dir=keys / "etc/keys")


def _manifest() -> mf.SignedManifest:
    return mf.SignedManifest(manifest=mf.Manifest(
        version="9.0.0", bundle_sha256="ab" * 32, bundle_size=10, bundle_name="b.tar"))


def test_key_files_declare_their_role(keys: Path) -> None:
    """keygen writes the role above the PEM block of both files; an unknown role is refused."""
    for role in ("release", "command"):
        for suffix in ("key", "pub"):
            assert signing.key_role((keys / f"{role}.{suffix}").read_text()) == role
    with pytest.raises(signing.KeyRoleError):
        signing.keygen(keys / "x.key", keys / "x.pub", "both")


def test_tooling_refuses_to_sign_a_manifest_with_a_command_key(keys: Path) -> None:
    """`release sign` with a command key is refused and leaves the manifest unsigned."""
    path = keys / "m.json"
    path.write_text(_manifest().to_json())
    refused = _cli("sign", str(path), "--key", str(keys / "command.key"))
    assert refused.returncode == 1 and "command key" in refused.stderr
    assert refused.stderr.startswith("release sign: REFUSED: ")
    assert mf.parse_signed(path.read_text()).signatures == []
    assert _cli("sign", str(path), "--key", str(keys / "release.key")).returncode == 0


def test_tooling_refuses_to_sign_a_command_with_a_release_key(keys: Path) -> None:
    """`release command` with a release key is refused; with a command key it prints one."""
    refused = _cli("command", "ping", "--gateway", "gw-1", "--key", str(keys / "release.key"))
    assert refused.returncode == 1 and "release key" in refused.stderr and not refused.stdout
    assert refused.stderr.startswith("release command: REFUSED: ")
    done = _cli("command", "ping", "--gateway", "gw-1", "--key", str(keys / "command.key"))
    assert json.loads(done.stdout)["command"]["verb"] == "ping"


def test_gateway_refuses_a_command_signed_with_a_release_key(keys: Path) -> None:
    """A command signed by the release key is an unknown key to the command verifier."""
    events: list[tuple[str, dict[str, Any]]] = []
    agent = _agent(keys, events)
    release = signing.load_private(keys / "release.key")
    assert agent.on_command("ping", sign_command(release, "ping", "gw-1", {})) is None
    assert "unknown key" in events[-1][1]["refused"]
    command = signing.load_private(keys / "command.key")
    assert agent.on_command("ping", sign_command(command, "ping", "gw-1", {})) is not None


def test_gateway_refuses_a_release_signed_with_a_command_key(keys: Path) -> None:
    """A manifest signed by the command key does not verify against the release keys."""
    events: list[tuple[str, dict[str, Any]]] = []
    agent = _agent(keys, events)
    signed = signing.sign_manifest(_manifest(), signing.load_private(keys / "command.key"))
    with pytest.raises(UpdateRefused, match="unknown key"):
        signing.verify_manifest(signed, agent.trusted[0])
    good = signing.sign_manifest(_manifest(), signing.load_private(keys / "release.key"))
    assert signing.verify_manifest(good, agent.trusted[0])


def test_a_key_filed_under_the_wrong_role_is_not_trusted(keys: Path) -> None:
    """A release public key copied into command/ is left out: its file says release."""
    shutil.copy(keys / "release.pub", keys / "etc/keys/command/oops.pub")
    release, command = signing.load_roles(keys / "etc/keys/release", keys / "etc/keys/command")
    rid = signing.key_id(signing.load_public(keys / "release.pub"))
    assert rid in release and rid not in command and len(command) == 1


def test_a_key_in_both_roles_is_trusted_for_neither(keys: Path) -> None:
    """A role-less (older) key filed in both folders would serve both roles: it serves none."""
    legacy = keys / "legacy.pub"
    pem = (keys / "release.pub").read_text().split("\n", 1)[1]  # the PEM without the role line
    legacy.write_text(pem)
    for role in ("release", "command"):
        shutil.copy(legacy, keys / "etc/keys" / role / "legacy.pub")
    release, command = signing.load_roles(keys / "etc/keys/release", keys / "etc/keys/command")
    rid = signing.key_id(signing.load_public(legacy))
    assert rid not in release and rid not in command
    assert len(command) == 1  # the proper command key still serves
