"""`gatewayd check` warnings: legal but suspicious configs, each with its key path."""

from __future__ import annotations

import os
import pty
import tomllib
from pathlib import Path

import pytest

from gatewayd.cli import main
from gatewayd.config import parse
from gatewayd.toolkit.warnings import lint, rtu_exchange_s, rtu_silence_s

HEAD = '[gateway]\nid = "gw"\n'
RTU = """
[[devices]]
kind = "modbus"
name = "{name}"
transport = "rtu"
serial_port = "/dev/ttyUSB0"
baudrate = {baud}
unit = {unit}
period_ms = {period}
"""


def point(
    alias: int, register: int, data_type: str = "uint16", table: str = "holding", extra: str = ""
) -> str:
    return (
        f'[[devices.points]]\nalias = {alias}\nname = "p{alias}"\ntable = "{table}"\n'
        f'register = {register}\ndata_type = "{data_type}"\n{extra}\n'
    )


def warnings_of(toml: str) -> list[str]:
    return lint(parse(tomllib.loads(HEAD + toml)))


def test_rtu_frame_times() -> None:
    """Ten registers at 9600 baud: 8 + 25 characters of 11 bits and two 3.5-character gaps."""
    char = 11 / 9600
    assert rtu_exchange_s("holding", 10, 9600) == pytest.approx(33 * char + 7 * char)
    assert rtu_exchange_s("coil", 16, 9600) == pytest.approx(15 * char + 7 * char)
    assert rtu_silence_s(115200) == 0.00175  # fixed above 19200 baud


def test_poll_faster_than_the_line() -> None:
    """One read of 100 registers at 2400 baud is 220 characters of 11 bits: 1008 ms > 1000 ms."""
    toml = RTU.format(name="m", baud=2400, unit=1, period=1000) + point(1, 0) + point(2, 99)
    toml = toml.replace("unit = 1\n", "unit = 1\nmax_gap = 100\n")
    found = warnings_of(toml)
    assert found == [
        "devices[0].period_ms: polls every 1000 ms but its reads take at least 1008 ms at 2400 baud"
    ]


def test_line_shared_by_devices_overloaded() -> None:
    """Two devices each within their period but together over the line's time are flagged."""
    toml = (
        RTU.format(name="a", baud=9600, unit=1, period=100)
        + point(1, 0, "float32")
        + point(2, 2, "float32")
        + point(3, 100, "float32")
        + RTU.format(name="b", baud=9600, unit=2, period=100)
        + point(4, 0, "float32")
        + point(5, 100, "float32")
    )
    found = warnings_of(toml)
    assert len(found) == 1 and found[0].startswith("/dev/ttyUSB0: devices[0], devices[1] need 1")


@pytest.mark.parametrize(
    ("points", "expected"),
    [
        (
            point(1, 10) + point(2, 10),
            "devices[0].points[1]: reads holding 10..10, the same registers "
            "as devices[0].points[0]",
        ),
        (
            point(1, 10, "float32") + point(2, 11),
            "devices[0].points[1]: reads holding 11..11, "
            "overlapping registers as devices[0].points[0]",
        ),
        (point(1, 10, "bit", extra="bit = 0") + point(2, 10, "bit", extra="bit = 0"), "the same"),
    ],
)
def test_register_overlaps(points: str, expected: str) -> None:
    """Same or overlapping registers of one unit are flagged."""
    found = warnings_of(RTU.format(name="m", baud=19200, unit=1, period=1000) + points)
    assert len(found) == 1 and expected in found[0]


def test_distinct_bits_tables_and_units_are_fine() -> None:
    """Bits of one register, the same number in another table or unit: no warning."""
    toml = (
        RTU.format(name="m", baud=19200, unit=1, period=1000)
        + point(1, 10, "bit", extra="bit = 0")
        + point(2, 10, "bit", extra="bit = 1")
        + point(3, 10, table="input")
        + RTU.format(name="n", baud=19200, unit=2, period=1000)
        + point(4, 10)
    )
    assert warnings_of(toml) == []


ANALOG = """
[[devices]]
kind = "analog"
name = "loops"
bus = 1
period_ms = {period}
data_rate_sps = {rate}
"""


