"""Config validation: precise errors with key paths, every problem at once, did-you-mean."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from gatewayd import config
from gatewayd.errors import ConfigError

GOOD = """
[gateway]
id = "press-7"
[[devices]]
kind = "modbus"
name = "plc"
points = [ { alias = 1, name = "temp", register = 0, data_type = "float32" } ]
"""

BAD = """
[gateway]
id = "press 7"
[brokr]
url = "x"
[store]
max_mb = -1
[[devices]]
kind = "modbus"
name = "plc"
points = [ { alias = 1, name = "temp", register = 0 } ]
[[devices]]
kind = "modbus"
name = "meter"
points = [
  { alias = 2, name = "a", register = 1 },
  { alias = 3, name = "b", register = 2 },
  { alias = 4, name = "c", regster = 3 },
  { alias = 5, name = "d", register = 70000 },
  { alias = 1, name = "e", register = 4, data_type = "float128" },
]
[[devices]]
kind = "modbsu"
name = "x"
"""


def test_valid_file_loads(tmp_path: Path) -> None:
    """A valid file gives typed models with defaults filled in."""
    f = tmp_path / "g.toml"
    f.write_text(GOOD)
    cfg = config.load(f)
    assert cfg.gateway.id == "press-7"
    assert cfg.devices[0].points[0].data_type == "float32"
    assert cfg.store.when_full == "drop_oldest"
    assert [p.alias for p in cfg.points()] == [1]


def test_every_problem_is_reported_with_its_path(tmp_path: Path) -> None:
    """All errors come at once, each naming the file, the key path, what was found and expected."""
    f = tmp_path / "bad.toml"
    f.write_text(BAD)
    with pytest.raises(ConfigError) as e:
        config.load(f)
    text = "\n".join(e.value.problems)
    assert all(p.startswith(f"{f}: ") for p in e.value.problems)
    assert "gateway.id: found 'press 7', expected" in text
    assert "brokr: unknown key (did you mean 'broker'?)" in text
    assert "store.max_mb: found -1, expected greater than 0" in text
    assert "devices[1].points[2].regster: unknown key (did you mean 'register'?)" in text
    assert "devices[1].points[2].register: missing" in text
    assert "devices[1].points[3].register: found 70000" in text
    assert "devices[1].points[4].data_type: found 'float128', expected" in text
    assert "devices[2].kind: found 'modbsu', expected one of" in text and "did you mean 'modbus'" in text
    assert len(e.value.problems) >= 8


def test_aliases_and_names_must_be_unique(tmp_path: Path) -> None:
    """Two points with one alias would be indistinguishable on the wire: refused, naming both."""
    data = {"gateway": {"id": "g"}, "devices": [
        {"kind": "modbus", "name": "a", "points": [{"alias": 1, "name": "x", "register": 0}]},
        {"kind": "modbus", "name": "b", "points": [{"alias": 1, "name": "x", "register": 0}]}]}
    with pytest.raises(ConfigError) as e:
        config.parse(data)
    text = "\n".join(e.value.problems)
    assert ("devices[1].points[0].alias: found 1, expected an alias not already used by "
            "devices[0].points[0]") in text
    assert "devices[1].points[0].name" in text


def test_toml_syntax_error_names_the_line(tmp_path: Path) -> None:
    """A file that is not TOML is refused with the parser's line and column."""
    f = tmp_path / "g.toml"
    f.write_text("[gateway\nid = 1\n")
    with pytest.raises(ConfigError, match=r"not valid TOML.*line 1"):
        config.load(f)


def test_profile_register_names(tmp_path: Path) -> None:
    """A Modbus point can name a register of a device profile; an unknown name lists the known ones."""
    data = {"gateway": {"id": "g"}, "devices": [{"kind": "modbus", "name": "m", "profile": "sdm120",
            "serial_port": "/dev/ttyAMA0", "points": [{"alias": 1, "name": "v", "use": "voltage"}]}]}
    dev = config.parse(data).devices[0]
    got = (dev.transport, dev.baudrate, dev.points[0].table, dev.points[0].unit)
    assert got == ("rtu", 2400, "input", "V")
    data["devices"][0]["points"][0]["use"] = "voltag"
    with pytest.raises(ConfigError, match="a register of profile sdm120: voltage, current"):
        config.parse(data)


def test_check_command_exit_codes(tmp_path: Path) -> None:
    """`gatewayd check` exits 0 on a good file and non-zero listing every problem on a bad one."""
    good, bad = tmp_path / "good.toml", tmp_path / "bad.toml"
    good.write_text(GOOD)
    bad.write_text(BAD)
    ok = subprocess.run([sys.executable, "-m", "gatewayd.cli", "check", str(good)],
                        capture_output=True, text=True)
    assert ok.returncode == 0, ok.stderr
    assert "OK" in ok.stdout
    ko = subprocess.run([sys.executable, "-m", "gatewayd.cli", "check", str(bad)],
                        capture_output=True, text=True)
    assert ko.returncode != 0
    assert "regster" in ko.stderr and "modbsu" in ko.stderr and "max_mb" in ko.stderr


def test_every_sample_config_is_valid() -> None:
    """Each source's sample.toml validates (it is that source's documentation)."""
    root = Path(config.__file__).parent / "sources"
    samples = sorted(root.glob("*/sample.toml"))
    assert len(samples) >= 7
    for sample in samples:
        config.load(sample)
