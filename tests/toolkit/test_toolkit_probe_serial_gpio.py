"""`gatewayd probe serial` on pty instruments and `gatewayd probe gpio` on gpiozero's mock pins."""

from __future__ import annotations

import argparse
import io
import threading
import time
from pathlib import Path

import pytest
from gpiozero.pins.mock import MockFactory

from gatewayd.cli import main
from gatewayd.testing.serial_instruments import PollSensor, Scale, SerialSim
from gatewayd.toolkit import probe


def test_free_running_scale_on_a_pty(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A pty ignores the baud rate: the probe says so, and still finds framing and line end."""
    with SerialSim(tmp_path) as sim:
        port = sim.add("ttyUSB0", Scale(weight=3.5))
        assert (
            main(
                [
                    "probe",
                    "serial",
                    "--port",
                    port.path,
                    "--seconds",
                    "0.6",
                    "--bauds",
                    "9600,19200",
                ]
            )
            == 0
        )
    out = capsys.readouterr().out
    assert "baudrate:   any" in out and "framing:    8N1" in out
    assert "terminator: '\\r\\n'" in out and "sample:     b'ST,GS,+0003.50 kg'" in out
    assert "ignores the baud rate" in out


def test_polled_sensor_answers_the_sent_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A polled instrument is silent until --send asks it; then its reply is found."""
    with SerialSim(tmp_path) as sim:
        port = sim.add("ttyUSB1", PollSensor({"T": 21.5}))
        assert (
            main(["probe", "serial", "--port", port.path, "--seconds", "0.3", "--bauds", "9600"])
            == 1
        )
        assert "nothing received" in capsys.readouterr().out
        assert (
            main(
                [
                    "probe",
                    "serial",
                    "--port",
                    port.path,
                    "--seconds",
                    "0.6",
                    "--bauds",
                    "9600",
                    "--send",
                    "?T\\r",
                ]
            )
            == 0
        )
    out = capsys.readouterr().out
    assert "terminator: '\\r'" in out and "sample:     b'T=21.50*" in out


def test_missing_port(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A port that does not exist: exit 1 naming it."""
    assert main(["probe", "serial", "--port", str(tmp_path / "ttyNone"), "--seconds", "0.1"]) == 1
    assert "ttyNone: cannot open" in capsys.readouterr().err


def _gpio_args(**kw: object) -> argparse.Namespace:
    return argparse.Namespace(
        **{"pins": None, "config": None, "pull": "floating", "seconds": 0, **kw}
    )


def test_gpio_levels_and_edges_live() -> None:
    """Levels are listed, then each change as it happens, then the edge count per pin."""
    factory = MockFactory()
    factory.pin(17).drive_high()
    out = io.StringIO()

    def toggle() -> None:
        time.sleep(0.15)
        for _ in range(3):
            factory.pin(27).drive_high()
            factory.pin(27).drive_low()

    t = threading.Thread(target=toggle)
    t.start()
    assert probe.cmd_gpio(_gpio_args(pins="17,27", seconds=0.6), out, factory) == 0
    t.join()
    lines = out.getvalue().splitlines()
    assert lines[:2] == ["GPIO17           high", "GPIO27           low"]
    assert [line.split()[-1] for line in lines[2:-1]] == ["high", "low"] * 3
    assert lines[-1] == "edges in 0.6 s: GPIO27 6"


def test_gpio_pins_from_config_with_their_pulls(tmp_path: Path) -> None:
    """--config watches the gpio inputs by name with their configured pull resistors."""
    cfg = Path(__file__).resolve().parents[2] / "gatewayd/sources/gpio/sample.toml"
    factory = MockFactory()
    out = io.StringIO()
    assert probe.cmd_gpio(_gpio_args(config=str(cfg)), out, factory) == 0
    levels = dict(line.split() for line in out.getvalue().splitlines())
    assert levels == {
        "running": "low",
        "door": "high",
        "parts": "low",
        "rejects": "low",
        "coolant": "low",
    }  # door has a pull-up: high while the switch is open


def test_gpio_default_pins_avoid_bus_pins() -> None:
    """Without --pins the probe leaves the I2C, SPI and UART pins alone."""
    out = io.StringIO()
    assert probe.cmd_gpio(_gpio_args(), out, MockFactory()) == 0
    names = [line.split()[0] for line in out.getvalue().splitlines()]
    assert names == [f"GPIO{p}" for p in probe.FREE_PINS]
    assert not {"GPIO2", "GPIO3", "GPIO14", "GPIO15", "GPIO10"} & set(names)
