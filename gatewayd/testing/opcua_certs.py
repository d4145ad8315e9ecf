"""Application certificates for OPC UA tests, made on the spot with asyncua's own helpers:
self-signed RSA 2048 certificates with the application URI in the subject alternative name, as
OPC 10000-6 asks. Nothing is shipped; each test makes its own."""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple


class CertPair(NamedTuple):
    certificate: Path  # DER
    private_key: Path  # PEM (PKCS#8)


def make_pair(folder: Path, name: str, uri: str, server: bool) -> CertPair:
    from asyncua.crypto.cert_gen import (
        dump_private_key_as_pem,
        generate_private_key,
        generate_self_signed_app_certificate,
    )
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import Encoding
    from cryptography.x509.oid import ExtendedKeyUsageOID

    key = generate_private_key()
    usage = ExtendedKeyUsageOID.SERVER_AUTH if server else ExtendedKeyUsageOID.CLIENT_AUTH
    cert = generate_self_signed_app_certificate(
        key, name, {"organizationName": "gatewayd tests"},
        [x509.UniformResourceIdentifier(uri), x509.DNSName("localhost")], [usage], days=2)
    folder.mkdir(parents=True, exist_ok=True)
    pair = CertPair(folder / f"{name}.der", folder / f"{name}.pem")
    pair.certificate.write_bytes(cert.public_bytes(Encoding.DER))
    pair.private_key.write_bytes(dump_private_key_as_pem(key))
    return pair
