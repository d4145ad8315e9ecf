"""Manifests, Ed25519 signatures and rollout targets."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from gatewayd.errors import UpdateRefused
from gatewayd.fleet import manifest as mf
from gatewayd.fleet import signing


def _manifest(**kw: object) -> mf.SignedManifest:
    base = dict(version="1.2.0", bundle_sha256="ab" * 32, bundle_size=10, bundle_name="b.tar")
    return mf.SignedManifest(manifest=mf.Manifest(**{**base, **kw}))  # type: ignore[arg-type]


@pytest.fixture
def keys(tmp_path: Path) -> tuple[Path, Path, str]:
    kid = signing.keygen(tmp_path / "fleet.key", tmp_path / "fleet.pub", "release")
    return tmp_path / "fleet.key", tmp_path / "fleet.pub", kid


def test_keygen_writes_a_private_file_only_the_owner_reads(keys: tuple[Path, Path, str]) -> None:
    """The private key is 0600 and its id is 16 hex digits of the public key's hash."""
    private, public, kid = keys
    assert private.stat().st_mode & 0o777 == 0o600
    assert signing.key_id(signing.load_public(public)) == kid and len(kid) == 16


def test_signed_manifest_verifies_after_a_json_round_trip(keys: tuple[Path, Path, str]) -> None:
    """Signing covers canonical bytes, so re-serialised JSON still verifies."""
    private, public, kid = keys
    signed = signing.sign_manifest(_manifest(), signing.load_private(private))
    again = mf.parse_signed(json.dumps(json.loads(signed.to_json()), indent=7))
    assert signing.verify_manifest(again, signing.load_trusted(public)) == kid


def test_changed_content_is_a_bad_signature(keys: tuple[Path, Path, str]) -> None:
    """Any change to the signed fields (here: the rollout percent) breaks the signature."""
    private, public, _ = keys
    signed = signing.sign_manifest(_manifest(), signing.load_private(private))
    doc = json.loads(signed.to_json())
    doc["manifest"]["target"]["percent"] = 50
    with pytest.raises(UpdateRefused, match="bad signature"):
        signing.verify_manifest(mf.parse_signed(json.dumps(doc)), signing.load_trusted(public))


def test_unknown_key_and_missing_signature_are_refused(tmp_path: Path, keys: tuple) -> None:
    """A key the gateway does not trust, or no signature at all, is refused by name."""
    _, public, _ = keys
    signing.keygen(tmp_path / "other.key", tmp_path / "other.pub", "release")
    signed = signing.sign_manifest(_manifest(), signing.load_private(tmp_path / "other.key"))
    with pytest.raises(UpdateRefused, match="unknown key"):
        signing.verify_manifest(signed, signing.load_trusted(public))
    with pytest.raises(UpdateRefused, match="missing signature"):
        signing.verify_manifest(_manifest(), signing.load_trusted(public))


def test_malformed_manifest_is_refused() -> None:
    """Garbage, or a bad hash field, is an UpdateRefused naming the field."""
    with pytest.raises(UpdateRefused, match="malformed"):
        mf.parse_signed("{not json")
    with pytest.raises(UpdateRefused, match="bundle_sha256"):
        mf.parse_signed(json.dumps({"manifest": {**_manifest().manifest.as_dict(),
                                                  "bundle_sha256": "zz"}}))


def test_rollout_buckets_are_stable_and_percent_grows_the_set() -> None:
    """Buckets depend only on the gateway id; 10 % is a subset of 50 %; lists intersect."""
    ids = [f"gw-{i:03d}" for i in range(400)]
    ten = {g for g in ids if mf.Target(percent=10).includes(g, "s")}
    half = {g for g in ids if mf.Target(percent=50).includes(g, "s")}
    assert ten < half and 20 < len(ten) < 60 and 150 < len(half) < 250
    assert [mf.bucket(g) for g in ids] == [mf.bucket(g) for g in ids]
    only = mf.Target(gateways=["gw-001"], sites=["plant-a"])
    assert only.includes("gw-001", "plant-a")
    assert not only.includes("gw-001", "plant-b") and not only.includes("gw-002", "plant-a")
    assert not mf.Target(percent=0).includes("gw-001", "s")


def test_signed_bytes_are_those_earlier_releases_signed() -> None:
    """The canonical form is pinned: manifests signed before (by any release of the tooling)
    still verify, so the bytes of a fixed manifest must not change."""
    m = mf.Manifest(version="1.2.0", bundle_sha256="ab" * 32, bundle_size=10,
                    bundle_name="b.tar", created="2026-01-01T00:00:00+00:00",
                    target=mf.Target(sites=["plant-a"], percent=10))
    assert m.canonical() == (
        b'{"allow_downgrade":false,"bundle_name":"b.tar","bundle_sha256":"' + b"ab" * 32
        + b'","bundle_size":10,"created":"2026-01-01T00:00:00+00:00","min_from_version":"0",'
        b'"platform":"any","target":{"gateways":null,"percent":10,"sites":["plant-a"]},'
        b'"version":"1.2.0"}')


@pytest.mark.parametrize(("key", "value", "named"), [
    ("version", "one.two", "manifest.version: a version like 1.4.2"),
    ("min_from_version", "x y", "manifest.min_from_version: a version like 1.4.2"),
    ("bundle_size", 0, "manifest.bundle_size: Expected `int` >= 1"),
    ("bundle_size", "10", "manifest.bundle_size: Expected `int`, got `str`"),
    ("bundle_name", "../../etc/passwd", "manifest.bundle_name: Expected `str` matching"),
    ("target", {"percent": 101}, "manifest.target.percent: Expected `int` <= 100"),
    ("target", {"everyone": True}, "manifest.target.everyone: unknown key"),
    ("signed_by", "me", "manifest.signed_by: unknown key"),
])
def test_each_manifest_rule_is_refused_by_key(key: str, value: object, named: str) -> None:
    """Versions, bounds, patterns, types and unknown keys: each refusal names its key."""
    doc = json.loads(_manifest().to_json())
    doc["manifest"][key] = value
    with pytest.raises(UpdateRefused, match=f"malformed manifest: {re.escape(named)}"):
        mf.parse_signed(json.dumps(doc))


def test_a_bad_version_is_refused_when_built_in_code() -> None:
    """The version rule holds for a manifest built in code too, not only for decoded ones."""
    with pytest.raises(ValueError, match=r"a version like 1\.4\.2"):
        _manifest(version="latest")


def test_build_refuses_a_rollout_percent_out_of_range(tmp_path: Path) -> None:
    """`release build --percent 150` is refused before any slow step, and writes nothing."""
    from gatewayd.fleet import bundle

    opts = bundle.BuildOptions(target=mf.Target(percent=150))
    with pytest.raises(UpdateRefused, match="target: percent: Expected `int` <= 100"):
        bundle.build(tmp_path / "no-project", tmp_path / "out", opts)
    assert not (tmp_path / "out").exists()
