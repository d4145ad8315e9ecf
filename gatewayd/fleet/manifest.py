"""The release manifest: what a bundle is, who may take it, and the exact bytes that get signed.

A signed manifest is a JSON document `{"manifest": {...}, "signatures": [{"key_id", "sig"}]}`.
The signature covers `canonical(manifest)`: keys sorted, no whitespace, ASCII only, so the
bytes are the same whoever serialises them.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any, TypeVar

from packaging.version import InvalidVersion, Version
from pydantic import BaseModel, ConfigDict, Field, field_validator

SHA256_HEX = r"^[0-9a-f]{64}$"


M = TypeVar("M", bound=BaseModel)


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


def _version(value: str) -> str:
    try:
        Version(value)
    except InvalidVersion:
        raise ValueError(f"a version like 1.4.2, not {value!r}") from None
    return value


class Target(Strict):
    """Who takes the release: every listed condition must hold (None means no restriction)."""

    gateways: list[str] | None = None
    sites: list[str] | None = None
    percent: int = Field(default=100, ge=0, le=100)

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


class Manifest(Strict):
    version: str
    bundle_sha256: str = Field(pattern=SHA256_HEX)
    bundle_size: int = Field(gt=0)
    bundle_name: str = Field(pattern=r"^[A-Za-z0-9_.\-+]+$")
    platform: str = "any"
    min_from_version: str = "0"
    allow_downgrade: bool = False
    target: Target = Target()
    created: str = Field(default_factory=lambda: datetime.now(UTC).isoformat(timespec="seconds"))

    _check_version = field_validator("version", "min_from_version")(_version)

    def canonical(self) -> bytes:
        return canonical(self.model_dump(mode="json"))


class Signature(Strict):
    key_id: str = Field(pattern=r"^[0-9a-f]{16}$")
    sig: str  # base64 of the 64-byte Ed25519 signature


class SignedManifest(Strict):
    manifest: Manifest
    signatures: list[Signature] = Field(default_factory=list)

    def to_json(self) -> str:
        return json.dumps(self.model_dump(mode="json"), indent=2, sort_keys=True) + "\n"


def canonical(data: Any) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def version_key(version: str) -> Version:
    return Version(version)


def parse_json(model: type[M], text: str | bytes, what: str) -> M:
    """`model` from untrusted JSON; anything malformed is refused, naming the first problem."""
    from pydantic import ValidationError

    from ..errors import UpdateRefused

    try:
        return model.model_validate_json(text)
    except ValidationError as e:
        first = e.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "(document)"
        raise UpdateRefused(f"malformed {what}: {where}: {first['msg']}") from None


def parse_signed(text: str | bytes) -> SignedManifest:
    """A signed manifest from JSON; anything malformed is refused, naming the problem."""
    return parse_json(SignedManifest, text, "manifest")
