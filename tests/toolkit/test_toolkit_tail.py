"""`gatewayd tail` driven in a pseudo-terminal against a live pipeline and a real broker."""

from __future__ import annotations

import fcntl
import os
import re
import select
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path

import pytest
from toolkit_kit import Screen

from gatewayd import config as config_mod
from gatewayd.daemon import write_status
from gatewayd.supervisor import Supervisor
from gatewayd.testing.adxl345 import Adxl345
from gatewayd.testing.scenarios_i2c import demo
from gatewayd.testing.vibration import Machine
from gatewayd.toolkit.tail import Row, TailState, render

CONFIG = """
[gateway]
id = "tail-test"
[broker]
url = "{url}"
[store]
path = "{store}"
[publish]
interval_ms = 200

[[devices]]
kind = "analog"
name = "loops"
bus = 1
period_ms = 200
[[devices.points]]
alias = 1
name = "tank.level"
unit = "m"
channel = 0
low = 0.0
high = 5.0
resolution = 0.01
alarms = {{ h = 0.1 }}
[[devices.points]]
alias = 2
name = "line.pressure"
unit = "bar"
channel = 3
low = 0.0
high = 10.0

[[devices]]
kind = "vibration"
name = "pump"
bus = 1
odr_hz = 800
period_ms = 20
window_len = 512
shaft_hz = 24.75
alias_base = 100
features = ["rms_g", "velocity_mm_s", "iso_zone"]
"""


class PtyRun:
    """A command on a pty of a given size; `screen()` waits for it and shows what it drew."""

    def __init__(self, args: list[str], rows: int, cols: int) -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
        env = {
            k: v
            for k, v in os.environ.items()
            if k not in ("COLUMNS", "LINES", "RUNTIME_DIRECTORY")
        }
        self.proc = subprocess.Popen(args, stdin=slave, stdout=slave, stderr=slave, env=env)
        os.close(slave)
        self.size = rows, cols
        self.raw = b""

    def pump(self, seconds: float) -> bool:
        """Read what it writes for `seconds`; False once the terminal is closed."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            if select.select([self.master], [], [], left)[0]:
                try:
                    chunk = os.read(self.master, 65536)
                except OSError:  # EIO: the child closed the terminal
                    return False
                if not chunk:
                    return False
                self.raw += chunk
        return True

    def screen(self, timeout_s: float) -> Screen:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline and self.pump(0.2):
            pass
        if self.proc.poll() is None:
            self.proc.terminate()
        self.proc.wait(10)
        os.close(self.master)
        screen = Screen(*self.size)
        screen.feed(self.raw.decode(errors="replace"))
        return screen


def test_live_screen_over_a_real_broker(broker, tmp_path: Path) -> None:
    """Points with value, unit, quality, age and alarm; vibration features; queue state."""
    bus = demo()
    bus.attach(0x53, Adxl345(z=Machine(shaft_hz=24.75).signal))
    path = tmp_path / "gw.toml"
    path.write_text(CONFIG.format(url=broker.url, store=tmp_path / "queue.db"))
    cfg = config_mod.load(path)
    tail = PtyRun(
        [
            sys.executable,
            "-m",
            "gatewayd.cli",
            "tail",
            "--config",
            str(path),
            "--broker",  # without it, tail reads the local daemon's socket
            broker.url,
            "--seconds",
            "5",
            "--interval-s",
            "0.3",
        ],
        20,
        80,
    )
    tail.pump(1.5)  # subscribed before the first alarm: events are not retained
    sup = Supervisor(cfg, {"i2c_bus": bus})
    sup.start()
    try:
        for _ in range(6):
            write_status(sup)
            tail.pump(0.5)
        screen = tail.screen(20)
    finally:
        sup.stop(1.0)
    lines = screen.lines()
    text = "\n".join(lines)
    assert lines[0].startswith("gatewayd 'tail-test'  broker connected  queue "), text
    assert "2/2 devices up" in lines[0]
    level = next(line.split() for line in lines if line.startswith("tank.level"))
    assert level[2:4] == ["m", "good"] and level[-1] == "H"  # the level is above its 0.1 m alarm
    assert 0 < float(level[1]) < 5
    pressure = next(line.split() for line in lines if line.startswith("line.pressure"))
    assert pressure[1:4] == ["-", "bar", "bad_wire_break"]  # AIN3 of the demo bus: 0 mA
    vib = next(line for line in lines if line.startswith("vib pump: "))
    assert "rms_g " in vib and "velocity_mm_s " in vib and "iso_zone " in vib
    assert not any(line.startswith("pump.") for line in lines)  # features only in their line
    assert re.search(r"^last event: \d\d:\d\d:\d\d (alarm|vibration\.zone) ", text, re.M), text


def test_small_terminal_fits() -> None:
    """On a 10x40 terminal every line fits and the rest is counted, not wrapped."""
    state = TailState(
        "gw", rows={f"p{i:02d}": Row(i * 1.5, "bar", "good", 99.0) for i in range(20)}
    )
    lines = render(state, None, 40, 10, 100.0)
    assert len(lines) == 10 and all(len(line) <= 40 for line in lines)
    assert lines[-1] == "... 13 more (a taller terminal shows the"
    assert lines[2].split() == ["p00", "0.0", "bar", "good", "1.0s"]  # exact: no resolution


def test_status_and_alarm_events_shown() -> None:
    """Queue depth and age from status.json; an alarm shows while active and goes when cleared."""
    state = TailState("gw", rows={"t": Row(5.0, "°C", "good", 0.0)})
    status = {
        "queue": {"depth": 17, "oldest_age_s": 42.5},
        "broker": {"connected": False},
        "devices": [{"up": True}, {"up": False}],
    }
    state.feed({"type": "event", "kind": "alarm", "point": "t", "level": "HH", "state": "active"})
    lines = render(state, status, 100, 10, 1.0)
    assert "broker DISCONNECTED  queue 17 (oldest 42.5 s)  1/2 devices up" in lines[0]
    assert lines[2].split()[-1] == "HH"
    state.feed({"type": "event", "kind": "alarm", "point": "t", "level": "HH", "state": "cleared"})
    assert render(state, status, 100, 10, 1.0)[2].split()[-1] == "1.0s"


def test_no_broker_is_an_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Tail against a broker that is not there exits 1 naming it."""
    from gatewayd.cli import main
    from gatewayd.testing.broker import free_port

    url = f"mqtt://127.0.0.1:{free_port()}"
    assert (
        main(["tail", "--gateway", "gw", "--broker", url, "--config", str(tmp_path / "none")]) == 1
    )
    assert f"cannot reach the broker at {url}" in capsys.readouterr().err


def test_a_password_in_the_broker_url_is_not_repeated(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`tail --broker mqtt://user:secret@host` that fails says where, without the secret."""
    from gatewayd.cli import main
    from gatewayd.testing.broker import free_port

    port = free_port()
    url = f"mqtt://press:s3cret@127.0.0.1:{port}"
    assert main(["tail", "--gateway", "gw", "--broker", url, "--config", str(tmp_path / "no")]) == 1
    err = capsys.readouterr().err
    assert f"cannot reach the broker at mqtt://***@127.0.0.1:{port}: connection refused" in err
    assert "s3cret" not in err
