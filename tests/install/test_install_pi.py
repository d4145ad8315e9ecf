"""scripts/install for a Raspberry Pi: wheels for the userland (faked here: dpkg, uname,
cpuinfo), gatewayd on PATH, files the service user can read, raspi-config asked for I2C and
the UART, and a real package index asked which platforms have wheels."""

from __future__ import annotations

import json
import os
import site
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from gatewayd.userland import Unsupported, Userland, detect, main

REPO = Path(__file__).resolve().parents[2]
PI4_CPUINFO = "processor\t: 0\nmodel name\t: ARMv7 Processor rev 3 (v7l)\nCPU architecture: 8\n"
PI_ZERO_CPUINFO = "processor\t: 0\nmodel name\t: ARMv6-compatible processor rev 7 (v6l)\n" \
                  "CPU architecture: 7\n"


@pytest.mark.parametrize("dpkg, machine, cpuinfo, expected", [
    ("arm64", "aarch64", PI4_CPUINFO, Userland("linux_aarch64", 64, False)),
    # Bookworm 32-bit on a Pi 4/5 boots a 64-bit kernel: uname says aarch64, the userland is armhf
    ("armhf", "aarch64", PI4_CPUINFO, Userland("linux_armv7l", 32, True)),
    ("armhf", "armv7l", PI4_CPUINFO, Userland("linux_armv7l", 32, True)),
    # a Pi Zero / Pi 1: ARMv6, whatever cpuinfo's architecture line claims
    ("armhf", "armv6l", PI_ZERO_CPUINFO, Userland("linux_armv6l", 32, True)),
    ("armhf", "", "CPU architecture: 6\n", Userland("linux_armv6l", 32, True)),
    ("amd64", "x86_64", "", Userland("linux_x86_64", 64, False)),
])
def test_wheels_follow_the_userland(dpkg: str, machine: str, cpuinfo: str,
                                    expected: Userland) -> None:
    """The userland decides, not the kernel."""
    assert detect(dpkg, machine, cpuinfo) == expected


@pytest.mark.parametrize("dpkg, machine", [("", "armv6l"), ("riscv64", "riscv64"), ("i386", "i686")])
def test_no_fall_through_to_x86(dpkg: str, machine: str) -> None:
    """An unknown or unsupported userland is refused by name, never taken for x86-64."""
    with pytest.raises(Unsupported, match="gatewayd installs on arm64, armhf"):
        detect(dpkg, machine)


def test_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """What scripts/install reads: one line, or exit 1 saying why."""
    info = tmp_path / "cpuinfo"
    info.write_text(PI4_CPUINFO)
    assert main(["--dpkg-arch", "armhf", "--machine", "aarch64", "--cpuinfo", str(info)]) == 0
    assert capsys.readouterr().out == "platform=linux_armv7l bits=32 piwheels=yes\n"
    assert main(["--dpkg-arch", "mips", "--machine", "mips"]) == 1
    assert "userland mips" in capsys.readouterr().err


def install(root: Path, *args: str, env: dict[str, str] | None = None
            ) -> subprocess.CompletedProcess[str]:
    site_dir = site.getsitepackages()[0]
    return subprocess.run([str(REPO / "scripts/install"), "--root", str(root),
                           "--share-site-packages", site_dir, *args],
                          capture_output=True, text=True, timeout=300, env=env)


def test_root_install_on_path_with_readable_files(tmp_path: Path) -> None:
    """gatewayd is on PATH in the root; a password file root made 0600 becomes group-readable
    (the unit runs as group gatewayd), keys and the config stay as they were; raspi-config is
    named for I2C and the UART (console off first) but not run outside /."""
    root = tmp_path / "root"
    etc = root / "etc/gatewayd"
    (etc / "keys").mkdir(parents=True)
    secret = etc / "broker.pass"
    secret.write_text("s3cret\n")
    secret.chmod(0o600)
    key = etc / "keys/release.pub"
    key.write_text("k")
    key.chmod(0o600)
    done = install(root, "--enable-i2c", "--enable-uart")
    assert done.returncode == 0, done.stderr
    pyver = "{}.{}".format(*sys.version_info[:2])
    assert f"wheels for linux_x86_64, Python {pyver}" in done.stdout
    link = root / "usr/local/bin/gatewayd"
    assert os.readlink(link) == "/opt/gatewayd/current/venv/bin/gatewayd"
    target = root / "opt/gatewayd/current/venv/bin/gatewayd"
    assert target.exists()
    assert stat.S_IMODE(secret.stat().st_mode) == 0o640
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert stat.S_IMODE((etc / "gatewayd.toml").stat().st_mode) == 0o600
    would = [line.strip() for line in done.stdout.splitlines() if "would run raspi-config" in line]
    assert [w.split("nonint ")[1] for w in would] == ["do_i2c 0", "do_serial_cons 1",
                                                      "do_serial_hw 0"]
    version = subprocess.run([str(target), "check", str(etc / "gatewayd.toml")],
                             capture_output=True, text=True)
    assert version.returncode == 0, version.stderr


