"""Reading the daemon's live view: find its socket, take one snapshot.

A snapshot is `Supervisor.status()` as the daemon last published it (every second): the
gateway, broker, queue, and every device with its state and each point's last value,
quality and age.
"""

from __future__ import annotations

import json
import os
import socket
from pathlib import Path
from typing import Any

from ..errors import NoDaemon
from .server import MAX_SNAPSHOT_BYTES, SOCKET_NAME

RUN_DIR = Path("/run/gatewayd")  # the unit's RuntimeDirectory


def socket_path(store_dir: Path) -> Path:
    """Where a daemon puts its socket: its runtime directory under systemd, else beside the
    store (a daemon run by hand, the demo, tests)."""
    runtime = os.environ.get("RUNTIME_DIRECTORY", "").split(":")[0]
    return Path(runtime) / SOCKET_NAME if runtime else store_dir / SOCKET_NAME


def candidates(store_dir: Path | None) -> list[Path]:
    """Where to look, in order: beside this config's store, then the service's."""
    found = [socket_path(store_dir)] if store_dir is not None else []
    return [*found, RUN_DIR / SOCKET_NAME]


def read_snapshot(paths: list[Path], timeout_s: float = 3.0) -> dict[str, Any]:
    """The first snapshot any of `paths` gives; NoDaemon saying why each failed."""
    why = []
    for path in dict.fromkeys(paths):
        try:
            return _read(path, timeout_s)
        except (OSError, ValueError) as e:
            why.append(f"{path}: {getattr(e, 'strerror', None) or e}")
    raise NoDaemon("; ".join(why))


def _read(path: Path, timeout_s: float) -> dict[str, Any]:
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
        s.settimeout(timeout_s)
        s.connect(str(path))
        chunks, size = [], 0
        while chunk := s.recv(65536):
            chunks.append(chunk)
            size += len(chunk)
            if size > MAX_SNAPSHOT_BYTES + 1:
                raise ValueError("snapshot larger than the protocol allows")
    data = json.loads(b"".join(chunks))
    if not isinstance(data, dict):
        raise ValueError("not a snapshot")
    return data
