"""Typed models of the TOML file, validated at load with pydantic.

Every problem is reported at once, each naming the file, the key path
(`devices[2].points[5].register`), what was found and what was expected; unknown keys are
errors with a "did you mean". Units are in the key names (`period_ms`, `max_mb`).
"""

from __future__ import annotations

import difflib
import tomllib
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails

from . import sources
from .errors import ConfigError
from .model import Point
from .points.config import TransformFields

DEFAULT_PATH = Path("/etc/gatewayd/gatewayd.toml")


class Model(BaseModel):
    """Base of every config table: unknown keys are errors, and values are not coerced: `"30071"`
    is not a number, `1.5` is not an integer, `inf` and `nan` are not numbers at all."""

    model_config = ConfigDict(extra="forbid", frozen=True, strict=True, allow_inf_nan=False)


# TOML has no path or tuple type: these few fields take a string or an array, strictly typed inside.
FilePath = Annotated[Path, Strict(False)]
FloatPair = Annotated[tuple[float, float], Strict(False)]


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
    password_file: FilePath | None = None
    ca_file: FilePath | None = None
    cert_file: FilePath | None = None
    key_file: FilePath | None = None
    keepalive_s: int = Field(default=30, ge=2, le=3600)
    inflight_window: int = Field(default=32, ge=1, le=1024)
    reconnect_min_s: float = Field(default=0.5, gt=0)
    reconnect_max_s: float = Field(default=30.0, gt=0)

    @model_validator(mode="after")
    def _cert_pair(self) -> BrokerConfig:
        if (self.cert_file is None) != (self.key_file is None):
            raise ValueError("cert_file and key_file go together: give both or neither")
        return self

    @model_validator(mode="after")
    def _tls_asked_for(self) -> BrokerConfig:
        """`mqtt://` never uses TLS: a CA or a client certificate with it would be ignored, and
        the password would go out in clear."""
        if self.url.startswith("mqtt://") and (self.ca_file or self.cert_file):
            raise ValueError("mqtts:// in url: ca_file and cert_file are for TLS, and mqtt:// "
                             "connects in plain text")
        return self

    @field_validator("url")
    @classmethod
    def _no_credentials(cls, url: str) -> str:
        """A password in the URL would be logged, shown by `status` and published; it goes in
        username and password_file instead. (The message does not repeat it.)"""
        if "@" in url.split("://", 1)[-1].split("/", 1)[0]:
            raise ValueError("no user or password in the url: use username and password_file")
        return url

    @property
    def safe_url(self) -> str:
        """The URL as it may be shown in logs, status and the socket."""
        return redact_url(self.url)


def redact_url(url: str) -> str:
    """`mqtts://user:secret@host` -> `mqtts://***@host`: for URLs that did not come through
    the config (command line, an old status file)."""
    scheme, sep, rest = url.partition("://")
    host, slash, path = rest.partition("/")
    if sep and "@" in host:
        host = "***@" + host.rsplit("@", 1)[1]
    return f"{scheme}{sep}{host}{slash}{path}"


class StoreConfig(Model):
    path: FilePath = Path("/var/lib/gatewayd/queue.db")
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


class SparkplugConfig(Model):
    """Sparkplug B output beside native msgpack (docs/sparkplug.md): a live view for Sparkplug
    hosts; native msgpack stays the durable channel."""

    enabled: bool = False
    url: str | None = Field(default=None, pattern=r"^mqtts?://",
                            description="the Sparkplug broker; default: [broker] url")
    group_id: str = Field(default="gatewayd", pattern=r"^[^/+#]{1,64}$")
    node_id: str | None = Field(default=None, pattern=r"^[^/+#]{1,64}$",
                                description="the edge node id; default: the gateway id")
    primary_host: str | None = Field(default=None, pattern=r"^[^/+#]{1,64}$",
                                     description="wait for this host's STATE online")