def test_a_32_bit_userland_without_piwheels_stops_early(tmp_path: Path) -> None:
    """armhf (a faked dpkg) with no extra index in pip's config: exit 1 before building,
    saying where piwheels is configured on Raspberry Pi OS."""
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "dpkg").write_text("#!/bin/sh\necho armhf\n")
    (fake / "dpkg").chmod(0o755)
    env = {**os.environ, "PATH": f"{fake}:{os.environ['PATH']}", "PIP_CONFIG_FILE": os.devnull}
    env.pop("PIP_EXTRA_INDEX_URL", None)
    env.pop("PIP_INDEX_URL", None)
    done = install(tmp_path / "root", env=env)
    assert done.returncode == 1
    assert "linux_armv7l userland takes numpy, msgpack, msgspec and cffi from" in done.stderr
    assert "piwheels" in done.stderr
    assert "/etc/pip.conf" in done.stderr and "--extra-index-url" in done.stderr
    assert not (tmp_path / "root/opt").exists()


COMPILED = ["numpy", "msgpack", "msgspec", "cffi", "cryptography", "lgpio"]
TAGS = {"linux_aarch64": ["manylinux2014_aarch64", "manylinux_2_28_aarch64"],
        "linux_x86_64": ["manylinux2014_x86_64", "manylinux_2_28_x86_64"],
        "linux_armv7l": ["manylinux2014_armv7l", "manylinux_2_31_armv7l", "linux_armv7l"]}


def resolve(platform: str, tmp_path: Path, packages: list[str] = COMPILED,
            ) -> subprocess.CompletedProcess[str]:
    """Ask the package index (pip's configured one) for wheels of the compiled dependencies,
    metadata only (no wheel bodies are fetched when the index serves metadata)."""
    args = [sys.executable, "-m", "pip", "--disable-pip-version-check", "install", "--dry-run",
            "--ignore-installed", "--only-binary=:all:", "--python-version", "3.11",
            "--implementation", "cp", "--target", str(tmp_path / platform), "--timeout", "15",
            "--retries", "1", "--report", str(tmp_path / f"{platform}.json")]
    for tag in TAGS[platform]:
        args += ["--platform", tag]
    env = {**os.environ, "PIP_CONFIG_FILE": os.devnull}  # the default index only
    env.pop("PIP_EXTRA_INDEX_URL", None)
    try:
        done = subprocess.run([*args, *packages], capture_output=True, text=True, timeout=240,
                              env=env)
    except subprocess.TimeoutExpired:
        pytest.fail("the package index did not answer within 240 s (network?)")
    unreachable = ("NewConnectionError", "Temporary failure in name resolution",
                   "Network is unreachable", "Max retries exceeded")
    if any(u in done.stderr for u in unreachable):
        pytest.fail(f"the package index is unreachable: {done.stderr.strip()[-400:]}")
    return done


@pytest.mark.parametrize("platform", ["linux_aarch64", "linux_x86_64"])
def test_the_index_has_wheels_for_64_bit(tmp_path: Path, platform: str) -> None:
    """Every compiled dependency, lgpio included, has a wheel for a 64-bit userland."""
    done = resolve(platform, tmp_path)
    assert done.returncode == 0, done.stderr[-800:]
    names = {i["metadata"]["name"].lower().replace("_", "-")
             for i in json.loads((tmp_path / f"{platform}.json").read_text())["install"]}
    assert {n.lower() for n in COMPILED} <= names


def test_the_default_index_lacks_armv7_wheels(tmp_path: Path) -> None:
    """Why a 32-bit userland needs piwheels: the default index has no armv7l wheels for these."""
    done = resolve("linux_armv7l", tmp_path)
    assert done.returncode != 0
    assert "No matching distribution found" in done.stderr


def test_msgspec_comes_from_piwheels_on_32_bit(tmp_path: Path) -> None:
    """msgspec (the config and command types) has wheels for 64-bit ARM on the default index,
    but none for armv7l: on a 32-bit userland it is one of the packages piwheels provides, as
    scripts/install says."""
    done = resolve("linux_armv7l", tmp_path, ["msgspec"])
    assert done.returncode != 0
    assert "No matching distribution found for msgspec" in done.stderr
