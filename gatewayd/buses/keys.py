"""Canonical keys of physical lines, so two spellings of one line are one bus.

- a serial port: the tty a /dev/serial/by-id/... (or any) symlink resolves to;
- a TCP endpoint: host in lower case without a trailing dot, and the port;
- an HTTP endpoint: scheme, host and port (the path is not a different line).
"""

from __future__ import annotations

import os
from urllib.parse import urlsplit


def tty(path: str) -> str:
    """/dev/serial/by-id/usb-FTDI...-if00-port0 -> /dev/ttyUSB0 (unchanged when not a link)."""
    return os.path.realpath(path)


def host(name: str) -> str:
    return name.strip().lower().rstrip(".")


def tcp(name: str, port: int) -> str:
    return f"tcp:{host(name)}:{port}"


def url(text: str) -> str:
    parts = urlsplit(text)
    default = 443 if parts.scheme == "https" else 80
    return f"{parts.scheme}://{host(parts.hostname or '')}:{parts.port or default}"
