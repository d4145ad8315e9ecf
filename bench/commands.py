"""A junk-command flood against the real daemon through a real mosquitto; prints its peak RSS.

An attacker who can publish to `.../cmd/+` sends, for `--seconds` (default 20):
- small junk (random bytes, broken JSON, well-formed envelopes with bad signatures, unknown
  verbs, 60 KB topic levels) as fast as the broker takes it;
- oversized payloads of 1, 10 and 60 MB, a few of each.

Then a properly signed ping must still be answered (the command worker is alive), and the
daemon must still be running. The daemon's resident memory is sampled from /proc throughout;
its peak (VmHWM) is the figure. `--protocol 3.1.1` shows the difference MQTT 5's Maximum Packet
Size makes (under 3.1.1 the broker delivers the 60 MB and paho buffers them before the size
check can refuse them). Last line:
`protocol=… flood_msgs=… flood_mb=… baseline_rss_mb=… peak_rss_mb=… peak_growth_mb=…
answered_after=… alive=… target_peak_growth_mb=8`
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import paho.mqtt.client as mqtt

from gatewayd.consumer import Listener
from gatewayd.fleet import signing
from gatewayd.fleet.commands import sign_command
from gatewayd.testing.broker import Broker

GW = "gw-flood"
CONFIG = """[gateway]
id = "{gw}"
site = "bench"
[broker]
url = "{url}"
protocol = "{protocol}"
[store]
path = "{work}/state/q.db"
[publish]
interval_ms = 200
"""
TARGET_GROWTH_MB = 8


def rss_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    return 0


def junk_messages(rogue: signing.Ed25519PrivateKey) -> list[tuple[str, bytes]]:
    """(verb, payload) pairs of small junk, cycled through during the flood."""
    good_shape = json.loads(sign_command(rogue, "ping", GW, {}))
    good_shape["command"]["verb"] = "reboot"
    return [
        ("ping", os.urandom(512)),
        ("ping", b'{"command": {"verb": "ping"'),
        ("ping", b"[" * 50_000),  # deep nesting
        ("ping", sign_command(rogue, "ping", GW, {})),  # a key nobody trusts
        ("update", sign_command(rogue, "update", GW, {"bundle_url": "x"})),
        ("reboot", json.dumps(good_shape).encode()),
        ("x" * 60_000, b"{}"),  # a 60 KB topic level
    ]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seconds", type=float, default=20.0)
    ap.add_argument("--protocol", choices=("5", "3.1.1"), default="5")
    args = ap.parse_args()
    work = Path(tempfile.mkdtemp(prefix="gatewayd-flood-"))
    broker = Broker(work).start()
    etc = work / "etc"
    (work / "state").mkdir()
    for role in ("release", "command"):
        (etc / "keys" / role).mkdir(parents=True)
        signing.keygen(work / f"{role}.key", etc / "keys" / role / f"{role}.pub", role)
    signing.keygen(work / "rogue.key", work / "rogue.pub", "command")
    command = signing.load_private(work / "command.key")
    rogue = signing.load_private(work / "rogue.key")
    cfg = etc / "gatewayd.toml"
    cfg.write_text(CONFIG.format(gw=GW, url=broker.url, protocol=args.protocol, work=work))
    listener = Listener(broker.url, GW).start()
    daemon = subprocess.Popen([sys.executable, "-m", "gatewayd.cli", "run", "--config", str(cfg)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    pub = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-flood")
    pub.max_queued_messages_set(64)
    pub.connect("127.0.0.1", broker.port)
    pub.loop_start()
    topic = f"gatewayd/bench/{GW}/cmd/"
    sent = sent_bytes = 0
    try:
        if not answered(pub, topic, command, listener, 30):
            raise SystemExit("the daemon never answered a ping before the flood")
        time.sleep(1.0)
        baseline = rss_kb(daemon.pid, "VmRSS")
        junk = junk_messages(rogue)
        big = [1 << 20] * 4 + [10 << 20] * 3 + [60 << 20] * 3
        t_end = time.monotonic() + args.seconds
        step = max(1, int(args.seconds * 20) // len(big))
        i = 0
        while time.monotonic() < t_end:
            if big and i % step == 0:
                verb, payload = "update", os.urandom(big.pop(0))
            else:
                verb, payload = junk[i % len(junk)]
            pub.publish(topic + verb, payload, qos=i % 2).wait_for_publish(30)
            sent, sent_bytes, i = sent + 1, sent_bytes + len(payload), i + 1
            if i % 50 == 0:
                time.sleep(0.01)
        t0 = time.monotonic()
        ok = answered(pub, topic, command, listener, 60)
        answered_after = time.monotonic() - t0
        alive = daemon.poll() is None
        peak = rss_kb(daemon.pid, "VmHWM") if alive else 0
    finally:
        pub.loop_stop()
        pub.disconnect()
        listener.stop()
        if daemon.poll() is None:
            daemon.send_signal(signal.SIGTERM)
            try:
                daemon.wait(20)
            except subprocess.TimeoutExpired:
                daemon.kill()
                daemon.wait()
        broker.stop()
        shutil.rmtree(work, ignore_errors=True)
    print(f"flooded {sent} commands ({sent_bytes / 1e6:.0f} MB) in {args.seconds:.0f} s; "
          f"a signed ping was {'answered' if ok else 'NOT answered'} {answered_after:.1f} s "
          f"after the flood", flush=True)
    print(f"protocol={args.protocol} flood_msgs={sent} flood_mb={sent_bytes / 1e6:.0f} "
          f"baseline_rss_mb={baseline / 1024:.1f} peak_rss_mb={peak / 1024:.1f} "
          f"peak_growth_mb={(peak - baseline) / 1024:.1f} answered_after={answered_after:.1f} "
          f"alive={int(alive and ok)} target_peak_growth_mb={TARGET_GROWTH_MB}")


def answered(pub: mqtt.Client, topic: str, key: signing.Ed25519PrivateKey, listener: Listener,
             timeout_s: float) -> bool:
    """Send signed pings until one is answered with a pong (or the time is up)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        pub.publish(topic + "ping", sign_command(key, "ping", GW, {}), qos=1).wait_for_publish(10)
        until = time.monotonic() + 2.0
        while time.monotonic() < until:
            for rec in listener.records(timeout_s=0.2):
                if rec.get("type") == "event" and rec.get("kind") == "pong":
                    return True
    return False


if __name__ == "__main__":
    main()
