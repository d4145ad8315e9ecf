"""The command-line options that reach a broker as the gateway does (`gatewayd listen`,
`gatewayd tail --broker`): URL, username, password file, CA and client certificate. This module
alone turns them into a broker URL and the credentials to log in with, so every command that
connects takes the same options with the same rule.

The rule: a gateway config's [broker] credentials (username, password, TLS files) go only to
that config's own broker. Aimed at any other host with `--broker`, a command logs in with what
its command line gives and nothing else: a plant's password is never sent to a host the config
does not name.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from .consumer import Credentials

_DEFAULT_PORTS = {"mqtt": 1883, "mqtts": 8883}


def add_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--username", help="default: the config's broker.username (for the "
                                      "config's own broker only)")
    p.add_argument("--password-file", help="a file holding the password (never the password "
                                           "itself on a command line, where ps shows it)")
    p.add_argument("--ca-file", help="CA of the broker's certificate (mqtts://)")
    p.add_argument("--cert-file", help="client certificate (mqtts://)")
    p.add_argument("--key-file", help="client key (mqtts://)")


def same_broker(a: str, b: str) -> bool:
    """Whether two broker URLs name one endpoint: scheme, host (any case) and port, the
    scheme's default port filled in; a path or a trailing slash makes no difference."""
    try:
        ua, ub = urlsplit(a), urlsplit(b)
        pa = ua.port or _DEFAULT_PORTS.get(ua.scheme.lower())
        pb = ub.port or _DEFAULT_PORTS.get(ub.scheme.lower())
    except ValueError:  # a port that is not a number: no match, so no credentials
        return False
    return (ua.scheme.lower(), (ua.hostname or ""), pa) == (ub.scheme.lower(),
                                                           (ub.hostname or ""), pb)


def credentials(args: argparse.Namespace, url: str, cfg: Any = None) -> Credentials:
    """What to log in to `url` with: each option the command line gives, else the config's
    [broker] value when `url` is the config's own broker (never for another host).
    OSError when a password file cannot be read."""
    broker = cfg.broker if cfg is not None and same_broker(cfg.broker.url, url) else None

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


def connection(args: argparse.Namespace, cfg: Any = None,
               default_url: str = "mqtt://127.0.0.1:1883") -> tuple[str, Credentials]:
    """The broker to reach and how to log in: `--broker`, else the config's broker URL, else
    `default_url`; credentials by the rule above."""
    url = getattr(args, "broker", None) or (cfg.broker.url if cfg is not None else default_url)
    return url, credentials(args, url, cfg)