def test_loop_without_range_and_alarm_outside_it() -> None:
    """A 4-20 mA point without low/high, and an alarm limit the range cannot reach."""
    toml = (
        ANALOG.format(period=1000, rate=250)
        + '[[devices.points]]\nalias = 1\nname = "level"\nchannel = 0\n'
        + '[[devices.points]]\nalias = 2\nname = "press"\nchannel = 1\nlow = 0.0\nhigh = 10.0\n'
        + "alarms = { h = 12.0 }\n"
    )
    assert warnings_of(toml) == [
        "devices[0].points[0]: no low and high: the 4-20 mA range defaults to 0..100; give the "
        "transmitter's range",
        "devices[0].points[1].alarms.h: 12 lies outside the range 0..10",
    ]


def test_adc_slower_than_the_period() -> None:
    """Four single-shot conversions at 8 samples/s need 500 ms: a 100 ms period is flagged."""
    points = "".join(
        f'[[devices.points]]\nalias = {i + 1}\nname = "c{i}"\nchannel = {i}\n'
        f"low = 0.0\nhigh = 1.0\n"
        for i in range(4)
    )
    assert warnings_of(ANALOG.format(period=100, rate=8) + points) == [
        "devices[0].period_ms: 100 ms, but 4 conversions at 8 sps take 500 ms"
    ]


def test_collisions_of_addresses_pins_and_ports() -> None:
    """Two devices on one I2C address, serial and modbus on one port. (One GPIO pin twice is
    an error now: tests/test_config_strict.py.)"""
    toml = (
        ANALOG.format(period=1000, rate=250)
        + '[[devices]]\nkind = "i2c"\nname = "adc"\nchip = "ads1115"\nbus = 1\n'
        + '[[devices]]\nkind = "gpio"\nname = "io"\n'
        + '[[devices.inputs]]\nname = "a"\npin = 17\n'
        + '[[devices.inputs]]\nname = "b"\npin = "GPIO27"\n'
        + RTU.format(name="m", baud=9600, unit=1, period=1000)
        + '[[devices]]\nkind = "serial"\nname = "scale"\nport = "/dev/ttyUSB0"\n'
        + 'mode = "free_running"\npattern = "(?P<w>.*)"\n'
    )
    found = "\n".join(warnings_of(toml))
    assert "devices[1].address: 0x48 on i2c-1 is also used by devices[0]" in found
    assert "/dev/ttyUSB0: devices[3], devices[4] mix serial and modbus devices" in found


def test_broker_and_store_hygiene() -> None:
    """A password in the file, sent in clear to another host; a queue that a reboot wipes."""
    toml = (
        '[broker]\nurl = "mqtt://broker.example:1883"\nusername = "u"\npassword = "p"\n'
        '[store]\npath = "/tmp/q.db"\n'
    )
    assert warnings_of(toml) == [
        "broker.password: a password in the config file; prefer password_file (mode 0600)",
        "broker.url: credentials go in clear text to broker.example; use mqtts://",
        "store.path: /tmp/q.db is cleared at reboot; queued data would be lost",
    ]


def test_samples_are_clean() -> None:
    """Every source's sample.toml passes without a warning."""
    root = Path(__file__).resolve().parents[2]
    for sample in sorted(root.glob("gatewayd/sources/*/sample.toml")):
        assert lint(parse(tomllib.loads(sample.read_text()))) == [], sample


def test_check_prints_warnings_and_still_passes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`gatewayd check` says OK, lists the warnings, and exits 0: warnings do not refuse a file."""
    f = tmp_path / "g.toml"
    master, slave = pty.openpty()  # `check` refuses a port that is not there
    f.write_text(
        (HEAD + RTU.format(name="m", baud=9600, unit=1, period=1000) + point(1, 3) + point(2, 3))
        .replace("/dev/ttyUSB0", os.ttyname(slave))
    )
    try:
        assert main(["check", str(f)]) == 0
    finally:
        os.close(master)
        os.close(slave)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == f"{f}: OK, 1 devices, 2 points"
    assert out[1].startswith("  warning: devices[0].points[1]: reads holding 3..3, the same")


def test_point_stage_alarm_outside_span_and_percent_deadband_without_span() -> None:
    """Any point: an alarm its 4-20 mA span cannot reach, and a percent deadband with no span."""
    toml = (
        RTU.format(name="m", baud=9600, unit=1, period=1000)
        + point(1, 0, extra="scale = 0.001\nloop_4_20ma = { low = 0.0, high = 10.0 }\n"
                "alarms = { hh = 12.0 }")
        + point(2, 1, extra="deadband_pct = 1.0")
    )
    assert warnings_of(toml) == [
        "devices[0].points[0].alarms.hh: 12 lies outside the range 0..10",
        "devices[0].points[1].deadband_pct: no span (loop_4_20ma or valid_min/valid_max): a "
        "percentage of the last value sent",
    ]
