"""`gatewayd probe i2c` against register-level chip models on simulated buses."""

from __future__ import annotations

import io

import pytest

from gatewayd.cli import main
from gatewayd.testing.ads1115 import ADS1115
from gatewayd.testing.adxl345 import Adxl345
from gatewayd.testing.bme280 import BME280
from gatewayd.testing.i2c import SimBus
from gatewayd.toolkit import i2c_chips
from gatewayd.toolkit.probe import scan_i2c
from gatewayd.toolkit.progress import Progress


def test_demo_bus_chips_identified(capsys: pytest.CaptureFixture[str]) -> None:
    """The demo bus's ADS1115 and BME280 answer and are named by their identity registers."""
    assert main(["--simulate", "demo", "probe", "i2c", "--bus", "1"]) == 0
    out, err = capsys.readouterr()
    assert out.splitlines() == [
        "0x48  ADS1115/ADS1015 ADC (config at power-on default) (identity register)",
        "0x76  BME280 environment (identity register)",
    ]
    assert "scan i2c-1: 2 address(es) answer" in err


def test_adxl_found_nacking_chip_skipped_unknown_id_gives_candidates() -> None:
    """ADXL345 by DEVID; a NACKing chip is absent; an unknown ID at 0x77 lists candidates."""
    other = BME280()
    other.regs[0xD0] = 0x55  # not a Bosch ID we know
    bus = SimBus({0x53: Adxl345(), 0x48: ADS1115(), 0x77: other})
    bus.fail(0x48)
    found = scan_i2c(bus, "sim:probe-test")
    assert found[0x53][0] == "ADXL345 accelerometer"
    assert 0x48 not in found
    assert found[0x77] == (None, i2c_chips.candidates(0x77))
    assert "BME280/BMP280 environment" in found[0x77][1]


def test_empty_bus_exit_code(capsys: pytest.CaptureFixture[str]) -> None:
    """Nothing answering is an exit code 1 with a hint about pull-ups and power."""
    assert main(["--simulate", "empty", "probe", "i2c", "--bus", "1"]) == 1
    assert "pull-ups" in capsys.readouterr().out


def test_unknown_bus_spec_refused(capsys: pytest.CaptureFixture[str]) -> None:
    """A bus that is not a number, or a world that does not exist, is refused with what is
    expected."""
    assert main(["probe", "i2c", "--bus", "sim:nope"]) == 1
    assert "expected a bus number" in capsys.readouterr().err
    assert main(["--simulate", "nope", "probe", "i2c", "--bus", "1"]) == 1
    assert "no simulated world 'nope': one of demo" in capsys.readouterr().err


def test_scan_reports_progress_on_a_terminal_only() -> None:
    """A terminal sees the bar redrawn in place; a pipe gets only the summary line."""

    class Tty(io.StringIO):
        def isatty(self) -> bool:
            return True

    tty, pipe = Tty(), io.StringIO()
    ticks = iter(range(1000))
    for stream in (tty, pipe):
        with Progress("scan", 112, stream, clock=lambda: next(ticks) * 0.01, every_s=0) as bar:
            scan_i2c(SimBus({0x48: ADS1115()}), "sim:progress-test", progress=bar)
    assert "\rscan [" in tty.getvalue() and "112/112 100%" in tty.getvalue()
    assert pipe.getvalue().startswith("scan: 112/112 in ") and "[" not in pipe.getvalue()
