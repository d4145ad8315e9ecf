"""The config scripts/demo writes is valid and every device in it can be built."""

from __future__ import annotations

import tomllib
from pathlib import Path

from gatewayd import config
from gatewayd.supervisor import build_devices, offline_context
from gatewayd.testing import demo
from gatewayd.testing.iolink_master import IODD_DIR


def test_demo_config_loads_and_builds(tmp_path: Path) -> None:
    """A newcomer's first config must not be the one that fails."""
    text = demo.CONFIG.format(broker="mqtt://127.0.0.1:1883", state=tmp_path, modbus_port=1502,
                              scale=tmp_path / "scale", iolink_url="http://127.0.0.1:9",
                              iodd_dir=IODD_DIR)
    text += "\n" + demo.PLCS.format(s7_port=102, enip_port=44818, opcua_port=4840, string10=demo.STRING10)
    cfg = config.parse(tomllib.loads(text))
    devices, problems = build_devices(cfg, offline_context(cfg))
    assert not problems
    kinds = {d.kind for d in cfg.devices}
    assert kinds == {"modbus", "analog", "i2c", "vibration", "serial", "iolink", "gpio",
                     "s7", "enip", "opcua"}
    assert len(devices) == len(cfg.devices)


def test_demo_shows_data_flowing(tmp_path: Path) -> None:
    """The demo (what scripts/demo runs after setup) prints decoded readings of every kind of
    device, and a bearing alarm, within seconds."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, "-m", "gatewayd.testing.demo", "--seconds", "40",
                          "--workdir", str(tmp_path)], capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    for name in ("spindle.speed", "meter.power", "coolant.tank_level", "cabinet.temperature",
                 "scale.weight", "pump-de.rms_g", "hydraulics.pressure", "lathe.parts_counted",
                 "washer.bath_temperature", "feeder.bars_fed", "robot.picks"):
        assert name in out.stdout, name
    assert "bad_wire_break" in out.stdout  # the demo's broken loop is reported, not hidden
    assert "inner race (BPFI)" in out.stdout  # the failing pump bearing is found
    assert "OK, 11 devices" in out.stdout and "connected" in out.stdout
    # it opens on the live view: one table, the staged faults named, not a log of readings
    assert "ALARM pump-de.bearing_index: inner race (BPFI)" in out.stdout
    assert "Broken on purpose in this demo:" in out.stdout
    assert out.stdout.count("spindle.speed") <= 2 and len(out.stdout.splitlines()) < 120
