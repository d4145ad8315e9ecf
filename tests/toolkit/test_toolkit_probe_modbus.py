"""`gatewayd probe modbus` reads a real pymodbus server and shows raw and decoded values."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from gatewayd.cli import main
from gatewayd.sources.modbus.decode import encode_value
from gatewayd.testing.modbus_server import ModbusSim, RegisterModel
from gatewayd.toolkit.modbus_ref import Span, parse_ref


@pytest.mark.parametrize(
    ("text", "span"),
    [
        ("40001:10", Span("holding", 0, 10)),
        ("40001", Span("holding", 0, 1)),
        ("30011:2", Span("input", 10, 2)),
        ("400001:4", Span("holding", 0, 4)),
        ("465536", Span("holding", 65535, 1)),
        ("00001:16", Span("coil", 0, 16)),
        ("10005", Span("discrete", 4, 1)),
        ("holding:0:10", Span("holding", 0, 10)),
        ("input:0x10", Span("input", 16, 1)),
    ],
)
def test_references(text: str, span: Span) -> None:
    """Modicon 0/1/3/4xxxx (5 or 6 digits, 1-based) and table:address:count (0-based)."""
    assert parse_ref(text) == span


@pytest.mark.parametrize(
    "text", ["20001", "40000", "4001", "holding:0:126", "holding:65535:2", "coils:0", "40001:x", ""]
)
def test_bad_references_refused(text: str) -> None:
    """Unknown tables, register 0 in Modicon form, too many or past the end: ValueError."""
    with pytest.raises(ValueError, match=r"40001:10|count"):
        parse_ref(text)


def test_modicon_round_trip() -> None:
    """A span prints its items' references in the same notation."""
    assert Span("input", 9998, 3).modicon(0) == "39999"
    assert Span("input", 9998, 3).modicon(2) == "310001"


@pytest.fixture
def meter() -> Iterator[ModbusSim]:
    model = RegisterModel(holding=100, input=100, bits=32)
    model.set("holding", 0, encode_value(230.5, "float32"))
    model.set("holding", 2, encode_value(49.98, "float32", word_order="little"))
    model.set("holding", 4, [0xFFFE, 0x4F4B])
    model.tables["coil"][1] = 1
    with ModbusSim({1: model, 2: RegisterModel()}) as sim:
        yield sim


def test_holding_registers_raw_and_decoded(
    meter: ModbusSim, capsys: pytest.CaptureFixture[str]
) -> None:
    """Each register shows hex, uint16, int16 and text; pairs show float32 in both word orders."""
    args = [
        "probe",
        "modbus",
        "--host",
        "127.0.0.1",
        "--port",
        str(meter.port),
        "--read",
        "40001:6",
    ]
    assert main(args) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == f"unit 1 on 127.0.0.1:{meter.port}: holding 40001 (address 0), 6 item(s)"
    rows = {line.split()[0]: line.split() for line in lines[2:]}
    assert rows["40001"][2:5] == ["0x4366", "17254", "17254"] and rows["40001"][6] == "230.5"
    assert rows["40003"][7] == "49.98"  # the low word first ("swapped") column
    assert rows["40005"][3:6] == ["65534", "-2", ".."] and rows["40006"][5] == "OK"


def test_coils(meter: ModbusSim, capsys: pytest.CaptureFixture[str]) -> None:
    """Bits show one a row with their Modicon reference."""
    assert (
        main(
            [
                "probe",
                "modbus",
                "--host",
                "127.0.0.1",
                "--port",
                str(meter.port),
                "--read",
                "00001:3",
            ]
        )
        == 0
    )
    rows = [line.split() for line in capsys.readouterr().out.splitlines()[2:]]
    assert rows == [["00001", "0", "0"], ["00002", "1", "1"], ["00003", "2", "0"]]


@pytest.mark.parametrize(
    ("fault", "said"),
    [
        ("illegal_address", "illegal data address"),
        ("busy", "device busy"),
        ("silent", "no response"),
    ],
)
def test_device_faults_named(
    meter: ModbusSim, capsys: pytest.CaptureFixture[str], fault: str, said: str
) -> None:
    """Exception replies and silence end with exit 1 and a message naming the unit and the cause."""
    meter.fault(2, fault)
    assert (
        main(
            [
                "probe",
                "modbus",
                "--host",
                "127.0.0.1",
                "--port",
                str(meter.port),
                "--unit",
                "2",
                "--read",
                "40001:2",
                "--timeout-ms",
                "200",
            ]
        )
        == 1
    )
    err = capsys.readouterr().err
    assert f"unit 2 on 127.0.0.1:{meter.port}" in err and said in err


def test_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    """A bad reference or no endpoint: exit 2 saying what is expected."""
    assert main(["probe", "modbus", "--host", "127.0.0.1", "--read", "99999"]) == 2
    assert main(["probe", "modbus", "--read", "40001"]) == 2
    err = capsys.readouterr().err
    assert "expected a reference like 40001:10" in err and "expected --host" in err


def test_rtu_line_settings_come_from_the_profile(capsys: pytest.CaptureFixture[str]) -> None:
    """`--profile sdm630` reads at the meter's factory 9600 8N1 and unit 1, and says so;
    without a profile the Modbus default 8E1 is used and the 8N1 alternative named; what the
    command line gives wins over both."""
    from gatewayd.sources.modbus.decode import encode_value
    from gatewayd.testing.modbus_server import ModbusSim, RegisterModel
    from gatewayd.testing.nullmodem import NullModem
    from gatewayd.toolkit.probe import endpoint_of, line_settings

    model = RegisterModel(input=10)
    model.set("input", 0, encode_value(230.5, "float32"))
    with NullModem() as modem:
        sim = ModbusSim({1: model}, serial_port=modem.a).start()
        try:
            assert main(["probe", "modbus", "--port", modem.b, "--profile", "sdm630",
                         "--read", "30001:2"]) == 0
        finally:
            sim.stop()
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "line 9600 8N1 (from profile sdm630)"
    assert lines[1].startswith(f"unit 1 on {modem.b}: input 30001")
    from gatewayd.cli import parser

    ns = parser().parse_args  # the real parser, as the command line uses it
    plain = ns(["probe", "modbus", "--port", "/dev/ttyX", "--read", "30001"])
    assert line_settings(plain)[1].startswith("the Modbus default; many meters ship 8N1")
    assert endpoint_of(plain).parity == "E"
    mixed = ns(["probe", "modbus", "--port", "/dev/ttyX", "--profile", "sdm630",
                "--parity", "O", "--read", "30001"])
    assert (endpoint_of(mixed).parity, endpoint_of(mixed).baudrate) == ("O", 9600)
