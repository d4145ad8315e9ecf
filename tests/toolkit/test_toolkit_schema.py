"""`gatewayd schema`: the JSON Schema accepts every shipped config and flags mistakes."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from gatewayd.cli import main
from gatewayd.toolkit.schema import config_schema

ROOT = Path(__file__).resolve().parents[2]
SHIPPED = sorted([*ROOT.glob("gatewayd/sources/*/sample.toml"), *ROOT.glob("config/*.toml")])


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = config_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def errors(v: jsonschema.Draft202012Validator, doc: dict[str, Any]) -> list[str]:
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in v.iter_errors(doc)]


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: str(p.relative_to(ROOT)))
def test_shipped_configs_valid(validator: jsonschema.Draft202012Validator, path: Path) -> None:
    """Every sample.toml and example config validates, profiles leaving keys out included."""
    assert errors(validator, tomllib.loads(path.read_text())) == []


@pytest.mark.parametrize(
    ("doc", "where"),
    [
        ({"gateway": {"id": "g", "sit": "x"}}, "gateway"),
        ({"gateway": {"id": "g"}, "devices": [{"kind": "modbuss", "name": "m"}]}, "devices/0/kind"),
        (
            {
                "gateway": {"id": "g"},
                "devices": [{"kind": "modbus", "name": "m", "baudrate": "fast"}],
            },
            "devices/0/baudrate",
        ),
        (
            {
                "gateway": {"id": "g"},
                "devices": [{"kind": "serial", "name": "s", "points": [{"alias": 0, "name": "x"}]}],
            },
            "devices/0/points/0/alias",
        ),
        ({"broker": {}}, ""),
    ],
)
def test_mistakes_flagged(
    validator: jsonschema.Draft202012Validator, doc: dict[str, Any], where: str
) -> None:
    """Unknown keys, unknown kinds, wrong types, out-of-range values and missing tables."""
    found = errors(validator, doc)
    assert found and any(e.startswith(f"{where}:") for e in found), found


def test_every_kind_described() -> None:
    """Each device kind has its own readable definition, selected by `kind`."""
    schema = config_schema()
    items = schema["properties"]["devices"]["items"]
    chosen = {c["if"]["properties"]["kind"]["const"]: c["then"]["$ref"] for c in items["allOf"]}
    assert chosen["analog"] == "#/$defs/analog_device"
    assert set(chosen) == {"modbus", "iolink", "serial", "gpio", "i2c", "vibration", "analog",
                           "s7", "enip", "opcua"}
    assert set(chosen) == set(items["properties"]["kind"]["enum"])
    assert schema["$defs"]["AnalogPoint"]["properties"]["low"]["description"] == "value at 4 mA"


def test_cli_prints_the_schema(capsys: pytest.CaptureFixture[str]) -> None:
    """`gatewayd schema` writes the same schema as JSON."""
    assert main(["schema"]) == 0
    assert json.loads(capsys.readouterr().out) == config_schema()


def test_old_point_key_names_are_valid_and_marked_deprecated(
        validator: jsonschema.Draft202012Validator) -> None:
    """Configs written with `gain`, `gradient` or analog's `max_silence_ms` load, so the schema
    accepts them too, marked deprecated with the new name; the point stage's keys are there."""
    doc = {"gateway": {"id": "g"}, "devices": [
        {"kind": "modbus", "name": "m", "points": [
            {"alias": 1, "name": "a", "register": 0, "gain": 0.1, "deadband_pct": 1.0,
             "loop_4_20ma": {"low": 0, "high": 10}, "alarms": {"h": 5, "persistence": 2}}]},
        {"kind": "analog", "name": "l", "points": [
            {"alias": 2, "name": "b", "channel": 0, "max_silence_ms": 60000}]}]}
    assert errors(validator, doc) == []
    point = config_schema()["$defs"]["ModbusPoint"]["properties"]
    assert point["gain"]["deprecated"] is True and "scale" in point["gain"]["description"]
