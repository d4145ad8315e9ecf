"""Every Modbus meter profile in hardware/ loads, and each of its registers reads back through
the Modbus source from a simulated meter that holds the values where the maker's map says."""

from __future__ import annotations

import pytest

from gatewayd import config, profiles
from gatewayd.sources.modbus.decode import encode_value
from gatewayd.sources.modbus.source import build
from gatewayd.testing.modbus_server import ModbusSim, RegisterModel

METERS = [n for n in profiles.names() if "modbus" in profiles.load(n).get("kinds", [])]


def test_both_eastron_meters_are_shipped() -> None:
    """The single-phase and three-phase Eastron maps are there."""
    assert {"sdm120", "sdm630"} <= set(METERS)


@pytest.mark.parametrize("name", METERS)
def test_profile_reads_every_register(name: str) -> None:
    """A config naming each register with `use` gets the value stored at the mapped address."""
    registers = profiles.load(name)["registers"]
    model = RegisterModel(input=400)
    expected = {}
    for i, (reg, spec) in enumerate(registers.items()):
        value = 100.0 + i * 1.5
        model.set(spec["table"], spec["register"], encode_value(value, spec["data_type"]))
        expected[reg] = value
    with ModbusSim({1: model}) as sim:
        data = {"gateway": {"id": "g"}, "devices": [{
            "kind": "modbus", "name": "meter", "profile": name, "transport": "tcp",
            "port": sim.port, "points": [{"alias": i + 1, "name": reg, "use": reg}
                                         for i, reg in enumerate(registers)]}]}
        dev = build(config.parse(data).devices[0], None)
        dev.open()
        try:
            got = {p.name: r.value for p, r in zip(dev.points, dev.read(0), strict=True)}
        finally:
            dev.close()
    assert got == pytest.approx(expected)
    assert len(dev.blocks) < len(registers) // 2  # coalesced into a few requests
