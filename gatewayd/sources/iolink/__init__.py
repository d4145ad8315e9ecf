"""IO-Link devices read through an IO-Link master (Modbus TCP or JSON over HTTP), decoded
from each device's IODD.

The manifest: what the registry, the toolkit and the supervisor may ask of this kind."""

from __future__ import annotations

from ..plugin import Plugin

PLUGIN = Plugin(
    kind="iolink",
    summary="IO-Link devices through an IO-Link master, decoded from their IODDs",
    config="gatewayd.sources.iolink.config:Config",
    build="gatewayd.sources.iolink.source:build",
    checks="gatewayd.sources.iolink.checks:CHECKS",
)
