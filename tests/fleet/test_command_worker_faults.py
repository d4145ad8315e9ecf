"""The command worker outlives every command, in the real daemon against a real mosquitto.

Each fault below ended the command thread once, after which commands went unanswered: a signed
update whose bundle is not a tar, an unwritable nonce file (a read-only tmpfs), a full disk (a
small tmpfs filled up), a command key file that cannot be parsed, a 60 MB junk command. Now
each is refused or reported with an event, and the next signed ping is answered."""

from __future__ import annotations

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from gatewayd.consumer import Listener
from gatewayd.fleet import manifest as mf
from gatewayd.fleet import signing
from gatewayd.fleet.commands import sign_command

CONFIG = """
[gateway]
id = "{gw}"
site = "s1"
[broker]
url = "{url}"
protocol = "{protocol}"
[store]
path = "{tmp}/store/q.db"
[publish]
interval_ms = 100
"""
JUNK_MB = 60


def _mount(path: Path, options: str) -> None:
    path.mkdir(parents=True, exist_ok=True)
    subprocess.run(["mount", "-t", "tmpfs", "-o", options, "tmpfs", str(path)], check=True)


def _umount(path: Path) -> None:
    subprocess.run(["umount", "-l", str(path)], check=False)


@pytest.fixture
def state(tmp_path: Path) -> Iterator[Path]:
    """The daemon's state directory on a 256 KiB tmpfs of its own."""
    if os.geteuid() != 0:
        pytest.fail("these tests mount tmpfs: run them as root (scripts/test does)")
    path = tmp_path / "state"
    _mount(path, "size=256k,mode=0700")
    yield path
    _umount(path)


class Gateway:
    """The real daemon, a publisher of commands, and a listener of its events."""

    def __init__(self, tmp: Path, url: str, port: int, state: Path, protocol: str) -> None:
        self.id = f"gw-fault-{protocol.replace('.', '')}"
        self.tmp, self.port = tmp, port
        self.topic = f"gatewayd/s1/{self.id}/cmd/"
        etc = tmp / "etc"
        for role in ("release", "command"):
            (etc / "keys" / role).mkdir(parents=True)
            signing.keygen(tmp / f"{role}.key", etc / "keys" / role / f"{role}.pub", role)
        self.release = signing.load_private(tmp / "release.key")
        self.command = signing.load_private(tmp / "command.key")
        (tmp / "store").mkdir()
        cfg = etc / "gatewayd.toml"
        cfg.write_text(CONFIG.format(gw=self.id, url=url, tmp=tmp, protocol=protocol))
        self.listener = Listener(url, self.id).start()
        env = {**os.environ, "STATE_DIRECTORY": str(state), "GATEWAYD_ROOT": str(tmp / "root")}
        self.proc = subprocess.Popen([sys.executable, "-m", "gatewayd.cli", "run", "--config",
                                      str(cfg)], env=env, stdout=subprocess.DEVNULL,
                                     stderr=subprocess.DEVNULL)
        self.pub = mqtt.Client(CallbackAPIVersion.VERSION2)
        self.pub.connect("127.0.0.1", port)
        self.pub.loop_start()
        self.seen: list[dict[str, Any]] = []

    def send(self, verb: str, payload: bytes) -> None:
        self.pub.publish(self.topic + verb, payload, qos=1).wait_for_publish(30)

    def ping(self, key: Any = None) -> None:
        self.send("ping", sign_command(key or self.command, "ping", self.id, {}))

    def wait(self, pred: Callable[[dict[str, Any]], bool], timeout_s: float = 15) -> dict[str, Any]:
        """The first event (since the last wait) for which `pred` holds."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            for rec in self.listener.records(timeout_s=0.2):
                if rec.get("type") == "event":
                    self.seen.append(rec)
                    if pred(rec):
                        return rec
        raise AssertionError(f"not seen; events so far: {self.seen[-8:]}")

    def pong(self) -> None:
        """A signed ping is answered: the worker is alive and serving."""
        self.ping()
        self.wait(lambda e: e["kind"] == "pong")

    def up(self, pred: Callable[[dict[str, Any]], bool] = lambda e: e["kind"] == "pong",
           ) -> dict[str, Any]:
        """Ping until an event satisfies `pred`: the daemon subscribes once it is connected."""
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            self.ping()
            try:
                return self.wait(pred, timeout_s=1.5)
            except AssertionError:
                continue
        raise AssertionError("the daemon never answered a ping")

    def peak_rss_kb(self) -> int:
        for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
        raise AssertionError("no VmHWM")

    def close(self) -> None:
        self.pub.loop_stop()
        self.pub.disconnect()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(20)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
            self.listener.stop()


def _refused(e: dict[str, Any], text: str) -> bool:
    return e["kind"] == "command" and text in str(e.get("refused", ""))


def _not_a_tar_update(gw: Gateway) -> bytes:
    junk = gw.tmp / "junk.tar"
    junk.write_bytes(b"this is not a tar archive\n" * 400)
    m = mf.Manifest(version="9.0.0", bundle_sha256=hashlib.sha256(junk.read_bytes()).hexdigest(),
                    bundle_size=junk.stat().st_size, bundle_name="junk.tar")
    signed = signing.sign_manifest(mf.SignedManifest(manifest=m), gw.release)
    args = {"manifest": signed.as_dict(), "bundle_url": str(junk)}
    return sign_command(gw.command, "update", gw.id, args)


def test_every_fault_is_reported_and_the_next_command_served(tmp_path: Path, broker: Any,
                                                              state: Path) -> None:
    """Not a tar, a read-only and a full state dir, a broken key file, 60 MB of junk: each is an
    event, the worker lives on, and under MQTT 5 the junk never reaches the daemon's memory."""
    gw = Gateway(tmp_path, broker.url, broker.port, state, "5")
    try:
        gw.up()
        gw.send("update", _not_a_tar_update(gw))
        refusal = gw.wait(lambda e: e["kind"] == "update" and e.get("step") == "refused")
        assert refusal["at"] == "install" and "not an uncompressed tar" in refusal["reason"]
        gw.pong()

        subprocess.run(["mount", "-o", "remount,ro", str(state)], check=True)
        gw.ping()
        gw.wait(lambda e: _refused(e, "cannot record the command's nonce"))
        subprocess.run(["mount", "-o", "remount,rw", str(state)], check=True)
        gw.pong()

        filler = state / "filler"
        with pytest.raises(OSError), filler.open("wb") as f:
            for _ in range(1024):
                f.write(b"\0" * 4096)
                f.flush()
        gw.ping()
        gw.wait(lambda e: _refused(e, "No space left"))
        filler.unlink()
        gw.pong()

        keyfile = tmp_path / "etc/keys/command/command.pub"
        good = keyfile.read_bytes()
        shutil.rmtree(state / "downloads", ignore_errors=True)
        keyfile.write_text("gatewayd-key-role: command\n-----BEGIN PUBLIC KEY-----\ngarbage\n")
        _restart(gw, state)
        error = gw.up(lambda e: e["kind"] == "command" and "error" in e)
        assert "command.pub" in error["error"] or "Error" in error["error"]
        keyfile.write_bytes(good)
        gw.pong()

        before = gw.peak_rss_kb()
        gw.send("ping", os.urandom(JUNK_MB << 20))
        gw.pong()
        assert gw.peak_rss_kb() - before < 8 * 1024, "the junk reached the daemon's memory"
        assert gw.proc.poll() is None
    finally:
        gw.close()


