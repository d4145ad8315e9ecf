"""Config tables as typed, frozen structs (msgspec), and `convert`: a raw TOML value into one,
with every problem found at once, each at the key path the user wrote.

Why msgspec and not pydantic: the daemon keeps its config resident for its whole life, and
pydantic's import and schemas alone cost about 18 MB on a board that may have 512 MB; msgspec
costs about 1 MB and validates faster (bench/footprint.py).

How a table is declared (constraints live in the annotation, the default after `=`):

    class Example(Model):
        period_ms: Annotated[int, Meta(ge=1, description="...")] = 1000
        address: Annotated[int, Meta(ge=0)] = field(name="register")   # TOML key `register`
        names: list[str] = field(default_factory=list)

        @classmethod
        def prepare(cls, data: dict[str, Any]) -> dict[str, Any]:
            return data   # before typing: fill defaults from a profile, map an old key

        def check(self) -> None:
            ...           # after typing: raise ValueError (the table) or Invalid(key, why)

`convert` calls each class's own `prepare`, base class first, on the raw table; `check` runs
the same way whenever a table is built, so a table built in code obeys the same rules.

A table that must know which keys its TOML wrote (a default that differs from "not given")
declares `given: frozenset[str] = field(default_factory=frozenset, name=GIVEN)`; `convert`
fills it. Keys starting with `_` are never accepted from a file.

Types are strict: `"30071"` is not an integer, `1.5` is not one either, `true` is not `1`.
A string is accepted where a `Path` is declared, an array where a tuple is.
"""

from __future__ import annotations

import difflib
import functools
import re
import types
from dataclasses import dataclass
from pathlib import Path
from typing import (
    Annotated,
    Any,
    Literal,
    TypeVar,
    Union,
    dataclass_transform,
    get_args,
    get_origin,
)

import msgspec
from msgspec import Meta, field

from .errors import ConfigError, Invalid

__all__ = ["GIVEN", "Annotated", "Invalid", "Meta", "Model", "Problem", "convert", "field",
           "fields_of"]

KeyPath = tuple[str | int, ...]
M = TypeVar("M", bound="Model")
GIVEN = "_given"  # the hidden key of the keys a table's TOML wrote (after `prepare`)


class _Kw(msgspec.StructMeta):
    """Every table takes keyword arguments only, so a subclass may add a required key after
    its base's optional ones (the TOML has no order anyway)."""

    def __new__(mcls, name: str, bases: tuple[type, ...], ns: dict[str, Any],
                **kw: Any) -> Any:
        kw.setdefault("kw_only", True)
        return super().__new__(mcls, name, bases, ns, **kw)


# (for type checkers: what _Kw and the class keywords below do at run time)
@dataclass_transform(kw_only_default=True, frozen_default=True, field_specifiers=(field,))
class Model(msgspec.Struct, metaclass=_Kw, frozen=True, forbid_unknown_fields=True):
    """Base of every config table: unknown keys are errors, values are not coerced, and a
    table is immutable once built."""

    @classmethod
    def prepare(cls, data: dict[str, Any]) -> dict[str, Any]:
        return data

    def check(self) -> None:
        return None

    def __post_init__(self) -> None:
        for klass in reversed(type(self).__mro__):
            own = vars(klass).get("check")
            if own is not None:
                own(self)

    def replace(self: M, **changes: Any) -> M:
        """A copy with some keys changed (checked again)."""
        return msgspec.structs.replace(self, **changes)

    def as_dict(self) -> dict[str, Any]:
        """Plain values all the way down, keyed as in the TOML (paths as text)."""
        out = _public(msgspec.to_builtins(self, enc_hook=str))
        assert isinstance(out, dict)
        return out

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        """The TOML keys this table takes."""
        return tuple(f.encode_name for f in fields_of(cls) if not f.encode_name.startswith("_"))

    @classmethod
    def load(cls: type[M], data: Any) -> M:
        """`data` as this table, or ConfigError listing every problem."""
        got, problems = convert(cls, data)
        if got is None:
            raise ConfigError([f"{p.where}: {p.message}" for p in problems])
        return got


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


@functools.cache
def fields_of(cls: type[Model]) -> tuple[msgspec.structs.FieldInfo, ...]:
    """A table's fields, types resolved (once a class: resolving costs ~1 ms a call)."""
    return msgspec.structs.fields(cls)


def convert(cls: type[M], raw: Any, path: KeyPath = ()) -> tuple[M | None, list[Problem]]:
    """`raw` (a TOML table) as `cls`, or None and every problem found (never both)."""
    problems: list[Problem] = []
    got = _table(cls, raw, path, problems)
    return (got, []) if not problems else (None, problems)


# -- the walk --------------------------------------------------------------------------------

