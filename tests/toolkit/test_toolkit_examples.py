"""The example configs in config/: valid, free of warnings, showing what their retrofit needs."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from gatewayd import config as config_mod
from gatewayd.toolkit.warnings import lint, rtu_cycle_s

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = {
    "cnc_lathe.toml": {
        ("vibration", "velocity_mm_s"),
        ("analog", "bar"),
        ("gpio", "state"),
        ("gpio", "counter"),
    },
    "pump_station.toml": {("analog", "m"), ("modbus", "kWh"), ("iolink", "Pressure")},
    "air_compressor.toml": {("i2c", "temperature"), ("serial", "m³/h"), ("gpio", "run_hours")},
}


def features(cfg: config_mod.Config) -> set[tuple[str, str]]:
    """(kind, unit / role / measurand / feature / item) of every point: what the example shows."""
    out = set()
    for dev in cfg.devices:
        for p in dev.point_configs():
            for attr in ("unit", "role", "measurand", "feature", "item"):
                if getattr(p, attr, None):
                    out.add((dev.kind, str(getattr(p, attr))))
            if dev.kind == "vibration":
                out.add((dev.kind, p.feature))
    return out


@pytest.mark.parametrize("name", sorted(EXAMPLES))
def test_example_loads_clean_and_complete(name: str) -> None:
    """Loads, raises no warning, shows the retrofit's signals, and is commented throughout."""
    path = ROOT / "config" / name
    cfg = config_mod.load(path)
    assert lint(cfg) == []
    assert EXAMPLES[name] <= features(cfg)
    text = path.read_text()
    assert text.startswith("# ") and text.count("#") >= 10
    assert tomllib.loads(text)["gateway"]["id"]


def test_pump_station_meter_fits_its_line() -> None:
    """The energy meter's reads at 2400 baud take about the 330 ms its comment says."""
    cfg = config_mod.load(ROOT / "config" / "pump_station.toml")
    meter = next(d for d in cfg.devices if d.kind == "modbus")
    assert rtu_cycle_s(meter) == pytest.approx(0.33, abs=0.01)
