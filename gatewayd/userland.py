"""Which wheels this machine's userland runs: the answer scripts/install builds a release for.

The kernel is the wrong witness. Raspberry Pi OS Bookworm 32-bit boots a 64-bit kernel on a
Pi 4 or 5, so `uname -m` says aarch64 while every program, Python included, is 32-bit ARM;
an ARMv6 board (Pi Zero, Pi 1) says armv6l and must not get armv7 or x86-64 wheels. The
userland is what dpkg was built for (`dpkg --print-architecture`), and for 32-bit ARM the CPU
generation decides between armv6l and armv7l wheels:

    dpkg arch   cpu                     wheels          index
    arm64       any                     linux_aarch64   the default (manylinux wheels)
    armhf       ARMv7 or ARMv8          linux_armv7l    piwheels (the default has few)
    armhf       ARMv6 (armv6l, BCM2835) linux_armv6l    piwheels
    amd64       any                     linux_x86_64    the default

Anything else is refused by name rather than guessed.

    python -m gatewayd.userland [--dpkg-arch A --machine M --cpuinfo FILE]
    platform=linux_armv7l bits=32 piwheels=yes
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Userland:
    platform: str  # the wheel platform tag scripts/install asks for
    bits: int
    piwheels: bool  # its dependencies (numpy, msgpack, msgspec, cffi) come from piwheels

    def line(self) -> str:
        return f"platform={self.platform} bits={self.bits} piwheels={'yes' if self.piwheels else 'no'}"


class Unsupported(ValueError):
    """A userland gatewayd has no wheels for; the message names it."""


def detect(dpkg_arch: str, machine: str, cpuinfo: str = "") -> Userland:
    """From dpkg's architecture, `uname -m` and /proc/cpuinfo (pure: tests fake all three)."""
    arch = dpkg_arch.strip()
    if arch == "arm64":
        return Userland("linux_aarch64", 64, False)
    if arch == "amd64":
        return Userland("linux_x86_64", 64, False)
    if arch in ("armhf", "armel"):
        return Userland("linux_armv6l" if _armv6(machine, cpuinfo) else "linux_armv7l", 32, True)
    raise Unsupported(f"userland {arch or '?'} (kernel {machine or '?'}): gatewayd installs on "
                      "arm64, armhf (Raspberry Pi OS 32-bit) and amd64")


def _armv6(machine: str, cpuinfo: str) -> bool:
    """An ARMv6 CPU: the kernel says armv6l, or cpuinfo's architecture is 6."""
    if machine.strip() == "armv6l":
        return True
    found = re.search(r"(?im)^CPU architecture\s*:\s*(\d+)", cpuinfo)
    return found is not None and int(found.group(1)) < 7


def here() -> Userland:
    """This machine's userland."""
    import platform

    return detect(_dpkg_arch(), platform.machine(), _read("/proc/cpuinfo"))


def _dpkg_arch() -> str:
    try:
        done = subprocess.run(["dpkg", "--print-architecture"], capture_output=True, text=True,
                              timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return done.stdout.strip() if done.returncode == 0 else ""


def _read(path: str) -> str:
    try:
        return Path(path).read_text(errors="replace")
    except OSError:
        return ""


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m gatewayd.userland", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dpkg-arch", help="instead of `dpkg --print-architecture`")
    ap.add_argument("--machine", help="instead of `uname -m`")
    ap.add_argument("--cpuinfo", help="a file instead of /proc/cpuinfo")
    args = ap.parse_args(argv)
    import platform

    try:
        found = detect(args.dpkg_arch if args.dpkg_arch is not None else _dpkg_arch(),
                       args.machine if args.machine is not None else platform.machine(),
                       _read(args.cpuinfo or "/proc/cpuinfo"))
    except Unsupported as e:
        print(f"install: {e}", file=sys.stderr)
        return 1
    print(found.line())
    return 0


if __name__ == "__main__":
    sys.exit(main())
