"""Ed25519 fleet keys: make them, sign manifests and commands, verify against trusted keys.

Keys have one of two roles, and a key of one role can never stand in for the other:

    release   signs release manifests      gateway trusts /etc/gatewayd/keys/release/*.pub
    command   signs commands (cmd/<verb>)   gateway trusts /etc/gatewayd/keys/command/*.pub

A key file (private and public) starts with the line `gatewayd-key-role: <role>` above its PEM
block, so the tooling refuses to sign a manifest with a command key and the gateway refuses a
public key filed under the wrong role. A key id found in both roles is trusted for neither.
(Why: a command key sits on an operator's console and is used daily; a release key signs a
few times a year and can be kept offline. Stealing the first must not let anyone ship code.)

The private key stays with whoever releases or commands; a gateway holds only public keys. A
key is named by its id: the first 16 hex digits of the SHA-256 of its raw 32 bytes, so a
signature says which key made it.
"""

from __future__ import annotations

import base64
import hashlib
import logging
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ..errors import KeyRoleError, UpdateRefused
from .manifest import Signature, SignedManifest

TrustedKeys = dict[str, Ed25519PublicKey]
ROLES = ("release", "command")
ROLE_LINE = "gatewayd-key-role: "
log = logging.getLogger("gatewayd.fleet")


def key_role(text: str) -> str | None:
    """The role a key file declares in its first line, or None (a key made before roles)."""
    first = text.lstrip().split("\n", 1)[0].strip()
    return first[len(ROLE_LINE):].strip() if first.startswith(ROLE_LINE) else None


def _pem(text: str) -> bytes:
    start = text.find("-----BEGIN")
    return text[max(start, 0):].encode()


def _check_role(path: Path, found: str | None, role: str | None) -> None:
    if role is None or found == role:
        return
    what = f"a {found} key" if found else "a key without a role line"
    raise KeyRoleError(f"{path}: {what}, where a {role} key is required "
                       f"(make one with `gatewayd release keygen --role {role}`)")


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def keygen(private_path: Path, public_path: Path, role: str) -> str:
    """Write a new key pair of `role` (private file 0600); return its key id."""
    if role not in ROLES:
        raise KeyRoleError(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    head = f"{ROLE_LINE}{role}\n".encode()
    private_path.touch(mode=0o600, exist_ok=False)
    private_path.write_bytes(head + pem)
    public = private.public_key()
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    public_path.write_bytes(head + public.public_bytes(serialization.Encoding.PEM, spki))
    return key_id(public)


def load_private(path: Path, role: str | None = None) -> Ed25519PrivateKey:
    """The private key in `path`; with `role`, refused unless the file declares that role."""
    text = path.read_text()
    _check_role(path, key_role(text), role)
    key = serialization.load_pem_private_key(_pem(text), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path}: not an Ed25519 private key")
    return key


def load_public(path: Path, role: str | None = None) -> Ed25519PublicKey:
    """The public key in `path`. With `role`, a file declaring another role is refused; one
    declaring none (made before roles) takes the role of the directory it was filed in."""
    text = path.read_text()
    found = key_role(text)
    if found is not None:
        _check_role(path, found, role)
    key = serialization.load_pem_public_key(_pem(text))
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{path}: not an Ed25519 public key")
    return key


def load_trusted(*paths: Path, role: str | None = None) -> TrustedKeys:
    """Public keys from files or directories of `*.pub` files, by key id. With `role`, a key
    file declaring another role is left out (logged): it is never trusted for this one."""
    files: list[Path] = []
    for p in paths:
        files += sorted(p.glob("*.pub")) if p.is_dir() else [p]
    keys = []
    for f in files:
        try:
            keys.append(load_public(f, role))
        except KeyRoleError as e:
            log.error("not trusted: %s", e)
    return {key_id(k): k for k in keys}


def load_roles(release_dir: Path, command_dir: Path) -> tuple[TrustedKeys, TrustedKeys]:
    """The gateway's two trust sets. A key found in both is trusted for neither (logged)."""
    release = load_trusted(release_dir, role="release") if release_dir.exists() else {}
    command = load_trusted(command_dir, role="command") if command_dir.exists() else {}
    for kid in sorted(release.keys() & command.keys()):
        log.error("key %s is filed as both a release and a command key: trusted for neither", kid)
        del release[kid], command[kid]
    return release, command


def sign_bytes(private: Ed25519PrivateKey, data: bytes) -> Signature:
    sig = base64.b64encode(private.sign(data)).decode()
    return Signature(key_id=key_id(private.public_key()), sig=sig)


def verify_bytes(data: bytes, signatures: list[Signature], trusted: TrustedKeys) -> str:
    """Return the id of a trusted key whose signature over `data` checks; else UpdateRefused."""
    if not signatures:
        raise UpdateRefused("missing signature")
    known = [s for s in signatures if s.key_id in trusted]
    if not known:
        ids = ", ".join(s.key_id for s in signatures)
        raise UpdateRefused(f"unknown key: signed by {ids}, none of them trusted")
    for s in known:
        try:
            trusted[s.key_id].verify(base64.b64decode(s.sig, validate=True), data)
            return s.key_id
        except (InvalidSignature, ValueError):
            continue
    raise UpdateRefused("bad signature: it does not match the content")


def sign_manifest(signed: SignedManifest, private: Ed25519PrivateKey) -> SignedManifest:
    """Add (or replace) this key's signature."""
    sig = sign_bytes(private, signed.manifest.canonical())
    others = [s for s in signed.signatures if s.key_id != sig.key_id]
    return signed.replace(signatures=[*others, sig])


def verify_manifest(signed: SignedManifest, trusted: TrustedKeys) -> str:
    return verify_bytes(signed.manifest.canonical(), signed.signatures, trusted)
