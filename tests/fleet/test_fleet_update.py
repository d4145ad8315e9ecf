"""The update flow in a temporary root: a good update, and every refusal leaving nothing changed."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from fleet_kit import SHARED_SITE, Fleet, install_first, make_fleet, write_config

from gatewayd.errors import UpdateRefused
from gatewayd.fleet import signing
from gatewayd.fleet.health import HealthGate
from gatewayd.fleet.manifest import SignedManifest, Target
from gatewayd.fleet.releases import Releases
from gatewayd.fleet.updater import Updater

GIB = 1 << 30


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Fleet:
    return make_fleet(tmp_path_factory.mktemp("fleet"))


@pytest.fixture(scope="module")
def installed(fleet: Fleet, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A gateway root running release 0.1.0, made once; each test gets a copy."""
    root = tmp_path_factory.mktemp("template") / "root"
    _, tar = fleet.release("0.1.0")
    install_first(root, fleet, tar, "0.1.0")
    write_config(root, "gw-7")
    return root


@pytest.fixture
def root(installed: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "root"
    shutil.copytree(installed, copy, symlinks=True)
    return copy


class Events:
    def __init__(self) -> None:
        self.items: list[dict[str, Any]] = []

    def __call__(self, step: str, **fields: Any) -> None:
        self.items.append({"step": step, **fields})

    @property
    def steps(self) -> list[str]:
        return [e["step"] for e in self.items]


def _updater(root: Path, events: Events, free: int = 10 * GIB, site: str = "plant-a") -> Updater:
    releases = Releases(root)
    state = root / "var/lib/gatewayd"
    trusted = signing.load_trusted(root / "etc/gatewayd/keys/release", role="release")
    return Updater(releases, HealthGate(state, releases), trusted, "gw-7", site, events,
                   state / "downloads", root / "etc/gatewayd/gatewayd.toml",
                   free_bytes=lambda _p: free, share_site_packages=SHARED_SITE)


def _snapshot(root: Path) -> tuple[Any, ...]:
    r = Releases(root)
    state = root / "var/lib/gatewayd"
    return r.current(), r.previous(), r.versions(), sorted(p.name for p in state.rglob("*"))


@pytest.fixture(scope="module")
def good(fleet: Fleet) -> tuple[SignedManifest, Path]:
    return fleet.release("0.2.0")


def test_good_update_installs_switches_and_arms_the_health_gate(root: Path, good: tuple) -> None:
    """A signed, targeted, newer release is installed side by side and becomes current."""
    signed, tar = good
    events = Events()
    assert _updater(root, events).run(signed.to_json(), str(tar)) == "0.2.0"
    assert events.steps == ["verify", "target", "version", "space", "download", "hash",
                            "install", "selftest", "switch", "restart"]
    r = Releases(root)
    assert (r.current(), r.previous(), r.versions()) == ("0.2.0", "0.1.0", ["0.1.0", "0.2.0"])
    assert (r.path("0.2.0") / "venv/bin/gatewayd").exists()
    pending = HealthGate(root / "var/lib/gatewayd", r).pending()
    assert pending is not None and (pending["from"], pending["to"]) == ("0.1.0", "0.2.0")
    assert not list((root / "var/lib/gatewayd/downloads").iterdir())


def _refused(root: Path, doc: str | bytes, url: str, match: str, **kw: Any) -> Events:
    events = Events()
    before = _snapshot(root)
    with pytest.raises(UpdateRefused, match=match):
        _updater(root, events, **kw).run(doc, url)
    assert events.steps[-1] == "refused" and match.split()[0] in events.items[-1]["reason"]
    assert _snapshot(root)[:3] == before[:3]  # links and releases as they were
    leftovers = root / "var/lib/gatewayd/downloads"
    assert not leftovers.exists() or not list(leftovers.iterdir())
    return events


def test_missing_signature_is_refused(root: Path, fleet: Fleet) -> None:
    """An unsigned manifest is refused before anything is fetched."""
    signed, tar = fleet.release("0.2.1", sign=False)
    events = _refused(root, signed.to_json(), str(tar), "missing signature")
    assert events.steps == ["refused"]


def test_bad_signature_is_refused(root: Path, good: tuple) -> None:
    """A manifest changed after signing (a bigger rollout) is refused."""
    signed, tar = good
    forged = signed.replace(manifest=signed.manifest.replace(
        target=Target(percent=100, sites=["plant-a"])))
    _refused(root, forged.to_json(), str(tar), "bad signature")


def test_unknown_key_is_refused(root: Path, good: tuple, tmp_path: Path) -> None:
    """A manifest signed by a key the gateway does not hold is refused."""
    signed, tar = good
    signing.keygen(tmp_path / "rogue.key", tmp_path / "rogue.pub", "release")
    rogue = signing.sign_manifest(signed.replace(signatures=[]),
                                  signing.load_private(tmp_path / "rogue.key"))
    _refused(root, rogue.to_json(), str(tar), "unknown key")


def test_tampered_bundle_is_refused(root: Path, good: tuple, tmp_path: Path) -> None:
    """A bundle whose bytes differ from the signed hash is refused and deleted."""
    signed, tar = good
    bad = tmp_path / "bad.tar"
    data = bytearray(tar.read_bytes())
    data[len(data) // 2] ^= 0xFF
    bad.write_bytes(bytes(data))
    events = _refused(root, signed.to_json(), str(bad), "tampered bundle")
    assert "download" in events.steps and "install" not in events.steps


def test_downgrade_is_refused_unless_allowed(root: Path, fleet: Fleet) -> None:
    """An older version is refused; the same one signed with allow_downgrade goes through."""
    signed, tar = fleet.release("0.0.9")
    _refused(root, signed.to_json(), str(tar), "downgrade")
    allowed, tar2 = fleet.release("0.0.9", allow_downgrade=True)
    assert _updater(root, Events()).run(allowed.to_json(), str(tar2)) == "0.0.9"
    assert Releases(root).current() == "0.0.9"


def test_too_little_disk_space_is_refused(root: Path, good: tuple) -> None:
    """Less free space than the bundle needs unpacked is refused before the download."""
    signed, tar = good
    events = _refused(root, signed.to_json(), str(tar), "too little disk space", free=1000)
    assert "download" not in events.steps


def test_gateway_outside_the_rollout_is_refused(root: Path, fleet: Fleet) -> None:
    """A release for other sites or other gateways is refused."""
    signed, tar = fleet.release("0.2.2", target=Target(sites=["plant-b"]))
    _refused(root, signed.to_json(), str(tar), "outside the rollout target")
    signed, tar = fleet.release("0.2.3", target=Target(gateways=["gw-8", "gw-9"]))
    _refused(root, signed.to_json(), str(tar), "outside the rollout target")


def test_a_release_failing_its_selftest_is_not_switched_to(root: Path, fleet: Fleet) -> None:
    """A release that cannot import is removed again and current stays."""

    def break_import(src: Path) -> None:
        (src / "gatewayd/cli.py").write_text("raise ImportError('broken build')\n")

    signed, tar = fleet.release("0.4.0", change=break_import)
    _refused(root, signed.to_json(), str(tar), "self-test")
    assert "0.4.0" not in Releases(root).versions()



def test_agent_takes_a_signed_update_command_and_confirms_health(root: Path, good: tuple,
                                                                 fleet: Fleet) -> None:
    """cmd/update -> verified flow -> exit 75; the new release's start and health confirm it."""
    from gatewayd.fleet.agent import FleetAgent
    from gatewayd.fleet.commands import sign_command
    from gatewayd.fleet.health import EXIT_RESTART

    signed, tar = good
    events: list[tuple[str, dict[str, Any]]] = []
    conf = root / "etc/gatewayd/gatewayd.toml"
    agent = FleetAgent("gw-7", "plant-a", root / "var/lib/gatewayd", conf,
                       lambda kind, f: events.append((kind, f)), root=root)
    agent.updater.share_site_packages = SHARED_SITE
    payload = sign_command(fleet.command_private, "update", "gw-7",
                           {"manifest": signed.as_dict(), "bundle_url": str(tar)})
    assert agent.on_command("update", payload) == EXIT_RESTART
    assert agent.on_command("update", payload) is None  # the replay is refused
    assert "replayed" in events[-1][1]["refused"]
    assert Releases(root).current() == "0.2.0"
    after = FleetAgent("gw-7", "plant-a", root / "var/lib/gatewayd", conf,
                       lambda kind, f: events.append((kind, f)), root=root)
    assert after.on_start() is None and after.on_health(True, False) is None
    assert after.on_health(True, True) is None
    assert events[-1] == ("update", events[-1][1]) and events[-1][1]["step"] == "healthy"
