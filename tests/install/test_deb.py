"""scripts/build-deb: the package's shape (control, conffiles, units, wheels, the command on
PATH), its maintainer scripts, and postinst's release switching run against an unpacked root
(DPKG_ROOT). Building the virtualenv from the shipped wheels needs every dependency's wheel
for the target: that part runs on a gateway, not here."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def deb(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("deb")
    done = subprocess.run([str(REPO / "scripts/build-deb"), "--platform", "any", "--out", str(out)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    (found,) = out.glob("gatewayd_*_all.deb")
    return found


def field(deb: Path, name: str) -> str:
    return subprocess.run(["dpkg-deb", "-f", str(deb), name], capture_output=True, text=True,
                          check=True).stdout.strip()


def test_control_and_contents(deb: Path) -> None:
    """Name, version from pyproject, dependencies; the config is a conffile; every file where
    Debian and the fleet updater expect it."""
    assert field(deb, "Package") == "gatewayd" and field(deb, "Version") == "0.1.0"
    assert "python3-venv" in field(deb, "Depends")
    listing = subprocess.run(["dpkg-deb", "-c", str(deb)], capture_output=True, text=True,
                             check=True).stdout
    for path in ("./lib/systemd/system/gatewayd.service", "./usr/lib/sysusers.d/gatewayd.conf",
                 "./usr/lib/tmpfiles.d/gatewayd.conf", "./usr/share/doc/gatewayd/copyright",
                 "./usr/share/gatewayd/wheels/gatewayd-0.1.0-py3-none-any.whl",
                 "./usr/bin/gatewayd -> /opt/gatewayd/current/venv/bin/gatewayd"):
        assert path in listing, path
    assert "-rw------- root/root" in next(line for line in listing.splitlines()
                                          if line.endswith("./etc/gatewayd/gatewayd.toml"))
    control = subprocess.run(["dpkg-deb", "--ctrl-tarfile", str(deb)], capture_output=True,
                             check=True).stdout
    assert b"./conffiles" in control and b"./postinst" in control


def test_postinst_switches_releases(deb: Path, tmp_path: Path) -> None:
    """Unpacked into a root, postinst (under DPKG_ROOT) points `current` at the package's
    release and keeps the one before as `previous`; postrm remove takes the releases away."""
    root = tmp_path / "root"
    subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)
    ctrl = tmp_path / "ctrl"
    subprocess.run(["dpkg-deb", "-e", str(deb), str(ctrl)], check=True)
    for script in ("postinst", "prerm", "postrm"):
        subprocess.run(["sh", "-n", str(ctrl / script)], check=True)
    rel = root / "opt/gatewayd/releases/0.1.0/venv/bin"
    rel.mkdir(parents=True)
    (rel / "gatewayd").write_text("#!/bin/sh\n")
    (rel / "gatewayd").chmod(0o755)  # built already: postinst must not rebuild it
    (root / "opt/gatewayd/releases/0.0.9").mkdir()
    (root / "opt/gatewayd/current").symlink_to("releases/0.0.9")
    env = {**os.environ, "DPKG_ROOT": str(root)}
    subprocess.run(["sh", str(ctrl / "postinst"), "configure"], env=env, check=True, timeout=60)
    assert os.readlink(root / "opt/gatewayd/current") == "releases/0.1.0"
    assert os.readlink(root / "opt/gatewayd/previous") == "releases/0.0.9"
    assert (rel / "gatewayd").read_text() == "#!/bin/sh\n"
    subprocess.run(["sh", str(ctrl / "postrm"), "remove"], env=env, check=True, timeout=60)
    assert not (root / "opt/gatewayd").exists() and (root / "etc/gatewayd/gatewayd.toml").exists()
