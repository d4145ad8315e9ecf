"""Registry of source kinds: the kind's name is the folder, the registry key and `kind = "..."`.

Each kind is a package `gatewayd.sources.<kind>` whose `__init__.py` holds its manifest,
`PLUGIN = Plugin(...)` (sources/plugin.py): its config model, builder, check warnings, probe,
sample and README. The manifest names its parts lazily, so a gateway without numpy or gpiozero
still runs its Modbus devices, and `kind` never needs an `if` anywhere else.
"""

from __future__ import annotations

import importlib
from types import ModuleType

from .plugin import Plugin

KINDS: tuple[str, ...] = (
    "modbus",
    "iolink",
    "serial",
    "gpio",
    "i2c",
    "vibration",
    "analog",
    "s7",
    "enip",
    "opcua",
)


def plugin(kind: str) -> Plugin:
    """The manifest of a kind (KeyError for an unknown one)."""
    if kind not in KINDS:
        raise KeyError(kind)
    got = importlib.import_module(f"gatewayd.sources.{kind}").PLUGIN
    assert isinstance(got, Plugin) and got.kind == kind, f"sources/{kind}: PLUGIN"
    return got


def plugins() -> list[Plugin]:
    return [plugin(k) for k in KINDS]


def config_module(kind: str) -> ModuleType:
    """(Kept for callers not yet moved to `plugin(kind).config_model()`.)"""
    return importlib.import_module(f"gatewayd.sources.{kind}.config")


def source_module(kind: str) -> ModuleType:
    """(Kept for callers not yet moved to `plugin(kind).builder()`.)"""
    return importlib.import_module(f"gatewayd.sources.{kind}.source")
