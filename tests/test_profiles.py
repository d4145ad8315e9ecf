"""Profiles in hardware/: each loads and reads through the simulator; the loader's rules."""

from __future__ import annotations

import time
from pathlib import Path

import pytest
from i2c_testing import Staged

from gatewayd import profiles
from gatewayd.config import parse
from gatewayd.model import Quality
from gatewayd.sources.analog.source import AnalogLoops
from gatewayd.sources.i2c.source import I2CSensor
from gatewayd.testing.scenarios_i2c import demo

REPO = Path(__file__).resolve().parents[1]


def device(raw: dict[str, object]) -> object:
    return parse({"gateway": {"id": "t"}, "devices": [raw]}).devices[0]


def test_hardware_is_the_packaged_folder() -> None:
    """hardware/ points at gatewayd/hardware_profiles, a package, so a wheel ships the TOMLs."""
    assert (REPO / "hardware").resolve() == profiles.PROFILE_DIR
    assert (profiles.PROFILE_DIR / "__init__.py").is_file()
    assert {"ads1115", "bme280", "transmitter_4_20ma"} <= set(profiles.names())


def test_unknown_profile_lists_the_known_ones() -> None:
    """An unknown or path-like name is refused with the list of names."""
    for name in ("nope", "../pyproject"):
        with pytest.raises(ValueError, match=r"a profile name in hardware/: one of .*bme280"):
            profiles.load(name)


def test_apply_keys_in_the_config_win() -> None:
    """A profile's section fills missing keys only; the copy handed out is fresh."""
    merged = profiles.apply({"profile": "bme280", "address": 0x77}, "device", "i2c", "profile")
    assert merged["address"] == 0x77 and merged["mode"] == "forced"
    profiles.load("bme280")["device"]["mode"] = "changed"
    assert profiles.load("bme280")["device"]["mode"] == "forced"


def test_bme280_profile_reads_through_the_sim() -> None:
    """profile = "bme280" finds the chip at 0x76 on the demo bus and reads sane weather."""
    cfg = device({"kind": "i2c", "name": "env", "profile": "bme280", "bus": 1, "points": [
        {"alias": 1, "name": "t", "measurand": "temperature"},
        {"alias": 2, "name": "h", "measurand": "humidity"}]})
    s = I2CSensor(cfg, demo())  # type: ignore[arg-type]
    s.open()
    t, h = s.read(0)
    assert 20 < (t.value or 0) < 28 and 34 < (h.value or 0) < 46


def test_ads1115_profile_reads_through_the_sim() -> None:
    """chip = "ads1115" takes address 0x48 from its profile; the demo's 12 mA loop reads 1.8 V."""
    cfg = device({"kind": "i2c", "name": "adc", "chip": "ads1115", "bus": 1,
                  "data_rate_sps": 860, "points": [{"alias": 1, "name": "v", "channel": "ain2"}]})
    s = I2CSensor(cfg, demo())  # type: ignore[arg-type]
    s.open()
    assert s.read(0)[0].value == pytest.approx(1.8, abs=2e-4)


def test_transmitter_profile_reads_through_the_sim(tmp_path: Path) -> None:
    """The 4-20 mA transmitter profile reads the demo loops: a steady 12 mA is mid-scale and
    the broken loop on AIN3 is bad_wire_break."""
    cfg = device({"kind": "analog", "name": "loops", "profile": "transmitter_4_20ma",
                  "bus": 1, "points": [
                      {"alias": 1, "name": "steady", "channel": 2, "low": 0, "high": 100},
                      {"alias": 2, "name": "broken", "channel": 3}]})
    dev = AnalogLoops(cfg, demo(), time.sleep)  # type: ignore[arg-type]
    dev.open()
    steady, broken = Staged(dev).read(0)
    assert steady.value == pytest.approx(50.0, abs=0.01)
    assert (broken.value, broken.quality) == (None, Quality.BAD_WIRE_BREAK)
