"""Signed commands over MQTT to the real daemon process: a fleet-signed ping is answered,
a replay, an unsigned command and one for another gateway are refused with an event, and a
signed reload re-reads the config."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion

from gatewayd.consumer import Listener
from gatewayd.fleet.commands import sign_command
from gatewayd.fleet.signing import keygen, load_private

CONFIG = """
[gateway]
id = "gw-cmd"
site = "s1"
[broker]
url = "{url}"
[store]
path = "{tmp}/state/q.db"
[publish]
interval_ms = 100
"""


def events(listener: Listener, pred: Any, timeout_s: float = 10) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        got += [r for r in listener.records(timeout_s=0.2) if r.get("type") == "event"]
        if pred(got):
            return got
    raise AssertionError(f"not seen: {got}")


def test_signed_commands_end_to_end(tmp_path: Path, broker: Any) -> None:
    """Only fleet-signed, fresh commands for this gateway are acted on; refusals are events."""
    etc = tmp_path / "etc"
    (etc / "keys" / "command").mkdir(parents=True)
    keygen(tmp_path / "fleet.key", etc / "keys" / "command" / "fleet.pub", "command")
    keygen(tmp_path / "rogue.key", tmp_path / "rogue.pub", "command")
    fleet, rogue = load_private(tmp_path / "fleet.key"), load_private(tmp_path / "rogue.key")
    cfg = etc / "gatewayd.toml"
    cfg.write_text(CONFIG.format(url=broker.url, tmp=tmp_path))
    listener = Listener(broker.url, "gw-cmd").start()
    proc = subprocess.Popen([sys.executable, "-m", "gatewayd.cli", "run", "--config", str(cfg)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pub = mqtt.Client(CallbackAPIVersion.VERSION2)
    pub.connect("127.0.0.1", broker.port)
    pub.loop_start()
    topic = "gatewayd/s1/gw-cmd/cmd/"
    try:
        events(listener, lambda g: True, timeout_s=1)
        time.sleep(1.5)  # the daemon subscribes once connected
        ping = sign_command(fleet, "ping", "gw-cmd", {"id": "a"})
        pub.publish(topic + "ping", ping, qos=1).wait_for_publish(5)
        got = events(listener, lambda g: any(e["kind"] == "pong" for e in g))
        pub.publish(topic + "ping", ping, qos=1).wait_for_publish(5)  # the same bytes again
        pub.publish(topic + "ping", sign_command(rogue, "ping", "gw-cmd", {}), qos=1)
        pub.publish(topic + "ping", sign_command(fleet, "ping", "gw-other", {}), qos=1)
        pub.publish(topic + "reload", sign_command(fleet, "reload", "gw-cmd", {}), qos=1)
        got += events(listener, lambda g: sum(1 for e in g if "refused" in e) >= 3
                      and any(e["kind"] == "reloaded" for e in g))
        assert proc.poll() is None
    finally:
        pub.loop_stop()
        pub.disconnect()
        proc.send_signal(signal.SIGTERM)
        proc.wait(20)
        listener.stop()
    refusals = " | ".join(e["refused"] for e in got if "refused" in e)
    assert "replayed" in refusals and "gw-other" in refusals
    assert any(e.get("accepted") and e["verb"] == "reload" for e in got)
