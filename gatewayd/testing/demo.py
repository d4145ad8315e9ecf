"""`scripts/demo`: a simulated retrofit, the real daemon, and its data decoded as it arrives.

Starts a local mosquitto, a Modbus TCP "machine" (a lathe's PLC and an SDM120 energy meter),
a serial scale on a pty, an IO-Link master (JSON over HTTP) with two sensors, and uses the
simulated I2C buses (an ADS1115 reading 4-20 mA loops, a BME280, and an ADXL345 on the coolant
pump, whose bearing is failing); writes a config for them, checks it with `gatewayd check`, runs
`gatewayd run` as its own process, and opens on its live view (`gatewayd tail`): every device
and point with its value, quality and age, and a legend of what is broken on purpose.
Everything it starts, it stops.
"""

from __future__ import annotations

import argparse
import math
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

from ..sources.iolink import iodd
from ..sources.modbus.decode import encode_value
from .broker import Broker
from .iolink_master import IODD_DIR, HttpMasterSim, SimMaster, SimPort
from .modbus_server import ModbusSim, RegisterModel
from .plc_process import ServerProcess
from .serial_instruments import Scale, SerialSim

CONFIG = """\
# Written by scripts/demo: every device here is simulated on this machine. The I2C buses and
# the GPIO pins are the "demo" world's, chosen once for the daemon (gatewayd --simulate demo);
# the config itself is the one real hardware would take.
[gateway]
id = "demo-lathe"
site = "demo"

[broker]
url = "{broker}"

[store]
path = "{state}/queue.db"

[publish]
interval_ms = 1000

[[devices]]
kind = "modbus"
name = "lathe-plc"
port = {modbus_port}
unit = 1
period_ms = 1000
[[devices.points]]
alias = 1
name = "spindle.speed"
unit = "1/min"
register = 0
type = "int"

[[devices.points]]
alias = 2
name = "coolant.temperature"
unit = "°C"
register = 1
data_type = "int16"
scale = 0.1                    # the PLC sends tenths of a degree
resolution = 0.1

[[devices.points]]
alias = 3
name = "parts.total"
register = 2
data_type = "uint32"
type = "int"

[[devices.points]]
alias = 4
name = "machine.running"
table = "coil"
register = 0
data_type = "bool"
type = "bool"

[[devices]]
kind = "modbus"
name = "lathe-meter"
profile = "sdm120"          # register map from hardware/sdm120.toml
transport = "tcp"           # the real meter is RTU; the demo's sits behind a TCP gateway
port = {modbus_port}
unit = 2
period_ms = 2000
points = [
  {{ alias = 10, name = "meter.voltage", use = "voltage" }},
  {{ alias = 11, name = "meter.power", use = "active_power" }},
  {{ alias = 12, name = "meter.energy", use = "import_energy" }},
]

[[devices]]
kind = "analog"
name = "coolant-loops"
profile = "transmitter_4_20ma"
bus = 1
period_ms = 1000
points = [
  {{ alias = 20, name = "coolant.tank_level", unit = "m", channel = 0, low = 0.0, high = 5.0 }},
  {{ alias = 21, name = "coolant.pressure", unit = "mbar", channel = 1, low = 0.0, high = 250.0 }},
  {{ alias = 22, name = "spare.loop", unit = "%", channel = 3, low = 0.0, high = 100.0 }},
]

[[devices]]
kind = "i2c"
name = "cabinet-env"
profile = "bme280"
bus = 1
period_ms = 5000
points = [
  {{ alias = 30, name = "cabinet.temperature", unit = "°C", measurand = "temperature", resolution = 0.01 }},
  {{ alias = 31, name = "cabinet.humidity", unit = "%RH", measurand = "humidity", resolution = 0.1 }},
]

[[devices]]
kind = "vibration"
name = "pump-de"
sensor = "adxl345"
bus = 2
address = 0x53
odr_hz = 3200
range_g = 16
axis = "z"
period_ms = 5
window_len = 4096
machine_group = 2
foundation = "rigid"
shaft_hz = 24.75
alias_base = 50
features = ["rms_g", "kurtosis", "velocity_mm_s", "iso_zone", "bearing_index", "bpfi_index"]
bearing = {{ balls = 9, ball_diameter_mm = 7.94, pitch_diameter_mm = 39.04 }}
envelope_resolution_hz = 2.0   # a first bearing verdict after 2 s of signal (1 Hz: 3 s)

[[devices]]
kind = "iolink"
name = "hydraulics-master"
access = "http"                # a JSON (IoT Core style) IO-Link master
url = "{iolink_url}"
period_ms = 1000
ports = [
  {{ port = 1, iodd = "{iodd_dir}/Gatewayd-TS14-20260101-IODD1.1.xml" }},
  {{ port = 2, iodd = "{iodd_dir}/Gatewayd-PS16-20260101-IODD1.1.xml" }},
]
points = [
  {{ alias = 60, name = "hydraulics.oil_temperature", port = 1, item = "Temperature" }},
  {{ alias = 61, name = "hydraulics.pressure", port = 2, item = "Pressure" }},
]

[[devices]]
kind = "gpio"
name = "lathe-signals"
period_ms = 2000
inputs = [
  {{ name = "running", pin = 17, pull = "down", debounce_ms = 100 }},
  {{ name = "parts", pin = 22, pull = "down", debounce_ms = 5 }},
  {{ name = "rejects", pin = 23, pull = "down", debounce_ms = 5 }},
]
points = [
  {{ alias = 70, name = "lathe.running", role = "state", input = "running" }},
  {{ alias = 71, name = "lathe.parts_counted", role = "counter", input = "parts" }},
  {{ alias = 72, name = "lathe.oee", role = "oee" }},
  {{ alias = 73, name = "lathe.availability", role = "availability" }},
]

[devices.oee]
running = "running"
parts = "parts"
rejects = "rejects"
ideal_rate_per_min = 30.0
shifts = ["06:00", "14:00", "22:00"]

[[devices]]
kind = "serial"
name = "parts-scale"
port = "{scale}"
baudrate = 9600
parity = "N"
mode = "free_running"
terminator = "\\r\\n"
pattern = '^(?P<status>ST|US),GS,(?P<weight>[-+]\\d+\\.\\d+) kg$'
uncertain_if = {{ status = ["US"] }}
period_ms = 1000
points = [ {{ alias = 40, name = "scale.weight", unit = "kg", field = "weight", resolution = 0.01 }} ]
"""


