"""The IODD parser: what it reads from the test IODDs, and the files it refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from gatewayd.errors import ConfigError
from gatewayd.sources.iolink import iodd
from gatewayd.testing.iolink_master import IODD_DIR

HERE = Path(__file__).parent
TS14 = IODD_DIR / "Gatewayd-TS14-20260101-IODD1.1.xml"
PS16 = IODD_DIR / "Gatewayd-PS16-20260101-IODD1.1.xml"
FM32 = IODD_DIR / "Gatewayd-FM32-20260101-IODD1.1.xml"


def test_identity_and_length() -> None:
    """DeviceIdentity gives vendor and device id (hex or decimal) and the device name."""
    d = iodd.load(TS14)
    assert (d.vendor_id, d.device_id, d.device_name) == (1888, 0x010203, "TS14 temperature sensor")
    assert (d.pd_bits, d.pd_octets) == (16, 2)


def test_temperature_items() -> None:
    """A 14-bit signed value at bit offset 2 with range, gradient and unit; two switching bits."""
    temp, out2, out1 = iodd.load(TS14).items
    assert (temp.name, temp.kind, temp.bit_offset, temp.bit_length) == ("Temperature", "int", 2, 14)
    assert (temp.lower, temp.upper, temp.gradient, temp.unit) == (-500, 1500, 0.1, "°C")
    assert (out2.kind, out2.bit_offset, out1.bit_offset) == ("bool", 1, 0)
    assert out2.labels == {0: "off", 1: "on"}


def test_datatype_references_and_offset() -> None:
    """Record and item datatypes given by DatatypeRef resolve; gradient and offset are read."""
    d = iodd.load(PS16)
    pressure, status = d.items[0], d.items[1]
    assert (pressure.kind, pressure.bit_length) == ("int", 16)
    assert (pressure.gradient, pressure.offset) == (0.01, -1.0)
    assert pressure.unit == "bar" and pressure.labels[32760] == "overload"
    assert (status.kind, status.bit_offset, status.bit_length) == ("uint", 8, 8)


def test_float_and_octets() -> None:
    """Float32T is 32 bits without a bitLength; OctetStringT length comes from fixedLength."""
    flow, counter, diag, alarm = iodd.load(FM32).items
    assert (flow.kind, flow.bit_offset, flow.bit_length, flow.unit) == ("float32", 32, 32, "l/h")
    assert (diag.kind, diag.bit_length, diag.numeric) == ("octets", 8, False)
    assert counter.numeric and alarm.numeric


def test_item_lookup_by_name_or_subindex() -> None:
    """An item is found by its name (any case) or its subindex; an unknown one lists the known."""
    d = iodd.load(PS16)
    assert d.item("pressure") is d.item("1")
    with pytest.raises(ValueError, match="1:Pressure, 2:Device status"):
        d.item("Flow")


@pytest.mark.parametrize(
    ("name", "why"),
    [
        ("billion-laughs.xml", "refused unsafe XML"),
        ("external-entity.xml", "refused unsafe XML"),
        ("external-dtd.xml", "refused unsafe XML"),
        ("not-well-formed.xml", "not well-formed XML"),
        ("no-process-data.xml", "has no <ProcessDataIn>"),
        ("item-past-end.xml", "runs past the 16 bits"),
    ],
)
def test_hostile_and_malformed_files_are_refused(name: str, why: str) -> None:
    """Entity expansion, external entities and broken files give a ConfigError naming the file."""
    path = HERE / "hostile" / name
    with pytest.raises(ConfigError) as err:
        iodd.load(path)
    assert str(path) in str(err.value) and why in str(err.value)


def test_missing_and_oversized_files(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A missing file and a file over the size cap are refused with their reason."""
    with pytest.raises(ConfigError, match="cannot read"):
        iodd.load(tmp_path / "absent.xml")
    monkeypatch.setattr(iodd, "MAX_BYTES", 100)
    with pytest.raises(ConfigError, match="larger than"):
        iodd.load(TS14)


def test_chosen_process_data_in() -> None:
    """An unknown ProcessDataIn id is refused, listing the ids the IODD has."""
    assert iodd.load(TS14, "PDI_Temp").pd_bits == 16
    with pytest.raises(ConfigError, match="it has PDI_Temp"):
        iodd.load(TS14, "PDI_Other")
