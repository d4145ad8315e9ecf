"""Helpers for the fleet tests: keys, tiny release bundles, a gateway root, a service manager.

Bundles hold only the gatewayd wheel (built from a copy of this project, version set per
bundle); releases are installed with their venv sharing this project's installed packages, so
an install takes seconds and needs no network.
"""

from __future__ import annotations

import os
import shutil
import site
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from gatewayd.fleet import bundle, signing
from gatewayd.fleet.manifest import SignedManifest, Target

REPO = Path(__file__).resolve().parents[2]
SHARED_SITE = Path(site.getsitepackages()[0])
CONFIG = """[gateway]
id = "{gateway}"
site = "plant-a"
[broker]
url = "{broker}"
[store]
path = "{state}/queue.db"
"""

# A release that comes up (READY=1) and then hangs: no watchdog pings, never healthy.
HUNG_MAIN = '''

def main(argv=None):  # injected by the fleet tests: a release that hangs after READY
    import sys, time
    from . import systemd
    if (argv or sys.argv[1:])[:1] != ["run"]:
        return _real_main(argv)
    systemd.notify("READY=1")
    while True:
        time.sleep(1)
'''


def hang_after_ready(src: Path) -> None:
    cli = src / "gatewayd" / "cli.py"
    text = cli.read_text().replace("def main(", "def _real_main(", 1)
    cli.write_text(text + HUNG_MAIN)


@dataclass
class Fleet:
    """A fleet's two keys: `private`/`public` sign releases, `command_*` sign commands."""

    dir: Path
    private: signing.Ed25519PrivateKey
    public: Path
    command_private: signing.Ed25519PrivateKey
    command_public: Path

    def release(self, version: str, target: Target | None = None, allow_downgrade: bool = False,
                change: Callable[[Path], None] | None = None, sign: bool = True,
                ) -> tuple[SignedManifest, Path]:
        """Build and sign a bundle of this project at `version` (optionally changed first)."""
        project = REPO
        if change is not None:
            project = self.dir / f"src-{version}"
            shutil.copytree(REPO / "gatewayd", project / "gatewayd",
                            ignore=shutil.ignore_patterns("__pycache__"))
            shutil.copy(REPO / "pyproject.toml", project / "pyproject.toml")
            shutil.copy(REPO / "README.md", project / "README.md")
            change(project)
        opts = bundle.BuildOptions(target=target or Target(), allow_downgrade=allow_downgrade,
                                   version=version)
        signed = bundle.build(project, self.dir, opts)
        if sign:
            signed = signing.sign_manifest(signed, self.private)
        return signed, self.dir / signed.manifest.bundle_name


def make_fleet(path: Path) -> Fleet:
    path.mkdir(parents=True, exist_ok=True)
    signing.keygen(path / "release.key", path / "release.pub", "release")
    signing.keygen(path / "command.key", path / "command.pub", "command")
    return Fleet(path, signing.load_private(path / "release.key"), path / "release.pub",
                 signing.load_private(path / "command.key"), path / "command.pub")


def install_first(root: Path, fleet: Fleet, bundle_path: Path, version: str) -> None:
    """What scripts/install does on a fresh gateway, through the CLI."""
    gatewayd_cli(["release", "install", str(bundle_path), "--version", version, "--root", str(root),
                  "--share-site-packages", str(SHARED_SITE)])
    keys = root / "etc/gatewayd/keys"
    for role, public in (("release", fleet.public), ("command", fleet.command_public)):
        (keys / role).mkdir(parents=True, exist_ok=True)
        shutil.copy(public, keys / role / public.name)


def write_config(root: Path, gateway: str, broker: str = "mqtt://127.0.0.1:1") -> Path:
    state = root / "var/lib/gatewayd"
    state.mkdir(parents=True, exist_ok=True)
    conf = root / "etc/gatewayd/gatewayd.toml"
    conf.parent.mkdir(parents=True, exist_ok=True)
    conf.write_text(CONFIG.format(gateway=gateway, broker=broker, state=state))
    return conf


