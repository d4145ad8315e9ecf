"""`gatewayd schema`: a JSON Schema of the whole config, every device kind included.

Built from the same tables the loader validates with, so it cannot drift. Editors
that read JSON Schema for TOML (Taplo / "Even Better TOML": a `#:schema gatewayd.schema.json`
line at the top of the file) then complete keys and flag mistakes as the installer types.
Keys that a hardware profile can supply are not required in the schema, since a config naming
the profile may leave them out.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec

from .. import config, profiles, sources
from ..points.config import OLD_POINT_KEYS

SCHEMA_ID = "https://gatewayd.invalid/schema/gatewayd.schema.json"


def config_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of a gatewayd TOML file."""
    kinds = list(sources.KINDS)
    models = [sources.plugin(k).config_model() for k in kinds]
    (top, *devices), defs = msgspec.json.schema_components(
        [config.Config, *models], schema_hook=_text_types, ref_template="#/$defs/{name}")
    renames = {_name(ref): _def_name(k) for k, ref in zip(kinds, devices, strict=True)}
    defs = _rename_defs(defs, renames)
    schema = dict(defs.pop(_name(top)))
    for kind in kinds:
        _relax_profile_keys(defs, kind)
    for model in defs.values():
        _old_names(model)
        for key in [k for k in model.get("properties", {}) if k.startswith("_")]:
            del model["properties"][key]  # hidden keys (validation.GIVEN) are never written
    schema["properties"]["devices"] = {"type": "array", "items": _select_by_kind()}
    out = {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        **schema,
        "$defs": defs,
        "title": "gatewayd config",
    }
    return msgspec.json.decode(msgspec.json.encode(out))  # type: ignore[no-any-return]  # tuples as arrays


def _text_types(tp: Any) -> dict[str, Any]:
    """A path is written as text in the TOML."""
    if tp is Path:
        return {"type": "string"}
    raise NotImplementedError


def _name(ref: dict[str, Any]) -> str:
    return str(ref["$ref"]).rpartition("/")[2]


def _def_name(kind: str) -> str:
    return f"{kind}_device"


def _rename_defs(schema: dict[str, Any], renames: dict[str, str]) -> dict[str, Any]:
    """Each kind's table is called `Config` in its own module: `modbus_device` in the schema."""

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {renames.get(k, k): walk(v) for k, v in node.items()}
        if isinstance(node, list):
            return [walk(v) for v in node]
        return (
            _ref(node, renames) if isinstance(node, str) and node.startswith("#/$defs/") else node
        )

    return walk(schema)  # type: ignore[no-any-return]


def _ref(value: str, renames: dict[str, str]) -> str:
    head, _, name = value.rpartition("/")
    return f"{head}/{renames.get(name, name)}"


def _select_by_kind() -> dict[str, Any]:
    """`kind` picks the device's definition with if/then rather than oneOf: validators and
    editors then report the mistake inside the chosen kind, not "valid under none of 7"."""
    kinds = list(sources.KINDS)
    return {
        "type": "object",
        "required": ["kind"],
        "properties": {"kind": {"enum": kinds, "description": "the source kind"}},
        "allOf": [
            {
                "if": {"properties": {"kind": {"const": k}}, "required": ["kind"]},
                "then": {"$ref": f"#/$defs/{_def_name(k)}"},
            }
            for k in kinds
        ],
    }


def _profile_keys(kind: str) -> tuple[set[str], set[str], dict[str, Any]]:
    """Device keys, point keys and named registers the profiles of `kind` can supply."""
    device: set[str] = set()
    point: set[str] = set()
    registers: dict[str, Any] = {}
    for name in profiles.names():
        prof = profiles.load(name)
        if kind in prof.get("kinds", []):
            device |= set(prof.get("device", {}))
            point |= set(prof.get("point", {}))
            registers.update(prof.get("registers", {}))
            point |= {k for reg in prof.get("registers", {}).values() for k in reg}
    device |= set(sources.plugin(kind).profile_keys)  # e.g. i2c's `chip = "bme280"`
    return device, point, registers


def _relax_profile_keys(defs: dict[str, Any], kind: str) -> None:
    device_keys, point_keys, registers = _profile_keys(kind)
    dev = defs[_def_name(kind)]
    _unrequire(dev, device_keys)
    ref = dev["properties"].get("points", {}).get("items", {}).get("$ref", "")
    point = defs.get(ref.rpartition("/")[2])
    if point is None:
        return
    _unrequire(point, point_keys)
    if registers:
        point["properties"]["use"] = {
            "type": "string",
            "enum": sorted(registers),
            "description": "a register of the device's profile",
        }


def _unrequire(model: dict[str, Any], keys: set[str]) -> None:
    required = [k for k in model.get("required", []) if k not in keys]
    if required:
        model["required"] = required
    else:
        model.pop("required", None)


def _old_names(model: dict[str, Any]) -> None:
    """A point's keys under their old names still load: the schema accepts them as deprecated."""
    props = model.get("properties", {})
    if "alias" not in props:
        return
    for old, (new, note) in OLD_POINT_KEYS.items():
        if new in props and old not in props:
            props[old] = {"type": "number", "deprecated": True, "description": note}
