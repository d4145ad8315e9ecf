"""A fleet on one machine: real gateway processes, one broker, staged rollout, broken release.

Each gateway has its own root (releases side by side, `current`/`previous` links, state dir)
and runs the real daemon polling a simulated Modbus TCP meter, under a small service manager
that follows gatewayd.service (Type=notify over real notify sockets, WatchdogSec, Restart=,
StartLimitBurst, OnFailure=gatewayd-rollback.service) with its times scaled down.

    1. release 0.2.0 signed for 10 % of the fleet, then re-signed for all
    2. release 0.3.0 that hangs after READY (no watchdog pings): every gateway must end up
       back on 0.2.0 by itself (watchdog -> restarts -> start limit -> OnFailure rollback)

Updates are delivered as the fleet would: one signed `update` command a gateway on
`.../cmd/update` (signed with the command key), carrying the manifest (signed with the release
key) and the bundle's path. Each daemon checks both signatures and the rollout target, installs
the release beside the others, switches, and exits 75; the manager starts it again on the new
release.

Readings lost: each gateway polls its own unit of one pymodbus server, whose register 0 counts
the reads of it (a read counter: every poll takes a new value). A subscriber collects every
value that arrives. Across a phase (the two update offers; the broken release and its
rollback), readings lost = values the unit handed out in that phase that never arrived, counted
after the fleet has settled and delivered its backlog. Polls that never happened (a daemon
down, the hung release) take no value, so only readings taken and then lost count. Target: 0.

`--gateways N` (default 10, about two minutes; 50 is the full fleet). Last line:
`gateways=… updated=… rolled_back=… rollout_s=… broker_msgs_per_s=… lost_update=…
lost_rollback=… lost_update_max_gw=… lost_rollback_max_gw=… lost_target=0`
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import site
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import paho.mqtt.client as mqtt

from gatewayd.fleet import bundle, signing
from gatewayd.fleet.commands import sign_command
from gatewayd.fleet.manifest import SignedManifest, Target, parse_signed
from gatewayd.fleet.releases import Releases
from gatewayd.pipeline.codec import decode_data, decode_events
from gatewayd.testing.broker import Broker
from gatewayd.testing.modbus_server import ModbusSim, RegisterModel

REPO = Path(__file__).resolve().parent.parent
SHARED = Path(site.getsitepackages()[0])
SCALE = 0.2  # unit times x 0.2: WatchdogSec=30 -> 6 s, RestartSec=5 -> 1 s
WATCHDOG_S, RESTART_S, START_TIMEOUT_S, BURST = 30 * SCALE, 5 * SCALE, 120 * SCALE, 5
PHASE_LIMIT_S = 240.0
HUNG = '''

def main(argv=None):  # bench: a broken release that hangs after READY
    import sys, time
    from . import systemd
    if (argv or sys.argv[1:])[:1] != ["run"]:
        return _real_main(argv)
    systemd.notify("READY=1")
    while True:
        time.sleep(1)
'''
CONFIG = """[gateway]
id = "{id}"
site = "bench"
[broker]
url = "mqtt://127.0.0.1:{broker}"
[store]
path = "{state}/queue.db"
[publish]
interval_ms = 1000
[[devices]]
kind = "modbus"
name = "meter"
host = "127.0.0.1"
port = {modbus}
unit = {unit}
period_ms = {period_ms}
points = [
  {{ alias = 1, name = "reads", register = 0, data_type = "uint16" }},
  {{ alias = 2, name = "energy_wh", register = 1, data_type = "uint32" }},
]
"""
PERIOD_MS = 200  # 5 readings a second a gateway: a lost second shows as 5


class ReadCounter(list[int]):
    """Holding registers whose register 0 counts the reads that include it."""

    def __getitem__(self, key: object) -> object:  # type: ignore[override]
        if isinstance(key, slice) and (key.start or 0) == 0:
            super().__setitem__(0, (super().__getitem__(0) + 1) & 0xFFFF)
        return super().__getitem__(key)  # type: ignore[index]

    @property
    def value(self) -> int:
        return super().__getitem__(0)


def counting_units(n: int) -> dict[int, RegisterModel]:
    """Units 1..n, each with a read counter in register 0 (one unit a gateway)."""
    units = {}
    for unit in range(1, n + 1):
        model = RegisterModel(holding=10)
        model.tables["holding"] = ReadCounter(model.tables["holding"])
        units[unit] = model
    return units


class Readings:
    """Every counter value that reaches the broker, per gateway (QoS 1, one session)."""

    def __init__(self, port: int) -> None:
        self.values: dict[str, set[int]] = {}
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-readings")
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.subscribe("gatewayd/bench/+/data", qos=1)
        self.client.loop_start()

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        gw = msg.topic.split("/")[2]
        _, readings = decode_data(bytes(msg.payload))
        got = self.values.setdefault(gw, set())
        got.update(int(r.value) for r in readings if r.alias == 1 and r.value is not None)

    def lost(self, gw: str, first: int, last: int) -> int:
        """Values first..last handed out to `gw` that never arrived."""
        got = self.values.get(gw, set())
        return sum(1 for v in range(first, last + 1) if v not in got)

    def stop(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


@dataclass
class Window:
    """The counter values each gateway's unit handed out during one phase."""

    name: str
    start: dict[str, int] = field(default_factory=dict)
    end: dict[str, int] = field(default_factory=dict)

    def taken(self) -> int:
        """Readings taken in the phase, over the fleet (what `lost` is out of)."""
        return sum(self.end[gw] - self.start[gw] for gw in self.start)

    def lost(self, readings: Readings) -> dict[str, int]:
        return {gw: readings.lost(gw, self.start[gw] + 1, self.end[gw]) for gw in self.start}


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "NOTIFY_SOCKET"}
    return subprocess.run([sys.executable, "-m", "gatewayd.cli", *args], capture_output=True,
                          text=True, env=env, timeout=300)


