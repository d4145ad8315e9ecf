"""`gatewayd test`: every device polled once (or for N seconds) through the daemon's own runner
and point stage, against real simulators, with no broker and no store; exit 1 naming the
device that failed and why."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
from toolkit_kit import SIMULATED, dead_meter, gateway, plc_device, spindle_plc

from gatewayd.testing.broker import free_port
from gatewayd.testing.modbus_server import ModbusSim


@pytest.fixture
def plc() -> Iterator[ModbusSim]:
    with spindle_plc() as sim:
        yield sim


def head(tmp_path: Path, dead_port: int) -> str:
    """A gateway whose broker is not there, its store under `state/` (which must stay unmade)."""
    return gateway("t-1", dead_port, tmp_path / "state" / "queue.db")


def gatewayd_test(cfg: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "GATEWAYD_SIMULATE"}
    return subprocess.run([sys.executable, "-m", "gatewayd.cli", "--simulate", "demo", "test",
                           "--config", str(cfg), *extra], capture_output=True, text=True,
                          timeout=120, env=env)


def test_every_device_once(tmp_path: Path, plc: ModbusSim) -> None:
    """Modbus, 4-20 mA, GPIO and vibration each read once: values, units and qualities; a
    broken loop is a bad point on a working device, so the exit is 0; nothing is stored."""
    cfg = tmp_path / "g.toml"
    cfg.write_text(head(tmp_path, free_port()) + plc_device(plc.port) + SIMULATED)
    r = gatewayd_test(cfg)
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    assert "plc (modbus): ok" in lines
    temp = next(line.split() for line in lines if line.strip().startswith("spindle.temp"))
    assert temp[1:] == ["61.5", "°C", "good"]
    level = next(line.split() for line in lines if line.strip().startswith("tank.level"))
    assert 0 < float(level[1]) < 5 and level[2:] == ["m", "good"]
    spare = next(line.split() for line in lines if line.strip().startswith("spare.loop"))
    assert spare[1:] == ["-", "%", "bad_wire_break"]
    assert "lathe-signals (gpio): ok" in lines
    running = next(line.split() for line in lines if line.strip().startswith("lathe.running"))
    assert running[1] in ("0", "1", "True", "False") and running[-1] == "good"
    rms = next(line.split() for line in lines if line.strip().startswith("pump-de.rms_g"))
    assert float(rms[1]) > 0
    assert lines[-1] == "4 of 4 devices answered"
    assert not (tmp_path / "state").exists()  # no store, no state files


def test_a_failing_device_exits_1_with_its_reason(tmp_path: Path, plc: ModbusSim) -> None:
    """A Modbus device nobody answers for: FAILED with the reason, its point bad; exit 1."""
    dead = free_port()
    cfg = tmp_path / "g.toml"
    cfg.write_text(head(tmp_path, dead) + plc_device(plc.port) + dead_meter(dead))
    r = gatewayd_test(cfg)
    assert r.returncode == 1, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    failed = next(line for line in lines if line.startswith("dead-meter (modbus): FAILED: "))
    assert f"127.0.0.1:{dead}" in failed and "connect" in failed
    power = next(line.split() for line in lines if line.strip().startswith("meter.power"))
    assert power[1:] == ["-", "W", "bad_comm"]
    assert lines[-1] == "1 of 2 devices answered, 1 FAILED"


def test_an_event_device_that_cannot_start_fails_in_the_bus_s_words(tmp_path: Path) -> None:
    """A GPIO device whose pin the pin factory does not have: FAILED with the bus's message
    (it names the device, so no exception type is put before it), its point bad; exit 1."""
    cfg = tmp_path / "g.toml"
    devices = SIMULATED.split("[[devices]]")  # the GPIO one, on a pin the factory lacks
    gpio = "[[devices]]" + next(d for d in devices if 'kind = "gpio"' in d)
    cfg.write_text(head(tmp_path, free_port()) + gpio.replace("pin = 17", "pin = 99"))
    r = gatewayd_test(cfg)
    assert r.returncode == 1, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    failed = lines[0].removeprefix("lathe-signals (gpio): FAILED: ")
    assert failed.startswith("lathe-signals: pin 99: ") and "Error" not in failed, lines[0]
    assert lines[1].split() == ["lathe.running", "-", "bad_comm"]
    assert lines[-1] == "0 of 1 devices answered, 1 FAILED"


def test_for_n_seconds_prints_every_reading(tmp_path: Path, plc: ModbusSim) -> None:
    """--seconds 1.5 with a 200 ms period: several timestamped readings, then the summary."""
    cfg = tmp_path / "g.toml"
    cfg.write_text(head(tmp_path, free_port()) + plc_device(plc.port))  # polled every 200 ms
    r = gatewayd_test(cfg, "--seconds", "1.5")
    assert r.returncode == 0, r.stderr
    stream = [line for line in r.stdout.splitlines() if " spindle.temp 61.5 good" in line]
    assert len(stream) >= 4, r.stdout


def test_a_refused_config_exits_78(tmp_path: Path) -> None:
    """The config's problems, with line and device, and no polling."""
    cfg = tmp_path / "g.toml"
    cfg.write_text(head(tmp_path, 1) + dead_meter('"502"'))
    r = gatewayd_test(cfg)
    assert r.returncode == 78
    assert "device dead-meter: devices[0].port: found '502'" in r.stderr
