"""The enip kind against cpppo's Logix simulator in its own process (gatewayd.testing.logix_server)."""

from __future__ import annotations

import io
from contextlib import redirect_stdout
from typing import Any

import pytest
from plc_kit import opened, read_once, server

from gatewayd.errors import CommError, ConfigError
from gatewayd.model import Quality
from gatewayd.sources.enip.config import Config
from gatewayd.sources.enip.decode import check_tag, raw_value, tag_quality
from gatewayd.sources.enip.source import LogixDevice
from gatewayd.testing.plc_process import ServerProcess

POINTS: list[dict[str, Any]] = [
    {"alias": 1, "name": "tank.temp", "tag": "Temperature"},
    {"alias": 2, "name": "tank.count", "tag": "Counter", "type": "int"},
    {"alias": 3, "name": "tank.pressure", "tag": "Pressure", "type": "int"},
    {"alias": 4, "name": "tank.running", "tag": "Running", "type": "bool"},
    {"alias": 5, "name": "tank.level3", "tag": "Levels[2]"},
    {"alias": 6, "name": "line.speed", "tag": "Program:Line.Speed"},
    {"alias": 7, "name": "line.parts", "tag": "Program:Line.Parts", "type": "int"},
]


def device(port: int, points: list[dict[str, Any]] = POINTS) -> LogixDevice:
    return LogixDevice(Config.load({"kind": "enip", "name": "filler", "host": "127.0.0.1",
                                              "port": port, "timeout_ms": 500, "points": points}))


logix = server("logix_server")


@pytest.mark.parametrize("tag", ["Tank_Level", "Levels[3]", "Motor.Speed", "Status.5",
                                 "Program:MainProgram.Speed", "Grid[1,2]", "A.B[2].C"])
def test_logix_tag_names_are_accepted(tag: str) -> None:
    """Controller tags, program tags, array elements, UDT members and bits are tag references."""
    check_tag(tag)


@pytest.mark.parametrize("tag", ["", "1abc", "Program:.X", "Tank Level", "Levels[]", "A..B"])
def test_malformed_tags_are_refused_at_load(tag: str) -> None:
    """A tag Studio 5000 would not accept is a config error, with examples of right ones."""
    with pytest.raises(ConfigError, match="expected a Logix tag"):
        Config.load({"kind": "enip", "name": "x", "host": "h",
                               "points": [{"alias": 1, "name": "p", "tag": tag}]})


def test_one_controller_is_one_line_however_its_host_is_written() -> None:
    """The bus key is the endpoint as gatewayd.buses.keys spells it."""
    keys = {Config.load({"kind": "enip", "name": "x", "host": host}).bus_key
            for host in ("Filler.Plant.", "filler.plant")}
    assert keys == {"tcp:filler.plant:44818"}


def test_status_and_value_vectors() -> None:
    """CIP statuses map to qualities; BOOL is 0/1; a structure read whole has no value."""
    assert [tag_quality(s) for s in (0x00, 0x01, 0x05, 0x07, 0x0F)] == [
        Quality.GOOD, Quality.BAD_COMM, Quality.BAD_DEVICE_EXCEPTION, Quality.BAD_COMM,
        Quality.BAD_DEVICE_EXCEPTION]
    assert [raw_value(v) for v in (True, 3, 2.5, "ok", [1, 2])] == [1, 3, 2.5, "ok", None]


def test_controller_and_program_tags_in_one_request(logix: ServerProcess) -> None:
    """Every tag of the device, controller and program scope, comes back good from one read."""
    dev = device(logix.port)
    got = read_once(dev, 500)
    assert {a: r.value for a, r in got.items()} == {1: 21.5, 2: 1000, 3: -42, 4: 1, 5: 3.0, 6: 12.5, 7: 7}
    assert all(r.quality == Quality.GOOD and r.ts_ms == 500 for r in got.values())
    assert dev.counters["requests"] == 1


def test_written_values_and_unknown_tags(logix: ServerProcess, caplog: Any) -> None:
    """A value written into the controller over EtherNet/IP shows in the next poll; a tag the
    controller does not know is bad alone and named once in the log."""
    from pylogix import PLC

    points = [*POINTS[:2], {"alias": 9, "name": "x", "tag": "No_Such_Tag"}]
    with (opened(device(logix.port, points)) as dev,
          PLC("127.0.0.1", port=logix.port, timeout=2) as writer):
        try:
            assert writer.Write("Temperature", 80.25).Status == "Success"
            got = {r.alias: r for r in dev.read(0)}
            dev.read(0)
        finally:
            writer.Write("Temperature", 21.5)
            writer.conn.msg_socket.close()  # pylogix's Close() leaves this one open
    assert got[1].value == 80.25 and got[2].quality == Quality.GOOD
    assert got[9].value is None and got[9].quality == Quality.BAD_DEVICE_EXCEPTION
    told = [r.getMessage() for r in caplog.records if "No_Such_Tag" in r.getMessage()]
    assert len(told) == 1 and "does not know this tag" in told[0]


def test_a_controller_restart_is_a_comm_error_then_reads_again() -> None:
    """While the controller is gone the poll raises CommError; after it returns, reads resume."""
    with (ServerProcess("gatewayd.testing.logix_server") as plc,
          opened(device(plc.port, POINTS[:2])) as dev):
        assert dev.read(0)[0].value == 21.5
        plc.stop()
        with pytest.raises(CommError, match="no session"):
            dev.read(0)
        plc.start()
        dev.open()
        assert [r.value for r in dev.read(0)] == [21.5, 1000]


def test_probe_reads_tags(logix: ServerProcess) -> None:
    """`gatewayd probe enip` prints each tag's value, or why the controller refused it."""
    from gatewayd.cli import main

    out = io.StringIO()
    with redirect_stdout(out):
        code = main(["probe", "enip", "--host", "127.0.0.1", "--port", str(logix.port), "--tag",
                     "Temperature", "Program:Line.Parts", "Nope"])
    text = out.getvalue()
    assert code == 0, text
    assert "3 tag(s) in one request" in text and "21.5" in text and "7" in text
    assert "Nope" in text and "does not know this tag" in text
