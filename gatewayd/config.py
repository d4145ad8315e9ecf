"""Typed tables of the TOML file (gatewayd.validation), and loading it.

Every problem is reported at once, each naming the file, the key path
(`devices[2].points[5].register`), what was found and what was expected; unknown keys are
errors with a "did you mean". Units are in the key names (`period_ms`, `max_mb`).
"""

from __future__ import annotations

import difflib
import math
import tomllib
from pathlib import Path
from typing import Any, Literal

from . import sources
from .errors import ConfigError
from .model import Point
from .points.config import TransformFields
from .validation import Annotated, Invalid, Meta, Model, Problem, convert, field, redact_url

__all__ = ["Model", "Problem", "redact_url"]  # the tables below, and these for their users

DEFAULT_PATH = Path("/etc/gatewayd/gatewayd.toml")
STORE_PATH = Path("/var/lib/gatewayd/queue.db")

# TOML has no path or tuple type: a path is written as text, a pair as an array.
FilePath = Path
FloatPair = tuple[float, float]


class PointConfig(TransformFields):
    """Fields every point has, whatever its source, and the point stage's transform keys
    (points/config.py). Sources extend this."""

    alias: Annotated[int, Meta(ge=1, le=65535, description="stable small integer id on the wire")]
    name: Annotated[str, Meta(min_length=1, max_length=120, pattern=r"^[A-Za-z0-9_.\-/]+$")]
    unit: str = ""
    type: Literal["float", "int", "bool", "string"] = "float"
    resolution: Annotated[float, Meta(gt=0, description="quantisation step on the wire; "
                                                        "unset: sent exactly")] | None = None

    def point(self, device: str, **meta: Any) -> Point:
        res = self.resolution if self.type == "float" else None
        return Point(self.alias, self.name, self.unit, self.type, res, device, meta)


class DeviceConfig(Model):
    """Fields every `[[devices]]` entry has. Each kind subclasses it with `kind: Literal[...]`."""

    name: Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")]
    period_ms: Annotated[int, Meta(ge=1, le=86_400_000)] = 1000
    enabled: bool = True

    def point_configs(self) -> list[PointConfig]:
        return list(getattr(self, "points", []))


class GatewayConfig(Model):
    id: Annotated[str, Meta(pattern=r"^[A-Za-z0-9_.\-]{1,64}$")]
    site: Annotated[str, Meta(pattern=r"^[A-Za-z0-9_.\-]{1,64}$")] = "default"
    topic_prefix: Annotated[str, Meta(pattern=r"^[A-Za-z0-9_.\-/]{1,64}$")] = "gatewayd"


class BrokerConfig(Model):
    url: Annotated[str, Meta(pattern=r"^mqtts?://")] = "mqtt://127.0.0.1:1883"
    client_id: str = ""
    protocol: Literal["3.1.1", "5"] = "5"
    username: str = ""
    password: str = ""
    password_file: FilePath | None = None
    ca_file: FilePath | None = None
    cert_file: FilePath | None = None
    key_file: FilePath | None = None
    keepalive_s: Annotated[int, Meta(ge=2, le=3600)] = 30
    inflight_window: Annotated[int, Meta(ge=1, le=1024)] = 32
    reconnect_min_s: Annotated[float, Meta(gt=0)] = 0.5
    reconnect_max_s: Annotated[float, Meta(gt=0)] = 30.0

    def check(self) -> None:
        # A password in the URL would be logged, shown by `status` and published; it goes in
        # username and password_file instead. (The message does not repeat it.)
        if "@" in self.url.split("://", 1)[-1].split("/", 1)[0]:
            raise Invalid("url", "no user or password in the url: use username and "
                                 "password_file")
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("cert_file and key_file go together: give both or neither")
        # `mqtt://` never uses TLS: a CA or a client certificate with it would be ignored, and
        # the password would go out in clear.
        if self.url.startswith("mqtt://") and (self.ca_file or self.cert_file):
            raise ValueError("mqtts:// in url: ca_file and cert_file are for TLS, and mqtt:// "
                             "connects in plain text")

    @property
    def safe_url(self) -> str:
        """The URL as it may be shown in logs, status and the socket."""
        return redact_url(self.url)


