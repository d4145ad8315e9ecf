"""Certificates made on the spot for TLS tests against a real mosquitto: a CA, server and
client certificates, each valid or wrong in one chosen way (issuer, host, expiry)."""

from __future__ import annotations

import datetime
import ipaddress
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

Key = ec.EllipticCurvePrivateKey


def make_cert(name: str, key: Key, issuer: tuple[x509.Name, Key] | None = None, ca: bool = False,
              days: float = 1, hosts: tuple[str, ...] = ("localhost", "127.0.0.1")
              ) -> x509.Certificate:
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    end = now + datetime.timedelta(days=days)
    b = (x509.CertificateBuilder().subject_name(subject)
         .issuer_name(issuer[0] if issuer else subject).public_key(key.public_key())
         .serial_number(x509.random_serial_number())
         .not_valid_before(min(now, end) - datetime.timedelta(days=2)).not_valid_after(end)
         .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True))
    if not ca:
        names: list[x509.GeneralName] = []
        for h in hosts:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(h)))
            except ValueError:
                names.append(x509.DNSName(h))
        b = b.add_extension(x509.SubjectAlternativeName(names), critical=False)
    return b.sign(issuer[1] if issuer else key, hashes.SHA256())


def pem(path: Path, key: Key, cert: x509.Certificate) -> tuple[Path, Path]:
    k, c = path.with_suffix(".key"), path.with_suffix(".pem")
    k.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()))
    c.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return k, c


def new_key() -> Key:
    return ec.generate_private_key(ec.SECP256R1())
