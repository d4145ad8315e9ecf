"""The manifest of a kind: what the rest of gatewayd may ask of it, and nothing else.

Each `sources/<kind>/__init__.py` holds `PLUGIN = Plugin(...)`; importing it is cheap (no
hardware library, no numpy), because the manifest names its parts as "module:attribute"
strings that are imported only when asked for. The registry (`sources/__init__.py`) maps the
kind's name to it. The supervisor asks a plugin to build, the config loader and the schema for
its model, `check` for its warnings and the resources its devices use, `probe` for its
subcommand, the tests for its sample and README: none of them branch on a kind's name.

Every kind's folder has the same file set (FILES) and its README the same headings (HEADINGS).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, NamedTuple

FILES = ("__init__.py", "config.py", "source.py", "checks.py", "sample.toml", "README.md")
HEADINGS = ("## Wiring", "## Config", "## Faults", "## Probe")


def load(ref: str) -> Any:
    """The object a "package.module:attribute" string names, imported now."""
    module, _, attr = ref.partition(":")
    return getattr(importlib.import_module(module), attr)


class RegisterSpan(NamedTuple):
    """Modbus registers one point reads: for overlap warnings across devices and kinds."""

    bus: str
    unit: int
    table: str
    first: int
    end: int
    point: int  # index in the device's points
    bit: int | None = None


class LineUse(NamedTuple):
    """A device on a shared serial line: its port, protocol stack, framing and the least wire
    time one of its polls takes (0 when unknown)."""

    port: str
    stack: str
    framing: tuple[Any, ...]
    poll_s: float = 0.0


class PinUse(NamedTuple):
    """A GPIO pin a device claims: where in the config, the pin, the input's name and pull."""

    where: str  # relative to the device: "inputs[2].pin"
    pin: int | str
    name: str
    pull: str


@dataclass(frozen=True)
class Checks:
    """What `gatewayd check` asks of a kind. `warnings` yields the kind's own lint messages for
    one device (key paths relative to `devices[i]`); the others state what the device uses, so
    the toolkit finds collisions across kinds without knowing any kind."""

    warnings: Callable[[Any], Iterator[str]] = lambda dev: iter(())
    registers: Callable[[Any], Iterator[RegisterSpan]] = lambda dev: iter(())
    i2c_address: Callable[[Any], tuple[str, int] | None] = lambda dev: None
    line: Callable[[Any], LineUse | None] = lambda dev: None
    pins: Callable[[Any], Iterator[PinUse]] = lambda dev: iter(())
    files: Callable[[Any], Iterator[tuple[str, Path]]] = lambda dev: iter(())  # (key, path) it reads


@dataclass(frozen=True)
class Probe:
    """`gatewayd probe <kind>`: its help line, a function adding its arguments to a parser,
    and the command, `run(args) -> exit code` (both as "module:attribute")."""

    help: str
    arguments: str
    run: str


@dataclass(frozen=True)
class Plugin:
    kind: str
    summary: str
    config: str  # "module:Config", the table of one device (gatewayd.validation)
    build: str  # "module:build", build(cfg, ctx) -> device
    checks: str  # "module:CHECKS", a Checks
    probe: Probe | None = None
    profile_keys: tuple[str, ...] = ("profile",)  # device keys that name a hardware profile
    tail: Literal["points", "device"] = "points"  # `gatewayd tail`: a line a point, or a device
    extras: dict[str, str] = field(default_factory=dict)

    @property
    def folder(self) -> Path:
        return Path(__file__).resolve().parent / self.kind

    @property
    def sample(self) -> Path:
        return self.folder / "sample.toml"

    @property
    def readme(self) -> Path:
        return self.folder / "README.md"

    def config_model(self) -> Any:
        return load(self.config)

    def builder(self) -> Callable[[Any, Any], Any]:
        return load(self.build)  # type: ignore[no-any-return]

    def check(self) -> Checks:
        got = load(self.checks)
        assert isinstance(got, Checks), f"{self.checks} is not a Checks"
        return got
