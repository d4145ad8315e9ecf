"""4-20 mA loops (kind "analog"): an ADS1115 across shunts or a Modbus analog input module,
each loop the point stage's 4-20 mA transform.

The manifest: what the registry, the toolkit and the supervisor may ask of this kind."""

from __future__ import annotations

from ..plugin import Plugin

PLUGIN = Plugin(
    kind="analog",
    summary="4-20 mA loops on an ADS1115 or a Modbus analog input module",
    config="gatewayd.sources.analog.config:Config",
    build="gatewayd.sources.analog.source:build",
    checks="gatewayd.sources.analog.checks:CHECKS",
)
