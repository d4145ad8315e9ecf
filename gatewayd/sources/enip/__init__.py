"""Allen-Bradley Logix controllers (ControlLogix, CompactLogix) over EtherNet/IP: controller
and program tags, read many to a request.

The manifest: what the registry, the toolkit and the supervisor may ask of this kind."""

from __future__ import annotations

from ..plugin import Plugin, Probe

PLUGIN = Plugin(
    kind="enip",
    summary="Allen-Bradley Logix controllers over EtherNet/IP: controller and program tags",
    config="gatewayd.sources.enip.config:Config",
    build="gatewayd.sources.enip.source:build",
    checks="gatewayd.sources.enip.checks:CHECKS",
    probe=Probe("read tags once and show values or the controller's refusal",
                "gatewayd.sources.enip.probe:arguments", "gatewayd.sources.enip.probe:run"),
)