class StoreConfig(Model):
    # (a factory: the schema writer cannot encode a Path default, so it is shown as text)
    path: Annotated[FilePath, Meta(extra_json_schema={"default": str(STORE_PATH)})] = field(
        default_factory=lambda: STORE_PATH)
    max_mb: Annotated[float, Meta(gt=0, description="bound on the queue's bytes on disk")] = 2048
    commit_interval_ms: Annotated[int, Meta(ge=0, le=60_000)] = 1000
    when_full: Literal["drop_oldest", "drop_newest", "pause_sources"] = "drop_oldest"
    memory_buffer_mb: Annotated[float, Meta(gt=0, description="used while the disk is "
                                                              "failing")] = 8
    backlog_rate_per_s: Annotated[float, Meta(
        ge=0, description="batches a second drained from the backlog; 0 = no limit")] = 0


class PublishConfig(Model):
    interval_ms: Annotated[int, Meta(
        ge=10, le=600_000,
        description="how often readings are batched and sent (each is journaled at once)")] = 100
    max_readings_per_batch: Annotated[int, Meta(ge=1)] = 50_000
    max_message_bytes: Annotated[int, Meta(
        ge=1024, le=256 << 20,
        description="no message is built larger (batches are split); the broker's Maximum "
                    "Packet Size lowers it further")] = 128 * 1024


class FleetConfig(Model):
    """Where the gateway finds the public keys of each signing role (docs/fleet.md)."""

    release_keys: Annotated[FilePath, Meta(
        description="directory of *.pub release keys (manifests); default keys/release "
                    "beside the config")] | None = None
    command_keys: Annotated[FilePath, Meta(
        description="directory of *.pub command keys (cmd/<verb>); default keys/command "
                    "beside the config")] | None = None


_NAME = r"^[^/+#]{1,64}$"


class SparkplugConfig(Model):
    """Sparkplug B output beside native msgpack (docs/sparkplug.md): a live view for Sparkplug
    hosts; native msgpack stays the durable channel."""

    enabled: bool = False
    url: Annotated[str, Meta(pattern=r"^mqtts?://",
                             description="the Sparkplug broker; default: [broker] url")] | None = None
    group_id: Annotated[str, Meta(pattern=_NAME)] = "gatewayd"
    node_id: Annotated[str, Meta(pattern=_NAME,
                                 description="the edge node id; default: the gateway id")] | None = None
    primary_host: Annotated[str, Meta(pattern=_NAME,
                                      description="wait for this host's STATE online")] | None = None


class Config(Model):
    gateway: GatewayConfig
    broker: BrokerConfig = field(default_factory=BrokerConfig)
    store: StoreConfig = field(default_factory=StoreConfig)
    publish: PublishConfig = field(default_factory=PublishConfig)
    fleet: FleetConfig = field(default_factory=FleetConfig)
    sparkplug: SparkplugConfig = field(default_factory=SparkplugConfig)
    # each validated against its own kind's table in `validate`, so an error keeps its path
    devices: list[Any] = field(default_factory=list)

    def points(self) -> list[Point]:
        out: list[Point] = []
        for dev in self.devices:
            if dev.enabled:
                out.extend(p.point(dev.name) for p in dev.point_configs())
        return out


KeyPath = tuple[str | int, ...]
MAX_FILE_BYTES = 4 * 1024 * 1024  # a config is a few KB; /dev/zero or a disk image is not one
MAX_DEPTH = 32  # the deepest real config nests about 5 levels


def key_path(where: str) -> KeyPath:
    """`devices[3].points[1].register` -> ("devices", 3, "points", 1, "register")."""
    out: list[str | int] = []
    for part in where.replace("[", ".[").split("."):
        if part.startswith("[") and part.endswith("]") and part[1:-1].isdigit():
            out.append(int(part[1:-1]))
        elif part:
            out.append(part)
    return tuple(out)


