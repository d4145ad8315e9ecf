"""One spelling per unit across profiles, examples, samples, simulators and READMEs: the IO-Link
standard's symbols where it has one (the IODD unit table), so a value from an IODD and the
same quantity from a Modbus profile carry the same unit string."""

from __future__ import annotations

import re
from pathlib import Path

from gatewayd.sources.iolink.iodd import UNITS

ROOT = Path(__file__).parents[1]
# other spellings seen in the field, and the one we use
ALIASES = {"degC": "°C", "deg C": "°C", "C": "°C", "celsius": "°C", "degF": "°F", "deg": "°",
           "rpm": "1/min", "RPM": "1/min", "m3/h": "m³/h", "m^3/h": "m³/h", "l/hr": "l/h",
           "percent": "%", "sec": "s", "kwh": "kWh", "KWh": "kWh", "hz": "Hz", "v": "V",
           "a": "A", "w": "W"}
UNIT = re.compile(r"""(?:\bunit\s*=\s*|"unit":\s*)"([^"]*)\"""")


def sources() -> list[Path]:
    globs = ["gatewayd/**/*.toml", "gatewayd/**/*.py", "gatewayd/**/README.md", "config/*.toml",
             "docs/*.md", "README.md"]
    return [p for g in globs for p in ROOT.glob(g) if ".venv" not in p.parts]


def test_every_unit_has_one_spelling() -> None:
    """No file names a unit by a spelling that has a canonical form elsewhere."""
    found = [(str(p.relative_to(ROOT)), m.group(1)) for p in sources()
             for m in UNIT.finditer(p.read_text(errors="replace")) if m.group(1) in ALIASES]
    assert found == [], [f"{f}: unit {u!r} is spelled {ALIASES[u]!r}" for f, u in found]


def test_canonical_spellings_agree_with_the_iodd_units() -> None:
    """The canonical spellings chosen are the IO-Link standard's where it defines the unit."""
    for canonical in ("°C", "°F", "°", "1/min", "m³/h", "%", "s", "kWh", "Hz", "V", "A"):
        assert canonical in UNITS.values()
