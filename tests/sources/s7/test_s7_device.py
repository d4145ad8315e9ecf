"""The s7 kind against python-snap7's own server in its own process (gatewayd.testing.s7_server)."""

from __future__ import annotations

import struct
from typing import Any

import pytest
from plc_kit import opened, read_once, server

from gatewayd.errors import CommError, DeviceException
from gatewayd.model import Quality
from gatewayd.sources.s7.config import Config
from gatewayd.sources.s7.source import S7Device
from gatewayd.testing.plc_process import ServerProcess

POINTS: list[dict[str, Any]] = [
    {"alias": 1, "name": "oven.temp", "address": "DB1.DBD0", "data_type": "real"},
    {"alias": 2, "name": "oven.count", "address": "DB1.DBD4", "data_type": "dint", "type": "int"},
    {"alias": 3, "name": "oven.offset", "address": "DB1.DBW8", "data_type": "int", "type": "int"},
    {"alias": 4, "name": "oven.status", "address": "DB1.DBW10", "data_type": "word", "type": "int"},
    {"alias": 5, "name": "oven.door", "address": "DB1.DBX12.3", "type": "bool"},
    {"alias": 7, "name": "line.total", "address": "DB2.DBD500", "data_type": "dint", "type": "int"},
    {"alias": 8, "name": "line.speed", "address": "MW10", "data_type": "word", "type": "int"},
    {"alias": 9, "name": "line.ready", "address": "M20.1", "type": "bool"},
    {"alias": 10, "name": "line.estop", "address": "I0.3", "type": "bool"},
    {"alias": 11, "name": "line.level", "address": "IW2", "data_type": "int", "type": "int"},
    {"alias": 12, "name": "line.motor", "address": "Q1.0", "type": "bool"},
    {"alias": 13, "name": "line.valve", "address": "QD4", "data_type": "real"},
]


def device(port: int, points: list[dict[str, Any]] = POINTS, **kw: Any) -> S7Device:
    return S7Device(Config.load({"kind": "s7", "name": "oven-plc", "host": "127.0.0.1",
                                           "port": port, "timeout_ms": 500, "points": points, **kw}))


cpu = server("s7_server", "--optimised", "3")


def test_every_area_and_type_reads_in_one_request(cpu: ServerProcess) -> None:
    """DB, M, I and Q with REAL, DINT, INT, WORD and bits come back in one Read Var request."""
    dev = device(cpu.port)
    got = read_once(dev, 1000)
    assert {a: r.value for a, r in got.items()} == {
        1: 21.5, 2: -123456, 3: -42, 4: 0xBEEF, 5: 1, 7: 7, 8: 1234, 9: 1, 10: 1, 11: 555, 12: 1, 13: -0.5}
    assert all(r.quality == Quality.GOOD and r.ts_ms == 1000 for r in got.values())
    assert dev.counters["requests"] == 1 and len(dev.requests[0]) == 5  # 5 spans, one PDU
    assert dev.link.pdu_size == 480


def test_string_points_decode_the_s7_string_header(cpu: ServerProcess) -> None:
    """An S7 STRING[10] gives its current characters, not the padding."""
    dev = device(cpu.port, [{"alias": 6, "name": "oven.recipe", "address": "DB1.DBB20", "type": "string",
                             "data_type": "string", "string_length": 10}])
    got = read_once(dev)
    assert dev.requests[0][0].size == 12
    assert got[6].value == "PUMP-7" and got[6].quality == Quality.GOOD


def test_values_written_into_the_cpu_are_read(cpu: ServerProcess) -> None:
    """A change made in the CPU over S7 (a snap7 client's write) shows in the next poll."""
    import snap7

    writer = snap7.Client()
    writer.connect("127.0.0.1", 0, 1, cpu.port)
    try:
        writer.db_write(1, 0, bytearray(struct.pack(">fi", 80.25, 99)))
        got = {a: r.value for a, r in read_once(device(cpu.port, POINTS[:2])).items()}
        writer.db_write(1, 0, bytearray(struct.pack(">fi", 21.5, -123456)))
    finally:
        writer.disconnect()
    assert got == {1: 80.25, 2: 99}


def test_an_optimised_db_names_the_tia_portal_setting(cpu: ServerProcess, caplog: Any) -> None:
    """A DB with optimised block access makes its points bad, and the log says which box to untick;
    the other spans of the same request stay good. A device whose every span is refused is down."""
    points = [*POINTS[:1], {"alias": 14, "name": "oven.setpoint", "address": "DB3.DBD0", "data_type": "real"}]
    with opened(device(cpu.port, points)) as dev:
        got = {r.alias: r for r in dev.read(0)}
        dev.read(0)  # told once, not every poll
    assert got[1].quality == Quality.GOOD and got[14].quality == Quality.BAD_DEVICE_EXCEPTION
    told = [r.getMessage() for r in caplog.records if "Optimized block access" in r.getMessage()]
    assert len(told) == 1 and "DB3" in told[0]
    with (opened(device(cpu.port, points[1:])) as only_db3,
          pytest.raises(DeviceException, match="Optimized block access") as down):
        only_db3.read(0)
    assert down.value.quality == Quality.BAD_CONFIG


def test_put_get_off_names_the_tia_portal_setting() -> None:
    """A CPU that refuses PUT/GET (header error 0x8104) is a device error that says what to tick."""
    with (ServerProcess("gatewayd.testing.s7_server", "--put-get-off") as plc,
          opened(device(plc.port, POINTS[:1])) as dev,
          pytest.raises(DeviceException, match="Permit access with PUT/GET") as refused):
        dev.read(0)
    assert refused.value.quality == Quality.BAD_CONFIG and "0x8104" in str(refused.value)


def test_a_cpu_restart_is_a_comm_error_then_reconnects() -> None:
    """While the CPU is gone the poll raises CommError (the runner backs off); after it returns a
    new open() reads again."""
    with (ServerProcess("gatewayd.testing.s7_server") as plc,
          opened(device(plc.port, POINTS[:1])) as dev):
        assert dev.read(0)[0].value == 21.5
        plc.stop()
        with pytest.raises(CommError):
            dev.read(0)
        with pytest.raises(CommError, match="cannot connect"):
            dev.open()
        plc.start()
        dev.open()
        assert dev.read(0)[0].value == 21.5


def test_probe_reads_addresses_and_explains_refusals(cpu: ServerProcess) -> None:
    """`gatewayd probe s7` prints the PDU size, each value with its bytes, and the CPU's
    refusals with what to change."""
    import io

    from gatewayd.cli import main

    out = io.StringIO()
    from contextlib import redirect_stdout

    with redirect_stdout(out):
        code = main(["probe", "s7", "--host", "127.0.0.1", "--port", str(cpu.port), "--address",
                     "DB1.DBD0:real", "DB1.DBB20:string:10", "I0.3", "DB3.DBD0:real", "DB9.DBW0:int"])
    text = out.getvalue()
    assert code == 0, text
    assert "PDU size 480" in text and "21.5  (bytes 41 ac 00 00)" in text and "'PUMP-7'" in text
    assert "Optimized block access" in text and "DB9 does not exist" in text
