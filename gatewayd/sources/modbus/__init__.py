"""Modbus devices, TCP or RTU on an RS-485 line: coalesced register reads, decoded.

The manifest: what the registry, the toolkit and the supervisor may ask of this kind."""

from __future__ import annotations

from ..plugin import Plugin, Probe

PLUGIN = Plugin(
    kind="modbus",
    summary="Modbus devices, TCP or RTU on an RS-485 line",
    config="gatewayd.sources.modbus.config:Config",
    build="gatewayd.sources.modbus.source:build",
    checks="gatewayd.sources.modbus.checks:CHECKS",
    probe=Probe("one read, raw and decoded",
                "gatewayd.toolkit.probe:modbus_arguments",
                "gatewayd.toolkit.probe:cmd_modbus"),
)
