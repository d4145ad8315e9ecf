"""scripts/install into a temporary root: user described, release with its venv, units, config."""

from __future__ import annotations

import subprocess
from pathlib import Path

from fleet_kit import REPO, SHARED_SITE

from gatewayd.fleet.releases import Releases


def _install(root: Path) -> str:
    done = subprocess.run([str(REPO / "scripts/install"), "--root", str(root),
                           "--share-site-packages", str(SHARED_SITE)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_install_into_a_root_prefix(tmp_path: Path) -> None:
    """Everything lands under the root; nothing is done to this machine's users or systemd."""
    root = tmp_path / "root"
    out = _install(root)
    assert "not created" in out and "no systemctl" in out
    releases = Releases(root)
    version = releases.current()
    assert version is not None and releases.previous() == version
    conf = root / "etc/gatewayd/gatewayd.toml"
    assert conf.stat().st_mode & 0o777 == 0o600
    check = subprocess.run([str(releases.path(version) / "venv/bin/gatewayd"), "check", str(conf)],
                           capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    sysusers = (root / "usr/lib/sysusers.d/gatewayd.conf").read_text()
    assert "u gatewayd" in sysusers and all(f"m gatewayd {g}" in sysusers
                                            for g in ("i2c", "gpio", "dialout"))
    for unit in ("gatewayd.service", "gatewayd-rollback.service"):
        installed = root / "etc/systemd/system" / unit
        assert installed.read_text() == (REPO / "systemd" / unit).read_text()


def test_install_twice_keeps_the_config(tmp_path: Path) -> None:
    """A second run keeps an edited config (still 0600) and the installed release."""
    root = tmp_path / "root"
    _install(root)
    conf = root / "etc/gatewayd/gatewayd.toml"
    conf.write_text(conf.read_text().replace('site = "default"', 'site = "plant-9"'))
    out = _install(root)
    assert "current already" in out
    assert 'site = "plant-9"' in conf.read_text() and conf.stat().st_mode & 0o777 == 0o600
