"""The command-line options that reach a broker as the gateway does (`tail --broker`,
`listen`): URL, username, password file, CA and client certificate. One helper, so every
command that connects takes the same options and the same defaults from the config.

When the URL is the config's own (or not given), the config's [broker] table fills in what
the command line leaves out, so `gatewayd tail --broker` on the gateway needs no more words.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from .consumer import Credentials


def add_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--username", help="default: the config's broker.username")
    p.add_argument("--password-file", help="a file holding the password (never the password "
                                           "itself on a command line, where ps shows it)")
    p.add_argument("--ca-file", help="CA of the broker's certificate (mqtts://)")
    p.add_argument("--cert-file", help="client certificate (mqtts://)")
    p.add_argument("--key-file", help="client key (mqtts://)")


def credentials(args: argparse.Namespace, url: str, cfg: Any = None) -> Credentials:
    """What to log in with: the command line, else the config's broker table for its own URL.
    OSError when a password file cannot be read."""
    broker = cfg.broker if cfg is not None and cfg.broker.url == url else None

    def pick(option: str, field: str) -> str | None:
        given = getattr(args, option, None)
        if given:
            return str(given)
        value = getattr(broker, field, None) if broker is not None else None
        return str(value) if value else None

    password = None
    password_file = pick("password_file", "password_file")
    if password_file:
        password = Path(password_file).read_text().strip()
    elif broker is not None and broker.password:
        password = broker.password
    return Credentials(username=pick("username", "username") or "", password=password or "",
                       ca_file=pick("ca_file", "ca_file"), cert_file=pick("cert_file", "cert_file"),
                       key_file=pick("key_file", "key_file"))
