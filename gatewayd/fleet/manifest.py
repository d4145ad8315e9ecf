"""The release manifest: what a bundle is, who may take it, and the exact bytes that get signed.

A signed manifest is a JSON document `{"manifest": {...}, "signatures": [{"key_id", "sig"}]}`.
The signature covers `canonical(manifest)`: keys sorted, no whitespace, ASCII only, so the
bytes are the same whoever serialises them.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import UTC, datetime
from typing import Any, TypeVar

import msgspec
from packaging.version import InvalidVersion, Version

from ..validation import Annotated, Invalid, Meta, Model, field

SHA256_HEX = r"^[0-9a-f]{64}$"


M = TypeVar("M", bound=Model)


def _check_version(key: str, value: str) -> None:
    try:
        Version(value)
    except InvalidVersion:
        raise Invalid(key, f"a version like 1.4.2, not {value!r}") from None


class Target(Model):
    """Who takes the release: every listed condition must hold (None means no restriction)."""

    gateways: list[str] | None = None
    sites: list[str] | None = None
    percent: Annotated[int, Meta(ge=0, le=100)] = 100

    def includes(self, gateway_id: str, site: str) -> bool:
        if self.gateways is not None and gateway_id not in self.gateways:
            return False
        if self.sites is not None and site not in self.sites:
            return False
        return bucket(gateway_id) < self.percent


def bucket(gateway_id: str) -> int:
    """A stable 0..99 bucket per gateway: the same gateways form the first 10 % every time."""
    digest = hashlib.sha256(gateway_id.encode()).digest()
    return int.from_bytes(digest[:8], "big") % 100


class Manifest(Model):
    version: str
    bundle_sha256: Annotated[str, Meta(pattern=SHA256_HEX)]
    bundle_size: Annotated[int, Meta(gt=0)]
    bundle_name: Annotated[str, Meta(pattern=r"^[A-Za-z0-9_.\-+]+$")]
    platform: str = "any"
    min_from_version: str = "0"
    allow_downgrade: bool = False
    target: Target = field(default_factory=Target)
    created: str = field(
        default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    def check(self) -> None:
        _check_version("version", self.version)
        _check_version("min_from_version", self.min_from_version)

    def canonical(self) -> bytes:
        return canonical(self.as_dict())


class Signature(Model):
    key_id: Annotated[str, Meta(pattern=r"^[0-9a-f]{16}$")]
    sig: str  # base64 of the 64-byte Ed25519 signature


class SignedManifest(Model):
    manifest: Manifest
    signatures: list[Signature] = field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(self.as_dict(), indent=2, sort_keys=True) + "\n"


def canonical(data: Any) -> bytes:
    """The signed bytes. A document nested too deeply to serialise is refused, not a crash."""
    from ..errors import UpdateRefused

    try:
        return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()
    except RecursionError:
        raise UpdateRefused("malformed document: nested too deeply") from None


def version_key(version: str) -> Version:
    return Version(version)


def parse_json(model: type[M], text: str | bytes, what: str) -> M:
    """`model` from untrusted JSON, decoded straight into the type (strict: no coercion, no
    unknown key); anything malformed is refused, naming the first problem."""
    from ..errors import UpdateRefused

    try:
        return msgspec.json.decode(text, type=model, strict=True)
    except msgspec.ValidationError as e:
        raise UpdateRefused(f"malformed {what}: {refusal(e)}") from None
    except msgspec.DecodeError as e:
        raise UpdateRefused(f"malformed {what}: (document): {e}") from None
    except RecursionError:  # msgspec's own depth limit, before the stack runs out
        raise UpdateRefused(f"malformed {what}: (document): nested too deeply") from None


def checked(obj: M, what: str) -> M:
    """`obj`, built in code, put through the same decoding a gateway applies (constraints such
    as patterns and bounds are checked when decoding, not by the constructor)."""
    return parse_json(type(obj), msgspec.json.encode(obj), what)


_AT = re.compile(r"^(?P<what>.*?)(?: - at `\$(?P<at>[^`]*)`)?$", re.S)
_UNKNOWN = re.compile(r"^Object contains unknown field `(?P<key>[^`]*)`$")
_MISSING = re.compile(r"^Object missing required field `(?P<key>[^`]*)`$")


def refusal(e: msgspec.ValidationError) -> str:
    """msgspec's `Expected ... - at `$.command.verb`` as `command.verb: Expected ...`, with an
    unknown or missing key, or the key a `check` blamed, named in the path."""
    m = _AT.match(str(e))
    assert m is not None
    what = m["what"]
    where = [p for p in re.split(r"\.|\[(\d+)\]", m["at"] or "") if p]
    cause = e.__cause__
    for pattern, text in ((_UNKNOWN, "unknown key"), (_MISSING, "missing, a value is required")):
        found = pattern.match(what)
        if found:
            where.append(found["key"])
            what = text
    if isinstance(cause, Invalid):
        where.append(cause.key)
        what = cause.message
    return f"{'.'.join(where) or '(document)'}: {what}"


def parse_signed(text: str | bytes) -> SignedManifest:
    """A signed manifest from JSON; anything malformed is refused, naming the problem."""
    return parse_json(SignedManifest, text, "manifest")
