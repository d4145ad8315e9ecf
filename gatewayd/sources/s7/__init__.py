"""Siemens S7-300/400/1200/1500 PLCs over S7comm (ISO-on-TCP): DB, M, I and Q areas.

The manifest: what the registry, the toolkit and the supervisor may ask of this kind."""

from __future__ import annotations

from ..plugin import Plugin, Probe

PLUGIN = Plugin(
    kind="s7",
    summary="Siemens S7 PLCs over S7comm (PUT/GET): DB, M, I and Q areas",
    config="gatewayd.sources.s7.config:Config",
    build="gatewayd.sources.s7.source:build",
    checks="gatewayd.sources.s7.checks:CHECKS",
    probe=Probe("connect, read addresses once, show values or the CPU's refusal",
                "gatewayd.sources.s7.probe:arguments", "gatewayd.sources.s7.probe:run"),
)
