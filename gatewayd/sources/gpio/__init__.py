"""Digital inputs (kind "gpio"): states, counters, pulse rates, run hours and OEE per shift.

The manifest: what the registry, the toolkit and the supervisor may ask of this kind."""

from __future__ import annotations

from ..plugin import Plugin, Probe

PLUGIN = Plugin(
    kind="gpio",
    summary="Digital inputs: states, counters, pulse rates, run hours and OEE per shift",
    config="gatewayd.sources.gpio.config:Config",
    build="gatewayd.sources.gpio.source:build",
    checks="gatewayd.sources.gpio.checks:CHECKS",
    probe=Probe("live input pin levels and edges",
                "gatewayd.toolkit.probe:gpio_arguments",
                "gatewayd.toolkit.probe:cmd_gpio"),
)