class Config(Model):
    gateway: GatewayConfig
    broker: BrokerConfig = BrokerConfig()
    store: StoreConfig = StoreConfig()
    publish: PublishConfig = PublishConfig()
    fleet: FleetConfig = FleetConfig()
    sparkplug: SparkplugConfig = SparkplugConfig()
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


KeyPath = tuple[str | int, ...]
MAX_FILE_BYTES = 4 * 1024 * 1024  # a config is a few KB; /dev/zero or a disk image is not one
MAX_DEPTH = 32  # the deepest real config nests about 5 levels


@dataclass(frozen=True)
class Problem:
    """One thing wrong, at a key path of the document (`("devices", 3, "points", 1)`)."""

    path: KeyPath
    message: str

    @property
    def where(self) -> str:
        out = ""
        for part in self.path:
            out += f"[{part}]" if isinstance(part, int) else ("." if out else "") + part
        return out or "(top level)"


def key_path(where: str) -> KeyPath:
    """`devices[3].points[1].register` -> ("devices", 3, "points", 1, "register")."""
    out: list[str | int] = []
    for part in where.replace("[", ".[").split("."):
        if part.startswith("[") and part.endswith("]") and part[1:-1].isdigit():
            out.append(int(part[1:-1]))
        elif part:
            out.append(part)
    return tuple(out)


def _clean_loc(loc: tuple[Any, ...], prefix: KeyPath = ()) -> KeyPath:
    """pydantic's error location as the keys the user wrote (no discriminator tags or
    validator names)."""
    out: list[str | int] = list(prefix)
    for part in loc:
        if isinstance(part, int):
            out.append(part)
        elif str(part) in sources.KINDS or "[" in str(part) or str(part).startswith("function-"):
            continue
        else:
            out.append(str(part))
    return tuple(out)


def _suggest(model: type[BaseModel] | None, key: str) -> str:
    if model is None:
        return ""
    keys = [f.alias or name for name, f in model.model_fields.items()]
    close = difflib.get_close_matches(key, keys, n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


def _describe(err: ErrorDetails, prefix: KeyPath, owner: type[BaseModel] | None) -> Problem:
    where = _clean_loc(err["loc"], prefix)
    found = err.get("input")
    if err["type"] == "extra_forbidden":
        key = str(err["loc"][-1])
        return Problem(where, f"unknown key{_suggest(owner, key)}")
    if err["type"] == "missing":
        return Problem(where, "missing, a value is required")
    expected = (err["msg"].removeprefix("Value error, ").removeprefix("Input should be ")
                .replace("String should match pattern", "text matching"))
    if isinstance(found, dict | list):  # a rule about a whole table: the table is not news
        return Problem(where, f"expected {expected}")
    if isinstance(found, str) and where[-1:] == ("url",):
        found = redact_url(found)  # a refused URL may carry a password: never repeat it
    shown = repr(found)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    hint = ""
    if isinstance(found, str) and err["type"] in ("int_type", "float_type", "bool_type"):
        hint = " (a number or true/false is written without quotes)"
    return Problem(where, f"found {shown}, expected {expected}{hint}")


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


def validate(data: dict[str, Any]) -> tuple[Config | None, list[Problem]]:
    """Validate a parsed TOML document: the config, or every problem found (never both)."""
    problems: list[Problem] = []
    try:
        cfg: Config | None = Config.model_validate(data)
    except ValidationError as e:
        problems += [_describe(err, (), _owner_of(err, None)) for err in e.errors()]
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
            problems.append(Problem(("devices", i, "kind"),
                                    f"found {got!r}, expected one of {kinds}{extra}"))
            continue
        try:
            devices.append(_device_adapter().validate_python(raw))
        except ValidationError as e:
            problems += [_describe(err, ("devices", i), _owner_of(err, raw)) for err in e.errors()]
    if len(devices) == len(raw_devices):  # indexes line up only when every device validated
        problems += _cross_checks(devices)
    if problems or cfg is None:
        return None, problems
    return cfg.model_copy(update={"devices": devices}), []


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
    out = []
    for p in problems:
        at = locate(positions, p.path)
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
