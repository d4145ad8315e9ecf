"""Registry of source kinds: the kind's name is the folder, the registry key and `kind = "..."`.

Each entry names a package `gatewayd.sources.<kind>` holding:
  config.py   pydantic models, pure (no hardware imports): `Config` is the device model
  source.py   `build(cfg, ctx) -> device` (PolledDevice or EventDevice)
  sample.toml an example, validated by the tests and embedded in README.md
  README.md
Imports are lazy so a gateway without numpy or gpiozero still runs its Modbus devices.
"""

from __future__ import annotations

import importlib
from types import ModuleType

KINDS: tuple[str, ...] = (
    "modbus",
    "iolink",
    "serial",
    "gpio",
    "i2c",
    "vibration",
    "analog",
    "s7",
)


def config_module(kind: str) -> ModuleType:
    return importlib.import_module(f"gatewayd.sources.{kind}.config")


def source_module(kind: str) -> ModuleType:
    return importlib.import_module(f"gatewayd.sources.{kind}.source")
