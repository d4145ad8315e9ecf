"""Modbus RTU on a serial line: a pymodbus RTU server on one end of a pty null modem, the
gateway's Modbus source on the other, two units sharing the line."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gatewayd import config
from gatewayd.buses import Buses
from gatewayd.errors import BusConflict, CommError
from gatewayd.model import Quality
from gatewayd.sources.base import SourceContext
from gatewayd.sources.modbus.decode import encode_value
from gatewayd.sources.modbus.source import build
from gatewayd.testing.modbus_server import ModbusSim, RegisterModel
from gatewayd.testing.nullmodem import NullModem


@pytest.fixture
def line() -> Iterator[tuple[NullModem, ModbusSim]]:
    units = {1: RegisterModel(input=400), 2: RegisterModel(input=400)}
    with NullModem() as modem:
        sim = ModbusSim(units, serial_port=modem.a).start()
        try:
            yield modem, sim
        finally:
            sim.stop()


def meter(name: str, unit: int, port: str, alias: int, **kw: object) -> Any:
    data = {"gateway": {"id": "g"}, "devices": [{
        "kind": "modbus", "name": name, "profile": "sdm120", "serial_port": port, "unit": unit,
        "baudrate": 19200, "parity": "N",  # a pty refuses parity bits
        "points": [{"alias": alias, "name": f"{name}.v", "use": "voltage"},
                   {"alias": alias + 1, "name": f"{name}.e", "use": "total_energy"}], **kw}]}
    return config.parse(data).devices[0]


def shared(tmp_path: Path) -> SourceContext:
    """A context whose bus registry the devices share, as the supervisor's is."""
    return SourceContext(lambda r: None, lambda e: None, tmp_path, lambda: 0, buses=Buses())


def test_two_meters_on_one_rtu_line(line: tuple[NullModem, ModbusSim], tmp_path: Path) -> None:
    """Float32 input registers of two SDM120 units read over RTU, CRC-checked by both ends."""
    modem, sim = line
    sim.model(1).set("input", 0x0000, encode_value(231.5, "float32"))
    sim.model(1).set("input", 0x0156, encode_value(1234.5, "float32"))
    sim.model(2).set("input", 0x0000, encode_value(229.0, "float32"))
    ctx = shared(tmp_path)
    devices = [build(meter("m1", 1, modem.b, 1), ctx), build(meter("m2", 2, modem.b, 10), ctx)]
    assert devices[0].bus is devices[1].bus
    assert devices[0].bus_key == devices[1].bus_key == f"serial:{modem.b}"
    try:
        for d in devices:
            d.open()
        r1 = {r.alias: r for r in devices[0].read(1000)}
        r2 = {r.alias: r for r in devices[1].read(1000)}
    finally:
        for d in devices:
            d.close()
        ctx.buses.close()
    assert r1[1].value == pytest.approx(231.5) and r1[2].value == pytest.approx(1234.5)
    assert r2[10].value == pytest.approx(229.0) and r2[10].quality == Quality.GOOD
    assert len(devices[0].blocks) == 2  # 0x0000 and 0x0156 are too far apart for one request


def test_exception_reply_over_rtu(line: tuple[NullModem, ModbusSim]) -> None:
    """An RTU exception reply (device busy) gives bad readings for the requested points only."""
    modem, sim = line
    sim.fault(1, "busy")
    dev = build(meter("m1", 1, modem.b, 1), None)
    try:
        dev.open()
        readings = list(dev.read(0))
    finally:
        dev.close()
    assert {r.quality for r in readings} == {Quality.BAD_DEVICE_EXCEPTION}
    assert dev.counters["bad_device_exception"] == 2


def test_one_client_per_line_each_device_its_own_timeout_and_retries(
        line: tuple[NullModem, ModbusSim], tmp_path: Path) -> None:
    """Two meters on one RS-485 line share ONE pymodbus client; a silent one waits out its own
    timeout times (its own retries + 1), the healthy one answers at once with its own settings,
    and the line, reached through a /dev/serial/by-id style symlink, is still the same bus."""
    modem, sim = line
    sim.model(1).set("input", 0x0000, encode_value(231.5, "float32"))
    sim.fault(2, "silent")
    by_id = tmp_path / "usb-FTDI_FT232R_USB_UART_A10K1234-if00-port0"
    by_id.symlink_to(modem.b)
    ctx = shared(tmp_path)
    good = build(meter("good", 1, modem.b, 1, timeout_ms=1500, retries=0), ctx)
    dead = build(meter("dead", 2, str(by_id), 10, timeout_ms=200, retries=2), ctx)
    assert good.bus is dead.bus and len(ctx.buses.all()) == 1
    try:
        good.open()
        started = time.monotonic()
        with pytest.raises(CommError, match=r"unit 2 on .*: no response") as e:
            dead.read(0)  # its first request: three tries of 0.2 s
        dead_s = time.monotonic() - started
        started = time.monotonic()
        healthy = {r.alias: r for r in good.read(0)}
        good_s = time.monotonic() - started
    finally:
        ctx.buses.close()
    assert e.value.quality == Quality.BAD_TIMEOUT
    assert sim.model(2).requests == 3  # retries 2 + 1
    assert 3 * 0.2 <= dead_s < 3 * 0.2 + 1.0
    assert healthy[1].value == pytest.approx(231.5) and good_s < 1.0
    assert good.bus.clients_made == 1  # timeouts on one unit did not cost the line its client


def test_conflicting_line_settings_name_both_devices(tmp_path: Path) -> None:
    """One port, two baud rates (or parities, or stop bits): refused, naming both devices."""
    ctx = shared(tmp_path)
    build(meter("m1", 1, "/dev/ttyAMA0", 1), ctx)
    with pytest.raises(BusConflict) as e:
        build(meter("m2", 2, "/dev/ttyAMA0", 10, baudrate=9600, parity="E"), ctx)
    assert e.value.problems == [
        "serial:/dev/ttyAMA0 is 9600 8E1 for device m2 but 19200 8N1 for device m1: "
        "one line has one setting"]


def test_check_reports_a_line_conflict(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`gatewayd check` refuses a config whose two RTU meters disagree on the line's baud rate,
    and so does a serial instrument that wants a Modbus line."""
    from gatewayd.cli import main

    path = tmp_path / "g.toml"
    path.write_text("""
[gateway]
id = "g"
[[devices]]
kind = "modbus"
name = "m1"
transport = "rtu"
serial_port = "/dev/ttyAMA0"
baudrate = 19200
points = [ { alias = 1, name = "a", register = 0 } ]
[[devices]]
kind = "modbus"
name = "m2"
transport = "rtu"
serial_port = "/dev/ttyAMA0"
baudrate = 9600
unit = 2
points = [ { alias = 2, name = "b", register = 0 } ]
[[devices]]
kind = "serial"
name = "scale"
port = "/dev/ttyAMA0"
mode = "free_running"
pattern = '^(?P<w>.*)$'
points = [ { alias = 3, name = "w", field = "w" } ]
""")
    assert main(["check", str(path)]) == 1
    err = capsys.readouterr().err
    assert ("device m2: devices[1]: serial:/dev/ttyAMA0 is 9600 8E1 for device m2 but 19200 8E1 "
            "for device m1: one line has one setting") in err
    assert ("device scale: devices[2]: serial:/dev/ttyAMA0 is wanted as a plain serial line by "
            "device scale but is the Modbus line of device m1") in err