@dataclass
class Gateway:
    """One gateway process managed as gatewayd.service would be."""

    id: str
    root: Path
    sock: socket.socket
    proc: subprocess.Popen[bytes] | None = None
    starts: list[float] = field(default_factory=list)
    last_ping: float = 0.0
    ready_version: str | None = None
    restart_at: float | None = None
    rollbacks: int = 0

    @property
    def releases(self) -> Releases:
        return Releases(self.root)

    def env(self) -> dict[str, str]:
        return {**os.environ, "GATEWAYD_ROOT": str(self.root), "NOTIFY_SOCKET": self.notify,
                "GATEWAYD_SHARE_SITE_PACKAGES": str(SHARED),
                "STATE_DIRECTORY": str(self.root / "var/lib/gatewayd"),
                "WATCHDOG_USEC": str(int(WATCHDOG_S * 1e6))}

    @property
    def notify(self) -> str:
        return str(self.root / "notify.sock")

    def start(self) -> None:
        binary = self.root / "opt/gatewayd/current/venv/bin/gatewayd"
        conf = self.root / "etc/gatewayd/gatewayd.toml"
        self.proc = subprocess.Popen([str(binary), "run", "--config", str(conf)], env=self.env(),
                                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        now = time.monotonic()
        self.starts = [t for t in self.starts if now - t < 600 * SCALE] + [now]
        self.last_ping, self.ready_version, self.restart_at = now, None, None

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def tick(self, now: float) -> None:
        """Notify messages, watchdog, exits, restarts and the start limit."""
        while True:
            try:
                msg = self.sock.recv(4096).decode()
            except BlockingIOError:
                break
            if "READY=1" in msg:
                self.ready_version = self.releases.current()
            if "WATCHDOG=1" in msg or "READY=1" in msg:
                self.last_ping = now
        if self.proc is not None and self.proc.poll() is None:
            # the watchdog runs from READY on; before it, TimeoutStartSec applies
            limit = WATCHDOG_S if self.ready_version else START_TIMEOUT_S
            if now - self.last_ping > limit:
                self.proc.send_signal(signal.SIGABRT)  # what systemd does on watchdog timeout
                self.last_ping = now + 60  # one signal is enough
            return
        if self.proc is not None:
            self.proc, self.restart_at = None, now + RESTART_S
        if self.restart_at is not None and now >= self.restart_at:
            if len(self.starts) >= BURST:
                self.on_failure()
            self.start()

    def on_failure(self) -> None:
        """OnFailure=gatewayd-rollback.service: the previous release's rollback, if pending."""
        prev = str(self.root / "opt/gatewayd/previous/venv/bin/gatewayd")
        pending = subprocess.run([prev, "release", "status", "--pending"], env=self.env(),
                                 capture_output=True)
        if pending.returncode == 0:
            subprocess.run([prev, "release", "rollback", "--reason", "unhealthy"], env=self.env(),
                           capture_output=True)
            self.rollbacks += 1
        self.starts = []


class Fleet:
    def __init__(self, work: Path, n: int, broker: int, modbus: int) -> None:
        self.work = work
        for role in ("release", "command"):
            signing.keygen(work / f"{role}.key", work / f"{role}.pub", role)
        self.key = signing.load_private(work / "release.key", role="release")
        self.command_key = signing.load_private(work / "command.key", role="command")
        self.gateways = [self._make(i, broker, modbus) for i in range(n)]

    def _make(self, i: int, broker: int, modbus: int) -> Gateway:
        root = self.work / f"gw-{i:03d}"
        state = root / "var/lib/gatewayd"
        state.mkdir(parents=True)
        for role in ("release", "command"):
            (root / "etc/gatewayd/keys" / role).mkdir(parents=True)
            shutil.copy(self.work / f"{role}.pub", root / "etc/gatewayd/keys" / role / "fleet.pub")
        (root / "etc/gatewayd/gatewayd.toml").write_text(
            CONFIG.format(id=f"gw-{i:03d}", broker=broker, state=state, modbus=modbus,
                          unit=i + 1, period_ms=PERIOD_MS))
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        sock.bind(str(root / "notify.sock"))
        sock.setblocking(False)
        return Gateway(f"gw-{i:03d}", root, sock)

    def build(self, version: str, broken: bool = False) -> Path:
        project = REPO
        if broken:
            project = self.work / f"src-{version}"
            shutil.copytree(REPO / "gatewayd", project / "gatewayd",
                            ignore=shutil.ignore_patterns("__pycache__"))
            for name in ("pyproject.toml", "README.md"):
                shutil.copy(REPO / name, project / name)
            cli_py = project / "gatewayd/cli.py"
            cli_py.write_text(cli_py.read_text().replace("def main(", "def _real_main(", 1) + HUNG)
        bundle.build(project, self.work / "dist", bundle.BuildOptions(version=version))
        return self.work / "dist" / f"gatewayd-{version}-any.tar"

    def manifest(self, version: str, percent: int) -> Path:
        doc = (self.work / "dist" / f"gatewayd-{version}.manifest.json").read_text()
        signed = parse_signed(doc)
        m = signed.manifest.replace(target=Target(percent=percent))
        out = self.work / "dist" / f"gatewayd-{version}-{percent}.manifest.json"
        out.write_text(signing.sign_manifest(SignedManifest(manifest=m), self.key).to_json())
        return out

    def install_all(self, tar: Path) -> None:
        def one(gw: Gateway) -> None:
            done = cli("release", "install", str(tar), "--version", "0.1.0", "--root", str(gw.root),
                       "--share-site-packages", str(SHARED))
            assert done.returncode == 0, done.stderr

        with ThreadPoolExecutor(4) as pool:
            list(pool.map(one, self.gateways))

    def update(self, manifest: Path, tar: Path, events: Events) -> list[Gateway]:
        """A signed update command to every gateway; those in the rollout take it and exit 75,
        the others refuse it with an event. Returns those that took it."""
        doc = json.loads(manifest.read_text())
        version = doc["manifest"]["version"]
        events.clear()
        for gw in self.gateways:
            args = {"manifest": doc, "bundle_url": str(tar)}
            payload = sign_command(self.command_key, "update", gw.id, args)
            events.client.publish(f"gatewayd/bench/{gw.id}/cmd/update", payload, qos=1)
        self.run_until(lambda: len(events.outcome) == len(self.gateways))
        took = [gw for gw in self.gateways if events.outcome.get(gw.id) == "restart"]
        for gw in took:  # the new release's boots start a fresh start-limit window
            gw.starts = []
        assert all(v in ("restart", "refused") for v in events.outcome.values()), events.outcome
        print(f"  update {version}: {len(took)} took it, "
              f"{sum(v == 'refused' for v in events.outcome.values())} refused (outside the target)",
              flush=True)
        return took

    def stop_all(self, gws: list[Gateway]) -> None:
        """SIGTERM to all, then wait for each (as systemd stops units in parallel)."""
        for gw in gws:
            if gw.proc and gw.proc.poll() is None:
                gw.proc.terminate()
        for gw in gws:
            gw.stop()

    def run_until(self, done: Callable[[], bool], limit_s: float = PHASE_LIMIT_S) -> float:
        t0 = time.monotonic()
        while time.monotonic() - t0 < limit_s and not done():
            now = time.monotonic()
            for gw in self.gateways:
                gw.tick(now)
            time.sleep(0.02)
        return time.monotonic() - t0

    def stop(self) -> None:
        self.stop_all(self.gateways)
        for gw in self.gateways:
            gw.sock.close()


class Events:
    """Update-status events of the fleet, decoded; the outcome per gateway of the last offer."""

    def __init__(self, port: int) -> None:
        self.outcome: dict[str, str] = {}
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-events")
        self.client.on_message = self._on_message
        self.client.connect("127.0.0.1", port)
        self.client.subscribe("gatewayd/bench/+/event", qos=1)
        self.client.loop_start()

    def clear(self) -> None:
        self.outcome = {}

    def _on_message(self, client: mqtt.Client, userdata: object, msg: mqtt.MQTTMessage) -> None:
        gw = msg.topic.split("/")[2]
        for event in decode_events(bytes(msg.payload))[1]:
            if event.get("kind") == "update" and event.get("step") in ("restart", "refused"):
                self.outcome[gw] = event["step"]

    def stop(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()


class Counter:
    """Counts every message the broker delivers on the fleet's topics."""

    def __init__(self, port: int) -> None:
        self.n = 0
        self.client = mqtt.Client(mqtt.CallbackAPIVersion.VERSION2, client_id="bench-counter")
        self.client.on_message = lambda *_a: self._inc()
        self.client.connect("127.0.0.1", port)
        self.client.subscribe("gatewayd/#", qos=0)
        self.client.loop_start()

    def _inc(self) -> None:
        self.n += 1  # only paho's network thread writes it

    def stop(self) -> None:
        self.client.loop_stop()
        self.client.disconnect()




def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--gateways", type=int, default=10, help="50 is the full fleet")
    n = ap.parse_args().gateways
    work = Path(tempfile.mkdtemp(prefix="gatewayd-fleet-"))
    broker = Broker(work).start()
    port = broker.port
    sim = ModbusSim(counting_units(n)).start()
    fleet = Fleet(work, n, port, sim.port)
    counter = Counter(port)
    events = Events(port)
    readings = Readings(port)
    t_bench = time.monotonic()

    def mark(window: Window, side: str) -> None:
        """The last value each gateway's counter handed out, as a phase starts or ends."""
        for i, gw in enumerate(fleet.gateways):
            table = sim.model(i + 1).tables["holding"]
            assert isinstance(table, ReadCounter)
            getattr(window, side)[gw.id] = table.value

    update, rollback = Window("update"), Window("rollback")
    try:
        base, good, broken = fleet.build("0.1.0"), fleet.build("0.2.0"), fleet.build("0.3.0", True)
        fleet.install_all(base)
        for gw in fleet.gateways:
            gw.start()
        up = fleet.run_until(lambda: all(g.ready_version == "0.1.0" for g in fleet.gateways))
        print(f"fleet up on 0.1.0: {sum(g.ready_version == '0.1.0' for g in fleet.gateways)}/{n}"
              f" in {up:.1f} s", flush=True)

        def on(version: str, gws: list[Gateway]) -> bool:
            return all(g.ready_version == version for g in gws)

        fleet.run_until(lambda: False, limit_s=3.0)  # polling and publishing before the update
        mark(update, "start")
        t0 = time.monotonic()
        canary = fleet.update(fleet.manifest("0.2.0", 10), good, events)
        fleet.run_until(lambda: on("0.2.0", canary))
        print(f"10 %: {len(canary)} gateways took 0.2.0 in {time.monotonic() - t0:.1f} s",
              flush=True)
        t0 = time.monotonic()
        rest = fleet.update(fleet.manifest("0.2.0", 100), good, events)
        fleet.run_until(lambda: on("0.2.0", fleet.gateways))
        rollout_s = time.monotonic() - t0
        updated = sum(g.releases.current() == "0.2.0" and g.ready_version == "0.2.0"
                      for g in fleet.gateways)
        print(f"100 %: {len(rest)} more took 0.2.0; {updated}/{n} READY on 0.2.0 after "
              f"{rollout_s:.1f} s", flush=True)
        fleet.run_until(lambda: False, limit_s=3.0)
        mark(update, "end")
        mark(rollback, "start")
        t0 = time.monotonic()
        victims = fleet.update(fleet.manifest("0.3.0", 100), broken, events)
        fleet.run_until(lambda: all(g.rollbacks and g.ready_version == "0.2.0" for g in victims))
        rolled_back = sum(g.rollbacks > 0 and g.releases.current() == "0.2.0" for g in victims)
        print(f"broken 0.3.0: {len(victims)} took it, {rolled_back} rolled back to 0.2.0 by "
              f"themselves in {time.monotonic() - t0:.1f} s", flush=True)
        fleet.run_until(lambda: False, limit_s=3.0)
        mark(rollback, "end")
        fleet.run_until(lambda: False, limit_s=5.0)  # the backlog of the last restarts arrives
        lost_update, lost_rollback = update.lost(readings), rollback.lost(readings)
        rate = counter.n / (time.monotonic() - t_bench)
    finally:
        readings.stop()
        counter.stop()
        events.stop()
        fleet.stop()
        sim.stop()
        broker.stop()
        shutil.rmtree(work, ignore_errors=True)
    for name, lost in (("update", lost_update), ("rollback", lost_rollback)):
        bad = {g: v for g, v in lost.items() if v}
        taken = (update if name == "update" else rollback).taken()
        print(f"readings lost across the {name}: {sum(lost.values())} of {taken} taken "
              f"({len(bad)} of {n} gateways lost any{': ' + str(bad) if bad else ''})", flush=True)
    print(json.dumps({"broker_msgs": counter.n, "bench_s": round(time.monotonic() - t_bench, 1)}))
    print(f"gateways={n} updated={updated} rolled_back={rolled_back} rollout_s={rollout_s:.1f} "
          f"broker_msgs_per_s={rate:.1f} lost_update={sum(lost_update.values())} "
          f"lost_rollback={sum(lost_rollback.values())} taken_update={update.taken()} "
          f"taken_rollback={rollback.taken()} "
          f"lost_update_max_gw={max(lost_update.values(), default=0)} "
          f"lost_rollback_max_gw={max(lost_rollback.values(), default=0)} lost_target=0")


if __name__ == "__main__":
    main()