def _table(cls: type[M], raw: Any, path: KeyPath, problems: list[Problem]) -> M | None:
    if not isinstance(raw, dict):
        problems.append(Problem(path, f"found {_shown(raw, path)}, expected a table"))
        return None
    before = len(problems)
    try:
        for klass in reversed(cls.__mro__):
            own = vars(klass).get("prepare")
            if own is not None:
                raw = own.__get__(None, cls)(raw)
    except Invalid as e:
        problems.append(_blame(raw, e, path))
        return None
    except (ValueError, TypeError) as e:
        problems.append(Problem(path, f"expected {e}"))
        return None
    plan = _plan(cls)
    values: dict[str, Any] = {name: frozenset(k for k in raw if k in plan.keys)
                              for name in plan.given}
    for key, value in raw.items():
        f = plan.keys.get(key)
        if f is None:
            close = difflib.get_close_matches(str(key), list(plan.keys), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ""
            problems.append(Problem((*path, str(key)), f"unknown key{hint}"))
            continue
        values[f.name] = _value(f, value, (*path, key), problems)
    for key, f in plan.keys.items():
        if key not in raw and f.required:
            problems.append(Problem((*path, key), "missing, a value is required"))
    if len(problems) > before:
        return None
    try:
        return cls(**values)
    except Invalid as e:
        problems.append(_blame(raw, e, path))
    except (ValueError, TypeError) as e:
        problems.append(Problem(path, f"expected {e}"))
    return None


@dataclass(frozen=True)
class _Field:
    """How one key of a table is read: as a table, an array of tables, or a plain value."""

    name: str
    type: Any
    required: bool
    table: type[Model] | None
    table_list: type[Model] | None
    nullable: bool


@dataclass(frozen=True)
class _Plan:
    keys: dict[str, _Field]  # by TOML key
    given: tuple[str, ...]  # the attributes that take the keys written (GIVEN)


@functools.cache
def _plan(cls: type[Model]) -> _Plan:
    """A table's keys, worked out once a class (resolving a type is slow, tables are many)."""
    keys = {f.encode_name: _Field(f.name, f.type, f.required, _model_in(f.type),
                                  _model_list(f.type), type(None) in _union_args(f.type))
            for f in fields_of(cls) if not f.encode_name.startswith("_")}
    return _Plan(keys, tuple(f.name for f in fields_of(cls) if f.encode_name == GIVEN))


def _blame(raw: dict[str, Any], e: Invalid, path: KeyPath) -> Problem:
    """A table's rule refusing one of its keys: what the key holds, and what was expected."""
    found = f"found {_shown(raw[e.key], (e.key,))}, " if e.key in raw else ""
    return Problem((*path, e.key), f"{found}expected {e.message}")


def _value(f: _Field, value: Any, path: KeyPath, problems: list[Problem]) -> Any:
    if value is None and f.nullable:
        return None  # (TOML has no null; a document built in code may say "not given" so)
    if f.table is not None:
        return _table(f.table, value, path, problems)
    if f.table_list is not None:
        if not isinstance(value, list):
            problems.append(Problem(path, f"found {_shown(value, path)}, expected an array"))
            return None
        return [_table(f.table_list, v, (*path, i), problems) for i, v in enumerate(value)]
    try:
        return msgspec.convert(value, f.type, strict=True, dec_hook=_from_text)
    except msgspec.ValidationError as e:
        problems.append(_problem(f.type, value, path, str(e)))
        return None


def _public(node: Any) -> Any:
    """Plain values without the hidden keys."""
    if isinstance(node, dict):
        return {k: _public(v) for k, v in node.items() if not str(k).startswith("_")}
    if isinstance(node, list):
        return [_public(v) for v in node]
    return node


def _model_in(tp: Any) -> type[Model] | None:
    """The table type a key holds (`Loop` or `Loop | None`), if it holds one."""
    for t in (tp, *_union_args(tp)):
        t = _bare(t)
        if isinstance(t, type) and issubclass(t, Model):
            return t
    return None


def _model_list(tp: Any) -> type[Model] | None:
    """The table type of an array of tables (`list[Point]`, or that `| None`)."""
    for t in (tp, *_union_args(tp)):
        t = _bare(t)
        if get_origin(t) is list:
            (item,) = get_args(t) or (Any,)
            item = _bare(item)
            if isinstance(item, type) and issubclass(item, Model):
                return item
    return None


def _bare(tp: Any) -> Any:
    """`Annotated[X, Meta(...)]` -> X."""
    return get_args(tp)[0] if get_origin(tp) is Annotated else tp


def _union_args(tp: Any) -> tuple[Any, ...]:
    tp = _bare(tp)
    return get_args(tp) if get_origin(tp) in (Union, types.UnionType) else ()


def _from_text(tp: Any, value: Any) -> Any:
    """The one non-native type a table holds: a path, written as text."""
    if tp is Path and isinstance(value, str):
        return Path(value)
    raise TypeError("a file path (text)")  # msgspec reports it as this key's problem


# -- messages -------------------------------------------------------------------------------

_MSG = re.compile(r"^(?P<what>.*?)(?: - at `\$(?P<at>[^`]*)`)?$", re.S)
_EXPECTED = re.compile(r"^Expected `(?P<type>[^`]+)`(?P<rest>.*)$", re.S)
_TYPE_NAMES = {
    "int": "a valid integer", "float": "a valid number", "bool": "a valid boolean",
    "str": "a valid string", "array": "an array", "object": "a table", "Path": "a file path",
    "null": "nothing",
}
_OPS = {">=": "greater than or equal to", ">": "greater than", "<=": "less than or equal to",
        "<": "less than"}


def _problem(tp: Any, value: Any, path: KeyPath, message: str) -> Problem:
    m = _MSG.match(message)
    assert m is not None
    what, at = m["what"], m["at"] or ""
    inner = _at(at)
    full = (*path, *inner)
    found = _dig(value, inner)
    return Problem(full, f"found {_shown(found, full)}, expected {_expected(what, _leaf(tp, inner))}"
                         + _quote_hint(found, what))


def _expected(what: str, tp: Any) -> str:
    if what.startswith("Invalid enum value"):
        choices = _literal_choices(tp)
        return _or_list([repr(c) for c in choices]) if choices else "one of the allowed values"
    m = _EXPECTED.match(what)
    if m is None:
        return what[:1].lower() + what[1:]
    name, rest = m["type"], m["rest"].strip()
    if rest.startswith(", got"):
        choices = _literal_choices(tp)
        return _or_list([repr(c) for c in choices]) if choices else _type_names(name)
    length = re.match(r"of length (>=|<=) (\d+)", rest)
    if length:
        n = int(length[2])
        unit = "character" if name == "str" else "item"
        return f"{'at least' if length[1] == '>=' else 'at most'} {n} {unit}{'s' if n != 1 else ''}"
    bound = re.match(r"(>=|<=|>|<) (\S+)$", rest)
    if bound:
        return f"{_OPS[bound[1]]} {bound[2].removesuffix('.0')}"
    pattern = re.match(r"matching regex (.*)$", rest)
    if pattern:
        return f"text matching pattern {pattern[1]}"
    return f"{_type_names(name)} {rest}".strip()


def _type_names(declared: str) -> str:
    """msgspec's `int | str` in words: "a valid integer or a valid string"."""
    names = [_TYPE_NAMES.get(n, n) for n in declared.split(" | ") if n != "null"]
    return _or_list(names) if names else declared


def _quote_hint(found: Any, what: str) -> str:
    if isinstance(found, str) and re.match(r"Expected `(int|float|bool)`", what):
        return " (a number or true/false is written without quotes)"
    return ""


def _literal_choices(tp: Any) -> tuple[Any, ...]:
    for t in (tp, *_union_args(tp)):
        t = _bare(t)
        if get_origin(t) is Literal:
            return get_args(t)
    return ()


def _or_list(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def _at(text: str) -> KeyPath:
    """msgspec's `[2].name` as ("2", "name") with integers for indexes."""
    out: list[str | int] = []
    for part in re.findall(r"\[(\d+|\.\.\.)\]|\.([^.\[]+)", text):
        index, key = part
        if index.isdigit():
            out.append(int(index))
        elif key:
            out.append(key)
    return tuple(out)


def _dig(value: Any, inner: KeyPath) -> Any:
    for part in inner:
        try:
            value = value[part]
        except (KeyError, IndexError, TypeError):
            return value
    return value


def _leaf(tp: Any, inner: KeyPath) -> Any:
    """The declared type at a path inside a key's value (for a Literal's choices)."""
    for part in inner:
        base = get_args(tp)[0] if get_origin(tp) is Annotated else tp
        args = get_args(base)
        if isinstance(part, int) and args:
            tp = args[0] if get_origin(base) is not tuple else args[min(part, len(args) - 1)]
        else:
            return None
    return tp


def _shown(found: Any, path: KeyPath) -> str:
    if isinstance(found, str) and path[-1:] == ("url",):
        found = redact_url(found)  # a refused URL may carry a password: never repeat it
    shown = repr(found) if not isinstance(found, dict | list) else type(found).__name__
    shown = {"dict": "a table", "list": "an array"}.get(shown, shown)
    return shown if len(shown) <= 60 else shown[:57] + "..."


def redact_url(url: str) -> str:
    """`mqtts://user:secret@host` -> `mqtts://***@host`: for URLs that did not come through
    the config (command line, an old status file)."""
    scheme, sep, rest = url.partition("://")
    host, slash, path = rest.partition("/")
    if sep and "@" in host:
        host = "***@" + host.rsplit("@", 1)[1]
    return f"{scheme}{sep}{host}{slash}{path}"

