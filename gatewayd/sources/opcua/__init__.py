"""OPC UA servers (newer PLCs, edge servers): values by subscription or by polling, with
Basic256Sha256 security and username login.

The manifest: what the registry, the toolkit and the supervisor may ask of this kind."""

from __future__ import annotations

from ..plugin import Plugin, Probe

PLUGIN = Plugin(
    kind="opcua",
    summary="OPC UA servers: subscriptions or polling, Basic256Sha256, username login",
    config="gatewayd.sources.opcua.config:Config",
    build="gatewayd.sources.opcua.source:build",
    checks="gatewayd.sources.opcua.checks:CHECKS",
    probe=Probe("browse a server's nodes and read its variables",
                "gatewayd.sources.opcua.probe:arguments", "gatewayd.sources.opcua.probe:run"),
)