def validate(data: dict[str, Any]) -> tuple[Config | None, list[Problem]]:
    """Validate a parsed TOML document: the config, or every problem found (never both)."""
    problems = _not_finite(data)
    raw = {k: v for k, v in data.items() if k != "devices"}
    cfg, found = convert(Config, raw)
    problems += found
    devices: list[Any] = []
    raw_devices = data.get("devices", [])
    if not isinstance(raw_devices, list):
        problems.append(Problem(("devices",), "expected an array of tables ([[devices]])"))
        raw_devices = []
    for i, raw_dev in enumerate(raw_devices):
        kind = raw_dev.get("kind") if isinstance(raw_dev, dict) else None
        if kind not in sources.KINDS:
            problems.append(_unknown_kind(raw_dev, i))
            continue
        dev, found = convert(sources.plugin(kind).config_model(), raw_dev, ("devices", i))
        problems += found
        if dev is not None:
            devices.append(dev)
    if len(devices) == len(raw_devices):  # indexes line up only when every device validated
        problems += _cross_checks(devices)
    if problems or cfg is None:
        return None, _first_per_key(problems)
    return cfg.replace(devices=devices), []


def _first_per_key(problems: list[Problem]) -> list[Problem]:
    """One problem a key: `inf` where at most 100 is allowed is one mistake, not two."""
    seen: set[tuple[str | int, ...]] = set()
    out = []
    for p in problems:
        if p.path not in seen:
            seen.add(p.path)
            out.append(p)
    return out


def _unknown_kind(raw: Any, i: int) -> Problem:
    if not isinstance(raw, dict):
        return Problem(("devices", i), "expected a table")
    got = raw.get("kind")
    if got is None:
        return Problem(("devices", i, "kind"), "missing, a value is required")
    hint = difflib.get_close_matches(str(got), sources.KINDS, n=1)
    extra = f" (did you mean '{hint[0]}'?)" if hint else ""
    return Problem(("devices", i, "kind"),
                   f"found {got!r}, expected one of {', '.join(sources.KINDS)}{extra}")