def _restart(gw: Gateway, state: Path) -> None:
    """The keys are read at the first command and then kept, so restart the daemon on the same
    state (what an operator does after changing keys) for it to meet the broken file."""
    gw.proc.send_signal(signal.SIGTERM)
    gw.proc.wait(20)
    env = {**os.environ, "STATE_DIRECTORY": str(state), "GATEWAYD_ROOT": str(gw.tmp / "root")}
    gw.proc = subprocess.Popen([sys.executable, "-m", "gatewayd.cli", "run", "--config",
                                str(gw.tmp / "etc/gatewayd.toml")], env=env,
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def test_junk_under_mqtt_311_is_thrown_away_as_it_arrives(tmp_path: Path, broker: Any,
                                                          state: Path) -> None:
    """MQTT 3.1.1 cannot tell the broker a limit, so the 60 MB do arrive: they are read off the
    socket in chunks and thrown away, never buffered whole; a `command dropped` event gives
    the size, the QoS 1 message is acknowledged, and the next command is served."""
    gw = Gateway(tmp_path, broker.url, broker.port, state, "3.1.1")
    try:
        gw.up()
        before = gw.peak_rss_kb()
        gw.send("ping", os.urandom(JUNK_MB << 20))
        drop = gw.wait(lambda e: _refused(e, "command dropped"))
        packet = int(drop["refused"].split("a packet of ")[1].split()[0])
        assert JUNK_MB << 20 < packet < (JUNK_MB << 20) + 100 and "not read" in drop["refused"]
        gw.pong()
        assert gw.peak_rss_kb() - before < 8 * 1024, "the junk reached the daemon's memory"
        assert gw.proc.poll() is None
    finally:
        gw.close()


def _has_cryptography(pid: int) -> bool:
    """cryptography's compiled library is mapped into the process (it is once imported)."""
    return "site-packages/cryptography/" in Path(f"/proc/{pid}/maps").read_text()


def test_cryptography_is_loaded_only_when_a_command_arrives(tmp_path: Path, broker: Any,
                                                            state: Path) -> None:
    """A running, connected daemon has not mapped cryptography's library; the first command
    loads it (issue 12's footprint: a gateway that is never commanded never pays for it)."""
    gw = Gateway(tmp_path, broker.url, broker.port, state, "5")
    try:
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline and not any(True for _ in gw.listener.records(0.5)):
            pass  # its birth certificate: connected
        assert gw.proc.poll() is None
        assert not _has_cryptography(gw.proc.pid)
        gw.up()
        assert _has_cryptography(gw.proc.pid)
    finally:
        gw.close()
