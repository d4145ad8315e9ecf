"""How a client logs in to a broker: username, password and TLS files. One place for the
gateway's own publisher, the Sparkplug output and the consumer (`gatewayd listen`, `tail`)."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Credentials:
    username: str = ""
    password: str = ""
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None

    @classmethod
    def of_broker(cls, broker: Any) -> Credentials:
        """A config's [broker] table (the password file read now: OSError if it cannot be)."""
        password = (broker.password_file.read_text().strip() if broker.password_file
                    else broker.password)
        return cls(broker.username, password, _text(broker.ca_file), _text(broker.cert_file),
                   _text(broker.key_file))

    def apply(self, client: Any, scheme: str) -> None:
        """Set them on a paho client about to connect to a `scheme`:// broker."""
        if self.username:
            client.username_pw_set(self.username, self.password or None)
        if scheme == "mqtts":
            client.tls_set(ca_certs=self.ca_file, certfile=self.cert_file, keyfile=self.key_file,
                           tls_version=ssl.PROTOCOL_TLS_CLIENT)


def _text(path: Any) -> str | None:
    return str(path) if path else None
