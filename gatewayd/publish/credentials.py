"""How a client reaches a broker: the credential fields of the gateway's [broker] table, shared by
the Sparkplug output and the consumer (`gatewayd listen`)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Credentials:
    username: str = ""
    password: str = ""
    ca_file: str | None = None
    cert_file: str | None = None
    key_file: str | None = None
