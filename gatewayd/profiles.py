"""Device profiles: TOML data in `hardware/` that a config names instead of typing settings.

The profiles live in the package (`gatewayd/hardware_profiles/`, shipped as package data so an
installed wheel has them); `hardware/` at the top of the repository is a symlink to that folder,
so installers and contributors find them where the docs say. A profile is a TOML table with a
`description`, the `kinds` it fits, and sections of defaults (e.g. `[device]`, `[point]`) that a
config entry naming the profile starts from: keys the config sets win.
"""

from __future__ import annotations

import copy
import re
import tomllib
from functools import cache
from pathlib import Path
from typing import Any

PROFILE_DIR = Path(__file__).resolve().with_name("hardware_profiles")
_NAME = re.compile(r"^[a-z0-9_]+(/[a-z0-9_]+)*$")


def names() -> list[str]:
    """Every profile name, `iolink/x` style for profiles in sub-folders."""
    return sorted(p.relative_to(PROFILE_DIR).with_suffix("").as_posix()
                  for p in PROFILE_DIR.rglob("*.toml"))


@cache
def _read(name: str) -> dict[str, Any]:
    path = PROFILE_DIR / f"{name}.toml"
    if not _NAME.match(name) or not path.is_file():
        raise ValueError(f"a profile name in hardware/: one of {', '.join(names())}")
    with path.open("rb") as f:
        return tomllib.load(f)


def load(name: str) -> dict[str, Any]:
    """The parsed profile (a fresh copy); ValueError naming the known profiles if absent."""
    return copy.deepcopy(_read(name))


def check(name: str | None, kind: str) -> str | None:
    """A profile name that exists in hardware/ and is meant for `kind`."""
    fitting = [n for n in names() if kind in _read(n).get("kinds", [])]  # read-only: no copy
    if name is not None and name not in fitting:
        raise ValueError(f"a profile for kind {kind} in hardware/: one of {', '.join(fitting)}")
    return name


def apply(data: Any, section: str, kind: str, *keys: str) -> Any:
    """`data` over the `[section]` defaults of the first known profile that one of `keys`
    names (e.g. "profile", "chip"); keys the config sets itself win."""
    if not isinstance(data, dict):
        return data
    known = names()
    name = next((data[k] for k in keys if isinstance(data.get(k), str) and data[k] in known), None)
    if name is None or kind not in _read(name).get("kinds", [kind]):
        return data
    return {**load(name).get(section, {}), **data}
