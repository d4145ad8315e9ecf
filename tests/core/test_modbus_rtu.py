"""Modbus RTU on a serial line: a pymodbus RTU server on one end of a pty null modem, the
gateway's Modbus source on the other, two units sharing the line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from gatewayd import config
from gatewayd.model import Quality
from gatewayd.sims.modbus_server import ModbusSim, RegisterModel
from gatewayd.sims.nullmodem import NullModem
from gatewayd.sources.modbus.decode import encode_value
from gatewayd.sources.modbus.source import build


@pytest.fixture
def line() -> Iterator[tuple[NullModem, ModbusSim]]:
    units = {1: RegisterModel(input=400), 2: RegisterModel(input=400)}
    with NullModem() as modem:
        sim = ModbusSim(units, serial_port=modem.a).start()
        try:
            yield modem, sim
        finally:
            sim.stop()


def meter(name: str, unit: int, port: str, alias: int) -> object:
    data = {"gateway": {"id": "g"}, "devices": [{
        "kind": "modbus", "name": name, "profile": "sdm120", "serial_port": port, "unit": unit,
        "baudrate": 19200, "parity": "N",  # a pty refuses parity bits "timeout_ms": 300, "retries": 0,
        "points": [{"alias": alias, "name": f"{name}.v", "use": "voltage"},
                   {"alias": alias + 1, "name": f"{name}.e", "use": "total_energy"}]}]}
    return config.parse(data).devices[0]


def test_two_meters_on_one_rtu_line(line: tuple[NullModem, ModbusSim], tmp_path: Path) -> None:
    """Float32 input registers of two SDM120 units read over RTU, CRC-checked by both ends."""
    modem, sim = line
    sim.model(1).set("input", 0x0000, encode_value(231.5, "float32"))
    sim.model(1).set("input", 0x0156, encode_value(1234.5, "float32"))
    sim.model(2).set("input", 0x0000, encode_value(229.0, "float32"))
    devices = [build(meter("m1", 1, modem.b, 1), None), build(meter("m2", 2, modem.b, 10), None)]
    assert devices[0].bus_key == devices[1].bus_key == modem.b
    try:
        for d in devices:
            d.open()
        r1 = {r.alias: r for r in devices[0].read(1000)}
        r2 = {r.alias: r for r in devices[1].read(1000)}
    finally:
        for d in devices:
            d.close()
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
