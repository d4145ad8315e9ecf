"""Vibration source: an accelerometer channel analysed in place (see docs/vibration.md).

The manifest: what the registry, the toolkit and the supervisor may ask of this kind."""

from __future__ import annotations

from ..plugin import Plugin

PLUGIN = Plugin(
    kind="vibration",
    summary="An accelerometer channel analysed in place",
    config="gatewayd.sources.vibration.config:Config",
    build="gatewayd.sources.vibration.source:build",
    checks="gatewayd.sources.vibration.checks:CHECKS",
    tail="device",  # its features side by side, alarms marked
)
