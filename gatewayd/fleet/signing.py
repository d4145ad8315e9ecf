"""Ed25519 fleet keys: make them, sign manifests and commands, verify against trusted keys.

The private key stays with whoever releases; a gateway holds only public keys, as PEM files in
a directory (`/etc/gatewayd/keys/*.pub`). A key is named by its id: the first 16 hex digits of
the SHA-256 of its raw 32 bytes, so a signature says which key made it.
"""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from ..errors import UpdateRefused
from .manifest import Signature, SignedManifest

TrustedKeys = dict[str, Ed25519PublicKey]


def key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def keygen(private_path: Path, public_path: Path) -> str:
    """Write a new key pair (private file 0600); return its key id."""
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    private_path.touch(mode=0o600, exist_ok=False)
    private_path.write_bytes(pem)
    public = private.public_key()
    spki = serialization.PublicFormat.SubjectPublicKeyInfo
    public_path.write_bytes(public.public_bytes(serialization.Encoding.PEM, spki))
    return key_id(public)


def load_private(path: Path) -> Ed25519PrivateKey:
    key = serialization.load_pem_private_key(path.read_bytes(), password=None)
    if not isinstance(key, Ed25519PrivateKey):
        raise ValueError(f"{path}: not an Ed25519 private key")
    return key


def load_public(path: Path) -> Ed25519PublicKey:
    key = serialization.load_pem_public_key(path.read_bytes())
    if not isinstance(key, Ed25519PublicKey):
        raise ValueError(f"{path}: not an Ed25519 public key")
    return key


def load_trusted(*paths: Path) -> TrustedKeys:
    """Public keys from files or directories of `*.pub` files, by key id."""
    files: list[Path] = []
    for p in paths:
        files += sorted(p.glob("*.pub")) if p.is_dir() else [p]
    keys = [load_public(f) for f in files]
    return {key_id(k): k for k in keys}


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
    return signed.model_copy(update={"signatures": [*others, sig]})


def verify_manifest(signed: SignedManifest, trusted: TrustedKeys) -> str:
    return verify_bytes(signed.manifest.canonical(), signed.signatures, trusted)