# The lathe's neighbours on the shop floor, each PLC simulated by its protocol's own server in
# a process of its own: a parts washer's S7-1200, a bar feeder's CompactLogix, a robot cell's
# OPC UA server.
STRING10 = 'string_length = 10, type = "string"'  # STRING[10] (TOML: an inline table on one line)
PLCS = """\
[[devices]]
kind = "s7"
name = "washer-plc"
host = "127.0.0.1"
port = {s7_port}
period_ms = 1000
points = [
  {{ alias = 80, name = "washer.bath_temperature", unit = "°C", address = "DB1.DBD0", data_type = "real" }},
  {{ alias = 81, name = "washer.cycles", address = "DB1.DBD16", data_type = "dint", type = "int" }},
  {{ alias = 82, name = "washer.door_closed", address = "DB1.DBX12.3", type = "bool" }},
  {{ alias = 83, name = "washer.program", address = "DB1.DBB20", data_type = "string", {string10} }},
]

[[devices]]
kind = "enip"
name = "bar-feeder"
host = "127.0.0.1"
port = {enip_port}
period_ms = 1000
points = [
  {{ alias = 85, name = "feeder.bars_fed", tag = "Counter", type = "int" }},
  {{ alias = 86, name = "feeder.push_speed", unit = "mm/s", tag = "Program:Line.Speed", resolution = 0.01 }},
]

[[devices]]
kind = "opcua"
name = "robot-cell"
endpoint = "opc.tcp://127.0.0.1:{opcua_port}/gatewayd/"
period_ms = 1000
publishing_interval_ms = 1000
sampling_interval_ms = 1000
points = [
  {{ alias = 90, name = "robot.picks", node_id = "ns=2;s=Line1.Counter", type = "int" }},
  {{ alias = 91, name = "robot.gripper_temperature", unit = "°C", node_id = "ns=2;s=Line1.Temperature" }},
]
"""


def plc_servers() -> list[ServerProcess]:
    """The three PLC servers of the demo, not yet started (ports chosen)."""
    return [ServerProcess("gatewayd.testing.s7_server", "--live"),
            ServerProcess("gatewayd.testing.logix_server", "--live"),
            ServerProcess("gatewayd.testing.opcua_server")]


