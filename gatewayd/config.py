"""Typed models of the TOML file, validated at load with pydantic.

Every problem is reported at once, each naming the file, the key path
(`devices[2].points[5].register`), what was found and what was expected; unknown keys are
errors with a "did you mean". Units are in the key names (`period_ms`, `max_mb`).
"""

from __future__ import annotations

import difflib
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    model_validator,
)
from pydantic_core import ErrorDetails

from . import sources
from .errors import ConfigError
from .model import Point
from .points.config import TransformFields

DEFAULT_PATH = Path("/etc/gatewayd/gatewayd.toml")


class Model(BaseModel):
    """Base of every config table: unknown keys are errors, values are not coerced loosely."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class PointConfig(Model, TransformFields):
    """Fields every point has, whatever its source, and the point stage's transform keys
    (points/config.py). Sources extend this."""

    alias: int = Field(ge=1, le=65535, description="stable small integer id on the wire")
    name: str = Field(min_length=1, max_length=120, pattern=r"^[A-Za-z0-9_.\-/]+$")
    unit: str = ""
    type: Literal["float", "int", "bool", "string"] = "float"
    resolution: float | None = Field(
        default=None, gt=0, description="quantisation step on the wire; unset: sent exactly")

    def point(self, device: str, **meta: Any) -> Point:
        res = self.resolution if self.type == "float" else None
        return Point(self.alias, self.name, self.unit, self.type, res, device, meta)


class DeviceConfig(Model):
    """Fields every `[[devices]]` entry has. Each kind subclasses it with `kind: Literal[...]`."""

    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")
    period_ms: int = Field(default=1000, ge=1, le=86_400_000)
    enabled: bool = True

    def point_configs(self) -> list[PointConfig]:
        return list(getattr(self, "points", []))


class GatewayConfig(Model):
    id: str = Field(pattern=r"^[A-Za-z0-9_.\-]{1,64}$")
    site: str = Field(default="default", pattern=r"^[A-Za-z0-9_.\-]{1,64}$")
    topic_prefix: str = Field(default="gatewayd", pattern=r"^[A-Za-z0-9_.\-/]{1,64}$")


class BrokerConfig(Model):
    url: str = Field(default="mqtt://127.0.0.1:1883", pattern=r"^mqtts?://")
    client_id: str = ""
    protocol: Literal["3.1.1", "5"] = "5"
    username: str = ""
    password: str = ""
    password_file: Path | None = None
    ca_file: Path | None = None
    cert_file: Path | None = None
    key_file: Path | None = None
    keepalive_s: int = Field(default=30, ge=2, le=3600)
    inflight_window: int = Field(default=32, ge=1, le=1024)
    reconnect_min_s: float = Field(default=0.5, gt=0)
    reconnect_max_s: float = Field(default=30.0, gt=0)

    @model_validator(mode="after")
    def _cert_pair(self) -> BrokerConfig:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("cert_file and key_file go together: give both or neither")
        return self


class StoreConfig(Model):
    path: Path = Path("/var/lib/gatewayd/queue.db")
    max_mb: float = Field(default=2048, gt=0, description="bound on the queue's bytes on disk")
    commit_interval_ms: int = Field(default=1000, ge=0, le=60_000)
    when_full: Literal["drop_oldest", "drop_newest", "pause_sources"] = "drop_oldest"
    memory_buffer_mb: float = Field(default=8, gt=0, description="used while the disk is failing")
    backlog_rate_per_s: float = Field(
        default=0, ge=0, description="batches a second drained from the backlog; 0 = no limit"
    )


class PublishConfig(Model):
    interval_ms: int = Field(
        default=100, ge=10, le=600_000,
        description="how often readings are batched and sent (each is journaled at once)")
    max_readings_per_batch: int = Field(default=50_000, ge=1)
    max_message_bytes: int = Field(
        default=128 * 1024, ge=1024, le=256 << 20,
        description="no message is built larger (batches are split); the broker's Maximum "
                    "Packet Size lowers it further")


class FleetConfig(Model):
    """Where the gateway finds the public keys of each signing role (docs/fleet.md)."""

    release_keys: Path | None = Field(
        default=None, description="directory of *.pub release keys (manifests); "
        "default keys/release beside the config")
    command_keys: Path | None = Field(
        default=None, description="directory of *.pub command keys (cmd/<verb>); "
        "default keys/command beside the config")


def _device_union() -> Any:
    models = [sources.plugin(k).config_model() for k in sources.KINDS]
    if len(models) == 1:
        return models[0]
    from typing import Union

    return Annotated[Union[tuple(models)], Field(discriminator="kind")]  # noqa: UP007


class Config(Model):
    gateway: GatewayConfig
    broker: BrokerConfig = BrokerConfig()
    store: StoreConfig = StoreConfig()
    publish: PublishConfig = PublishConfig()
    fleet: FleetConfig = FleetConfig()
    # validated per kind in `parse`, so each error keeps its precise path
    devices: list[Any] = Field(default_factory=list)

    def points(self) -> list[Point]:
        out: list[Point] = []
        for dev in self.devices:
            if dev.enabled:
                out.extend(p.point(dev.name) for p in dev.point_configs())
        return out


_DEVICE = None


def _device_adapter() -> TypeAdapter[Any]:
    global _DEVICE
    if _DEVICE is None:
        _DEVICE = TypeAdapter(_device_union())
    return _DEVICE


def _loc(loc: tuple[Any, ...], prefix: str = "") -> str:
    out = prefix
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif str(part) in sources.KINDS or "[" in str(part) or str(part).startswith("function-"):
            continue  # discriminator tags and validator names are not keys the user wrote
        else:
            out += ("." if out else "") + str(part)
    return out or "(top level)"


def _suggest(model: type[BaseModel] | None, key: str) -> str:
    if model is None:
        return ""
    keys = [f.alias or name for name, f in model.model_fields.items()]
    close = difflib.get_close_matches(key, keys, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _describe(err: ErrorDetails, prefix: str, owner: type[BaseModel] | None) -> str:
    where = _loc(err["loc"], prefix)
    found = err.get("input")
    if err["type"] == "extra_forbidden":
        key = str(err["loc"][-1])
        return f"{where}: unknown key{_suggest(owner, key)}"
    if err["type"] == "missing":
        return f"{where}: missing, a value is required"
    expected = (err["msg"].removeprefix("Value error, ").removeprefix("Input should be ")
                .replace("String should match pattern", "text matching"))
    if isinstance(found, dict | list):  # a rule about a whole table: the table is not news
        return f"{where}: expected {expected}"
    shown = repr(found)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return f"{where}: found {shown}, expected {expected}"


def _owner_of(err: ErrorDetails, device: dict[str, Any] | None) -> type[BaseModel] | None:
    """The model whose key set an unknown key should be compared with (for did-you-mean)."""
    loc = [p for p in err["loc"] if not (isinstance(p, str) and p in sources.KINDS)]
    model: type[BaseModel] | None = Config
    if device is not None:
        kind = device.get("kind")
        model = sources.plugin(kind).config_model() if kind in sources.KINDS else None
    for part in loc[:-1]:
        if model is None:
            return None
        if isinstance(part, int):
            continue
        field = model.model_fields.get(str(part))
        ann = field.annotation if field is not None else None
        candidates = (ann, *getattr(ann, "__args__", ()))
        model = next((a for a in candidates if isinstance(a, type) and issubclass(a, BaseModel)),
                     None)
    return model


def parse(data: dict[str, Any], path: str = "<config>") -> Config:
    """Validate a parsed TOML document; raise ConfigError listing every problem."""
    problems: list[str] = []
    try:
        cfg = Config.model_validate(data)
    except ValidationError as e:
        problems += [_describe(err, "", _owner_of(err, None)) for err in e.errors()]
        cfg = None
    devices: list[Any] = []
    raw_devices = data.get("devices", [])
    if not isinstance(raw_devices, list):
        raw_devices = []
    for i, raw in enumerate(raw_devices):
        if isinstance(raw, dict) and raw.get("kind") not in sources.KINDS:
            kinds = ", ".join(sources.KINDS)
            got = raw.get("kind")
            hint = difflib.get_close_matches(str(got), sources.KINDS, n=1)
            extra = f" (did you mean '{hint[0]}'?)" if hint else ""
            problems.append(f"devices[{i}].kind: found {got!r}, expected one of {kinds}{extra}")
            continue
        try:
            devices.append(_device_adapter().validate_python(raw))
        except ValidationError as e:
            problems += [_describe(err, f"devices[{i}]", _owner_of(err, raw)) for err in e.errors()]
    problems += _cross_checks(devices)
    if problems or cfg is None:
        raise ConfigError([f"{path}: {p}" for p in problems], path)
    return cfg.model_copy(update={"devices": devices})


def _cross_checks(devices: list[Any]) -> list[str]:
    """Rules that span devices: aliases and names are unique across the whole gateway."""
    problems = []
    seen_alias: dict[int, str] = {}
    seen_name: dict[str, str] = {}
    dev_names: set[str] = set()
    for i, dev in enumerate(devices):
        if dev.name in dev_names:
            problems.append(f"devices[{i}].name: found {dev.name!r}, expected a unique device name")
        dev_names.add(dev.name)
        for j, p in enumerate(dev.point_configs()):
            where = f"devices[{i}].points[{j}]"
            if p.alias in seen_alias:
                problems.append(
                    f"{where}.alias: found {p.alias}, expected an alias not already used by "
                    f"{seen_alias[p.alias]}"
                )
            if p.name in seen_name:
                problems.append(
                    f"{where}.name: found {p.name!r}, expected a name not already used by "
                    f"{seen_name[p.name]}"
                )
            seen_alias.setdefault(p.alias, where)
            seen_name.setdefault(p.name, where)
    return problems


def load(path: str | Path) -> Config:
    """Read and validate a TOML file; raise ConfigError naming the file."""
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise ConfigError([f"{p}: cannot read: {e.strerror}"], str(p)) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError([f"{p}: not valid TOML: {e}"], str(p)) from None
    return parse(data, str(p))
