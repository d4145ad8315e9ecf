"""What `gatewayd check` asks of an OPC UA device: settings that work but not as meant."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

from ..plugin import Checks


def warnings(dev: Any) -> Iterator[str]:
    if dev.security_policy == "None" and dev.username is not None:
        yield ("security_policy: None sends the password over the network (encrypted only by the "
               "server's certificate); prefer Basic256Sha256 with SignAndEncrypt")
    if dev.mode == "subscription" and dev.publishing_interval_ms > dev.period_ms * dev.queue_size:
        yield (f"queue_size: {dev.queue_size} changes per publish of {dev.publishing_interval_ms} ms: "
               "a node changing every period_ms loses changes on the server")
    seen: dict[str, int] = {}
    for j, p in enumerate(dev.points):
        if p.node_id in seen:
            yield f"points[{j}].node_id: {p.node_id} is read by points[{seen[p.node_id]}] already"
        seen.setdefault(p.node_id, j)
        if dev.mode == "poll" and (p.server_deadband or p.sampling_interval_ms is not None):
            yield (f"points[{j}]: server_deadband and sampling_interval_ms apply to subscriptions; "
                   "mode = \"poll\" ignores them (the point's own deadband works in both)")


def files(dev: Any) -> Iterator[tuple[str, Path]]:
    """The files the device reads at open: `check` says when one is missing or unreadable."""
    for key in ("certificate_file", "private_key_file", "server_certificate_file", "password_file"):
        if (path := getattr(dev, key)) is not None:
            yield key, path


CHECKS = Checks(warnings=warnings, files=files)