class Lathe:
    """The machine behind the PLC, the meter and the IO-Link sensors: runs in cycles, makes a
    part each cycle."""

    def __init__(self, plc: RegisterModel, meter: RegisterModel, iolink: SimMaster) -> None:
        self.plc, self.meter, self.iolink = plc, meter, iolink
        self.parts = 1200
        self.energy = 5321.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="lathe", daemon=True)

    def start(self) -> Lathe:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()

    def _run(self) -> None:
        t0 = time.monotonic()
        while not self._stop.wait(0.2):
            t = time.monotonic() - t0
            running = (t % 20) < 15
            rpm = int(1800 + 40 * math.sin(t)) if running else 0
            if running and int(t * 5) % 15 == 0:
                self.parts += 1
            power = 2200 + 150 * math.sin(t / 3) if running else 90.0
            self.energy += power * 0.2 / 3.6e6
            self.plc.set("holding", 0, [rpm, int((21.5 + 2 * math.sin(t / 30)) * 10) & 0xFFFF])
            self.plc.set("holding", 2, encode_value(self.parts, "uint32"))
            self.plc.tables["coil"][0] = int(running)
            for addr, value in ((0x0000, 230.1 + math.sin(t)), (0x000C, power),
                                (0x0048, self.energy)):
                self.meter.set("input", addr, encode_value(value, "float32"))
            self.iolink.set(1, Temperature=round(42 + 3 * math.sin(t / 20), 1))
            self.iolink.set(2, Pressure=round(180 + 20 * math.sin(t / 5), 1) if running else 5.0)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=40.0)
    ap.add_argument("--workdir", default=".demo")
    args = ap.parse_args(argv)
    work = Path(args.workdir).resolve()
    (work / "state").mkdir(parents=True, exist_ok=True)
    plc, meter = RegisterModel(), RegisterModel()
    master = SimMaster({1: SimPort(iodd.load(IODD_DIR / "Gatewayd-TS14-20260101-IODD1.1.xml")),
                        2: SimPort(iodd.load(IODD_DIR / "Gatewayd-PS16-20260101-IODD1.1.xml"))})
    with (Broker(work) as broker, ModbusSim({1: plc, 2: meter}) as sim, SerialSim(work) as serial,
          HttpMasterSim(master) as io_master):
        scale = serial.add("scale", Scale(weight=12.34, period_s=0.5))
        lathe = Lathe(plc, meter, master).start()
        cfg = work / "gatewayd.toml"
        plcs = [p.start() for p in plc_servers()]
        cfg.write_text(CONFIG.format(broker=broker.url, state=work / "state", modbus_port=sim.port,
                                     scale=scale.path, iolink_url=io_master.url, iodd_dir=IODD_DIR)
                       + "\n" + PLCS.format(s7_port=plcs[0].port, enip_port=plcs[1].port,
                                            opcua_port=plcs[2].port, string10=STRING10))
        print(f"demo: config {cfg}, broker {broker.url}, daemon log {work / 'daemon.log'}")
        subprocess.run([sys.executable, "-m", "gatewayd.cli", "--simulate", "demo", "check", str(cfg)],
                       check=True)
        with (work / "daemon.log").open("w") as log:
            daemon = subprocess.Popen([sys.executable, "-m", "gatewayd.cli", "--simulate", "demo",
                                       "run", "--config", str(cfg)], stderr=log, stdout=log)
        try:
            _show([work / "state" / "live.sock"], args.seconds)
            subprocess.run([sys.executable, "-m", "gatewayd.cli", "status", "--config", str(cfg)])
        finally:
            daemon.send_signal(signal.SIGTERM)
            daemon.wait(30)
            lathe.stop()
            for p in plcs:
                p.stop()
    print(f"demo: stopped; the daemon's log is in {work / 'daemon.log'}")
    return 0


# What the demo breaks on purpose, shown under the live view so nobody hunts for a real bug.
LEGEND = [
    "",
    "Broken on purpose in this demo:",
    "  spare.loop       4-20 mA input AIN3 has no transmitter: bad_wire_break (NAMUR NE43)",
    "  pump-de          the coolant pump's bearing has an inner-race defect: bearing alarm",
    "  lathe.running    the lathe idles 5 s in every 20: running 0, spindle and power drop",
]


def _show(sockets: list[Path], seconds: float) -> None:
    """The live view, as `gatewayd tail` draws it: redrawn in place on a terminal; in a pipe or
    a log, printed once when every point has a value and the staged faults show (or at the
    end of `seconds`)."""
    from ..errors import NoDaemon
    from ..live.client import read_snapshot
    from ..toolkit import tail

    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not any(p.exists() for p in sockets):
        time.sleep(0.2)  # the daemon is starting
    if sys.stdout.isatty():
        tail.run_local(tail.Target(None, "demo-lathe", "gatewayd", sockets=sockets), sys.stdout,
                       max(1.0, deadline - time.monotonic()), 1.0, footer=LEGEND)
        return
    snap: dict[str, Any] = {}
    while time.monotonic() < deadline:
        time.sleep(0.5)
        try:
            snap = read_snapshot(sockets)
        except NoDaemon:
            continue
        if _staged_faults_show(snap):
            break
    print("\n".join(tail.screen_once(snap, 100, LEGEND) if snap else ["(no live view)"]),
          flush=True)


def _staged_faults_show(snap: dict[str, Any]) -> bool:
    """Every point has a value, the broken loop shows its wire break, and the pump's bearing
    alarm names its defect (any alarm would do too early: the first average may still read
    "uncertain", and other alarms come first)."""
    from ..sources.vibration.source import DEFECT_NAMES
    from ..toolkit import tail

    points = [p for d in snap.get("devices", []) for p in d.get("points", [])]
    if not points or any(p["age_s"] is None for p in points):
        return False
    wire_break = any(p.get("quality") == "bad_wire_break" for p in points)
    named = DEFECT_NAMES[1:-1]  # neither "none" nor "uncertain"
    bearing = any(line.startswith("ALARM") and any(n in line for n in named)
                  for line in tail.device_lines(snap))
    return wire_break and bearing


if __name__ == "__main__":
    sys.exit(main())