def _not_finite(data: Any) -> list[Problem]:
    """TOML can write inf and nan; no key of a config takes them."""
    out: list[Problem] = []
    stack: list[tuple[Any, KeyPath]] = [(data, ())]
    while stack:
        node, path = stack.pop()
        if isinstance(node, dict):
            stack.extend((v, (*path, k)) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((v, (*path, i)) for i, v in enumerate(node))
        elif isinstance(node, float) and not math.isfinite(node):
            out.append(Problem(path, f"found {node!r}, expected a finite number"))
    return sorted(out, key=lambda p: str(p.path))


def parse(data: dict[str, Any], path: str = "<config>", text: str | None = None) -> Config:
    """Validate a parsed TOML document; raise ConfigError listing every problem, each with the
    device it belongs to and, when the document's text is given, its line and column."""
    cfg, problems = validate(data)
    if problems or cfg is None:
        raise ConfigError(format_problems(problems, path, data, text), path)
    return cfg


def format_problems(problems: list[Problem], file: str, data: dict[str, Any],
                    text: str | None) -> list[str]:
    """`FILE: line 14, column 3: device 'meter': devices[1].points[3].register: found ...`"""
    from .toml_positions import key_positions, locate

    positions = key_positions(text) if text is not None else {}
    located = [(locate(positions, p.path), p) for p in problems]
    # in the order of the file, so an installer reads them top to bottom
    located.sort(key=lambda ap: ap[0] or (1 << 30, 0))
    out = []
    for at, p in located:
        where = f"line {at[0]}, column {at[1]}: " if at else ""
        name = device_name(data, p.path)
        device = f"device {name}: " if name else ""
        out.append(f"{file}: {where}{device}{p.where}: {p.message}")
    return out


def device_name(data: dict[str, Any], path: KeyPath) -> str | None:
    """The name the user gave the device a key path is in, if it has one."""
    if len(path) < 2 or path[0] != "devices" or not isinstance(path[1], int):
        return None
    raw = data.get("devices")
    if not isinstance(raw, list) or not 0 <= path[1] < len(raw) or not isinstance(raw[path[1]], dict):
        return None
    name = raw[path[1]].get("name")
    return name if isinstance(name, str) and name else None


def _cross_checks(devices: list[Any]) -> list[Problem]:
    """Rules that span devices: aliases and names are unique across the whole gateway, and no
    GPIO pin is claimed twice (the second claim would fail at start, dropping its device)."""
    problems = []
    seen_alias: dict[int, str] = {}
    seen_name: dict[str, str] = {}
    dev_names: set[str] = set()
    for i, dev in enumerate(devices):
        if dev.name in dev_names:
            problems.append(Problem(("devices", i, "name"),
                                    f"found {dev.name!r}, expected a unique device name"))
        dev_names.add(dev.name)
        for j, p in enumerate(dev.point_configs()):
            where = ("devices", i, "points", j)
            if p.alias in seen_alias:
                problems.append(Problem((*where, "alias"), f"found {p.alias}, expected an alias "
                                        f"not already used by {seen_alias[p.alias]}"))
            if p.name in seen_name:
                problems.append(Problem((*where, "name"), f"found {p.name!r}, expected a name "
                                        f"not already used by {seen_name[p.name]}"))
            seen_alias.setdefault(p.alias, Problem(where, "").where)
            seen_name.setdefault(p.name, Problem(where, "").where)
    return problems + _pin_clashes(devices)


def pin_key(pin: int | str) -> str:
    """One spelling per BCM pin: 17, "17", "GPIO17" and "BCM17" are one pin."""
    text = str(pin).strip().upper()
    for prefix in ("GPIO", "BCM"):
        text = text.removeprefix(prefix)
    return text


def _pin_clashes(devices: list[Any]) -> list[Problem]:
    problems = []
    seen: dict[str, str] = {}
    for i, dev in enumerate(devices):
        if not dev.enabled:
            continue
        for path, pin in _pins_of(dev):
            key, full = pin_key(pin), ("devices", i, *path)
            here = f"device {dev.name} " + Problem(path, "").where
            if key in seen:
                problems.append(Problem(full, f"pin {pin} is already used by {seen[key]}"))
            seen.setdefault(key, here)
    return problems


def _pins_of(dev: Any) -> list[tuple[KeyPath, int | str]]:
    """The GPIO pins a device claims, with the key path of each."""
    out: list[tuple[KeyPath, int | str]] = [
        (("inputs", j, "pin"), inp.pin) for j, inp in enumerate(getattr(dev, "inputs", []) or [])
        if hasattr(inp, "pin")]
    tacho = getattr(dev, "tacho", None)
    if tacho is not None and getattr(tacho, "pin", None) is not None:
        out.append((("tacho", "pin"), tacho.pin))
    return out


def read_text(path: Path) -> str:
    """The file's text, bounded in size (`check /dev/zero` ends), or ConfigError saying why
    it cannot be a config file."""
    try:
        with path.open("rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)
    except OSError as e:
        raise ConfigError([f"{path}: cannot read: {e.strerror}"], str(path)) from None
    if len(raw) > MAX_FILE_BYTES:
        raise ConfigError([f"{path}: larger than {MAX_FILE_BYTES // 1024 // 1024} MiB, "
                           "not a config file"], str(path))
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as e:
        line = raw[:e.start].count(b"\n") + 1
        raise ConfigError([f"{path}: line {line}: not UTF-8 text (byte 0x{raw[e.start]:02x}); "
                           "save the file as UTF-8"], str(path)) from None


def nesting_depth(data: Any) -> int:
    """How deeply tables and arrays nest, counted without recursion."""
    deepest, stack = 0, [(data, 0)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        if depth > MAX_DEPTH:
            break
        if isinstance(node, dict):
            stack.extend((v, depth + 1) for v in node.values())
        elif isinstance(node, list):
            stack.extend((v, depth + 1) for v in node)
    return deepest


def read_document(path: str | Path) -> tuple[str, dict[str, Any]]:
    """A TOML file's text and parsed document; ConfigError for anything that is not one."""
    p = Path(path)
    text = read_text(p)
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError([f"{p}: not valid TOML: {e}"], str(p)) from None
    except RecursionError:
        raise ConfigError([f"{p}: arrays or tables nested too deeply"], str(p)) from None
    if nesting_depth(data) > MAX_DEPTH:
        raise ConfigError([f"{p}: arrays or tables nested more than {MAX_DEPTH} deep"], str(p))
    return text, data


def load(path: str | Path) -> Config:
    """Read and validate a TOML file; raise ConfigError naming the file. No input, however
    strange, gets further than a ConfigError."""
    text, data = read_document(path)
    return parse(data, str(path), text)