def gatewayd_cli(args: list[str], env: dict[str, str] | None = None) -> str:
    done = subprocess.run([sys.executable, "-m", "gatewayd.cli", *args], capture_output=True,
                          text=True, env={**os.environ, **(env or {})}, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


# ---------------------------------------------------------------------------------------------
# The service manager, where systemd cannot run: it follows the unit files' settings.


def unit_settings(path: Path) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for line in path.read_text().splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, _, value = line.partition("=")
            out.setdefault(key.strip(), []).append(value.strip())
    return out


def seconds(value: str) -> float:
    units = {"ms": 0.001, "s": 1.0, "min": 60.0}
    for suffix, factor in units.items():
        if value.endswith(suffix) and value[: -len(suffix)].isdigit():
            return int(value[: -len(suffix)]) * factor
    return float(value)


@dataclass
class ServiceManager:
    """Runs gatewayd.service as its unit says, in a root prefix, with time scaled down.

    Type=notify (READY over a real notify socket), WatchdogSec (kill on silence), Restart=on-
    failure with RestartSec, RestartForceExitStatus, StartLimitIntervalSec/Burst, and then
    OnFailure= (the rollback unit: its ExecCondition, ExecStart and the restart its
    ExecStartPost asks for). Absolute /opt/gatewayd and /etc/gatewayd paths are mapped into the
    root; StateDirectory= becomes $STATE_DIRECTORY as systemd sets it.
    """

    root: Path
    notify_path: Path
    scale: float = 0.05
    log: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.unit = unit_settings(REPO / "systemd/gatewayd.service")
        self.rollback_unit = unit_settings(REPO / "systemd/gatewayd-rollback.service")
        self.env = {**os.environ, "GATEWAYD_ROOT": str(self.root),
                    "STATE_DIRECTORY": str(self.root / "var/lib/gatewayd"),
                    "NOTIFY_SOCKET": str(self.notify_path), "PYTHONDONTWRITEBYTECODE": "1"}

    def _argv(self, line: str) -> list[str]:
        mapped = []
        for word in line.split():
            for prefix in ("/opt/gatewayd", "/etc/gatewayd"):
                if word.startswith(prefix):
                    word = str(self.root) + word
            mapped.append(word)
        return mapped

    def _one(self, key: str) -> str:
        return self.unit[key][0]

    def run(self, sock: object, until: Callable[[list[str]], bool], timeout_s: float) -> None:
        """Start the service and manage it until `until(log)` holds (or the time is up)."""
        import socket as socketmod

        assert isinstance(sock, socketmod.socket)
        restart_s = seconds(self._one("RestartSec")) * self.scale
        watchdog_s = seconds(self._one("WatchdogSec")) * self.scale
        burst = int(self._one("StartLimitBurst"))
        deadline = time.monotonic() + timeout_s
        starts: list[float] = []
        while time.monotonic() < deadline and not until(self.log):
            starts.append(time.monotonic())
            code = self._start_once(sock, watchdog_s, deadline, until)
            if code is None:
                return
            self.log.append(f"exit {code}")
            forced = str(code) in self.unit.get("RestartForceExitStatus", [""])[0].split()
            if code == 0 and not forced:
                return
            if len(starts) >= burst and not forced:
                self.log.append("failed: start limit hit")
                starts.clear()
                self._on_failure()
                continue
            time.sleep(restart_s)

    def _start_once(self, sock: object, watchdog_s: float, deadline: float,
                    until: Callable[[list[str]], bool]) -> int | None:
        env = {**self.env, "WATCHDOG_USEC": str(int(watchdog_s * 1e6))}
        proc = subprocess.Popen(self._argv(self._one("ExecStart")), env=env,
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.log.append(f"start {os.readlink(self.root / 'opt/gatewayd/current')}")
        last_ping, ready = time.monotonic(), False
        start_s = seconds(self._one("TimeoutStartSec")) * self.scale
        try:
            while proc.poll() is None:
                for msg in _drain(sock):
                    self.log.append(msg)
                    ready = ready or "READY=1" in msg
                    if "WATCHDOG=1" in msg or "READY=1" in msg:
                        last_ping = time.monotonic()
                if until(self.log) or time.monotonic() > deadline:
                    return None
                # the watchdog runs from READY on; before it, TimeoutStartSec applies
                if time.monotonic() - last_ping > (watchdog_s if ready else start_s):
                    self.log.append("watchdog timeout" if ready else "start timeout")
                    proc.send_signal(6)  # systemd sends SIGABRT on watchdog timeout
                    last_ping = time.monotonic() + 60
                time.sleep(0.02)
            return proc.returncode
        finally:
            if proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(10)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()

    def _on_failure(self) -> None:
        assert self.unit["OnFailure"] == ["gatewayd-rollback.service"]
        cond = subprocess.run(self._argv(self.rollback_unit["ExecCondition"][0]), env=self.env,
                              capture_output=True)
        if cond.returncode != 0:
            self.log.append("rollback skipped")
            return
        done = subprocess.run(self._argv(self.rollback_unit["ExecStart"][0]), env=self.env,
                              capture_output=True, text=True)
        self.log.append(f"rollback exit {done.returncode}: {done.stdout.strip()}")
        # ExecStartPost: reset-failed + start gatewayd.service -> the loop starts it again


def _drain(sock: object) -> list[str]:
    import socket as socketmod

    assert isinstance(sock, socketmod.socket)
    out = []
    while True:
        try:
            out.append(sock.recv(65536).decode())
        except BlockingIOError:
            return out
