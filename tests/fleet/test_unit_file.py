"""The systemd units: exposure at most 1.6, clean under systemd-analyze verify, and bounded in
memory and tasks."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]

UNITS = REPO / "systemd"
ANALYZE = shutil.which("systemd-analyze") or "/usr/bin/systemd-analyze"
BINARIES = ("/opt/gatewayd/current/venv/bin/gatewayd", "/opt/gatewayd/previous/venv/bin/gatewayd")


def _root(tmp_path: Path) -> Path:
    """A root tree holding the units, the stock systemd units and the binaries ExecStart names.

    `verify` resolves every path under --root, so this works where systemd is not PID 1.
    """
    root = tmp_path / "root"
    (root / "etc/systemd/system").mkdir(parents=True)
    (root / "usr/lib/systemd").mkdir(parents=True)
    shutil.copytree("/usr/lib/systemd/system", root / "usr/lib/systemd/system", symlinks=True)
    (root / "usr/bin").mkdir(parents=True, exist_ok=True)
    (root / "bin").symlink_to("usr/bin")
    for name in ("kill", "systemctl"):
        shutil.copy(shutil.which(name) or f"/usr/bin/{name}", root / "usr/bin" / name)
    for binary in BINARIES:
        path = root / binary.lstrip("/")
        path.parent.mkdir(parents=True)
        path.write_text("#!/bin/sh\n")
        path.chmod(0o755)
    for unit in UNITS.glob("*.service"):
        shutil.copy(unit, root / "etc/systemd/system" / unit.name)
    return root


def test_units_verify_clean(tmp_path: Path) -> None:
    """systemd-analyze verify finds nothing in gatewayd.service and gatewayd-rollback.service."""
    root = _root(tmp_path)
    for name in ("gatewayd.service", "gatewayd-rollback.service"):
        unit = root / "etc/systemd/system" / name
        run = subprocess.run(
            [ANALYZE, "verify", f"--root={root}", str(unit)], capture_output=True, text=True
        )
        assert run.returncode == 0 and not (run.stdout + run.stderr).strip(), run.stderr


def test_verify_would_notice_a_problem(tmp_path: Path) -> None:
    """The verify set-up is not blind: an unknown key is reported."""
    root = _root(tmp_path)
    unit = root / "etc/systemd/system/gatewayd.service"
    unit.write_text(unit.read_text().replace("[Service]\n", "[Service]\nNoSuchKey=1\n"))
    run = subprocess.run([ANALYZE, "verify", f"--root={root}", str(unit)], capture_output=True)
    assert b"NoSuchKey" in run.stderr


def test_security_exposure_is_at_most_1_6(tmp_path: Path) -> None:
    """systemd-analyze security --offline rates the daemon's unit at most 1.6 (was: 2.0)."""
    run = subprocess.run(
        [ANALYZE, "security", "--offline=true", "--no-pager", str(UNITS / "gatewayd.service")],
        capture_output=True,
        text=True,
    )
    found = re.search(r"Overall exposure level for gatewayd.service: ([0-9.]+)", run.stdout)
    assert found, run.stdout + run.stderr
    assert float(found.group(1)) <= 1.6


def _settings(unit: Path) -> list[tuple[str, str]]:
    pairs = []
    for line in unit.read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            pairs.append((key.strip(), value.strip()))
    return pairs


def test_unit_still_reaches_devices_and_network() -> None:
    """Hardening leaves the buses and the network open: device ACL, groups, address families."""
    pairs = _settings(UNITS / "gatewayd.service")
    allowed = {v.split()[0] for k, v in pairs if k == "DeviceAllow"}
    assert {"char-i2c", "char-gpiochip", "char-ttyS", "char-ttyUSB", "char-ttyACM"} <= allowed
    conf = dict(pairs)
    assert set(conf["SupplementaryGroups"].split()) == {"i2c", "gpio", "dialout"}
    assert {"AF_INET", "AF_INET6"} <= set(conf["RestrictAddressFamilies"].split())
    assert conf.get("PrivateDevices", "no") == "no" and conf.get("PrivateNetwork", "no") == "no"
    assert (conf["Type"], conf["NotifyAccess"], conf["Restart"]) == ("notify", "main", "on-failure")
    assert conf["OnFailure"] == "gatewayd-rollback.service"


def _bytes(value: str) -> int:
    units = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}
    return int(value[:-1]) * units[value[-1]] if value[-1] in units else int(value)


def test_unit_bounds_memory_and_tasks() -> None:
    """MemoryMax= and TasksMax= are set: a runaway ends in a restart of the service, not of the
    board. MemoryHigh sits below MemoryMax, swap is off, and the bounds leave room for the
    daemon (about 60 MB) plus an update's pip."""
    conf = dict(_settings(UNITS / "gatewayd.service"))
    high, top = _bytes(conf["MemoryHigh"]), _bytes(conf["MemoryMax"])
    assert 128 << 20 <= high < top <= 512 << 20
    assert conf["MemorySwapMax"] == "0"
    assert 32 <= int(conf["TasksMax"]) <= 512


def test_unit_limits_are_what_systemd_reads(tmp_path: Path) -> None:
    """systemd itself parses the limits (a typo would be dropped with a warning, not refused)."""
    root = _root(tmp_path)
    unit = root / "etc/systemd/system/gatewayd.service"
    run = subprocess.run([ANALYZE, "verify", f"--root={root}", str(unit)], capture_output=True,
                         text=True)
    assert run.returncode == 0 and not (run.stdout + run.stderr).strip(), run.stderr
    unit.write_text(unit.read_text().replace("MemoryMax=256M", "MemoryMax=lots"))
    bad = subprocess.run([ANALYZE, "verify", f"--root={root}", str(unit)], capture_output=True,
                         text=True)
    assert "Invalid memory limit 'lots'" in bad.stderr
