"""What `gatewayd check` asks of a vibration channel: the accelerometer's I2C address."""

from __future__ import annotations

from typing import Any

from ..plugin import Checks


def i2c_address(dev: Any) -> tuple[str, int] | None:
    on_i2c = dev.enabled and dev.sensor != "block"
    return (dev.bus_key, dev.address) if on_i2c else None


CHECKS = Checks(i2c_address=i2c_address)
