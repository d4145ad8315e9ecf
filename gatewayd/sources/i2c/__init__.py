"""I2C sensors (kind "i2c"): an ADS1115 ADC or a BME280 environment sensor.

The manifest: what the registry, the toolkit and the supervisor may ask of this kind."""

from __future__ import annotations

from ..plugin import Plugin, Probe

PLUGIN = Plugin(
    kind="i2c",
    summary="I2C sensors: an ADS1115 ADC or a BME280 environment sensor",
    config="gatewayd.sources.i2c.config:Config",
    build="gatewayd.sources.i2c.source:build",
    checks="gatewayd.sources.i2c.checks:CHECKS",
    probe=Probe("which addresses answer, and which chip each could be",
                "gatewayd.toolkit.probe:i2c_arguments",
                "gatewayd.toolkit.probe:cmd_i2c"),
    profile_keys=("profile", "chip"),  # `chip = "bme280"` names its profile as well
)
