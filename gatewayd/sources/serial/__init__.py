"""Serial instruments (kind "serial"): ASCII line or fixed binary frames over pyserial.

The manifest: what the registry, the toolkit and the supervisor may ask of this kind."""

from __future__ import annotations

from ..plugin import Plugin, Probe

PLUGIN = Plugin(
    kind="serial",
    summary="Serial instruments: ASCII lines or fixed binary frames",
    config="gatewayd.sources.serial.config:Config",
    build="gatewayd.sources.serial.source:build",
    checks="gatewayd.sources.serial.checks:CHECKS",
    probe=Probe("listen and suggest baud, framing and terminator",
                "gatewayd.toolkit.probe:serial_arguments",
                "gatewayd.toolkit.probe:cmd_serial"),
)
