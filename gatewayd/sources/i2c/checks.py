"""What `gatewayd check` asks of an I2C chip: its address on its bus, and whether single-shot
conversions fit in the period."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..plugin import Checks


def adc_rate(dev: Any) -> Iterator[str]:
    """An ADS1115 converts one channel at a time: N channels take N / data_rate seconds."""
    need_ms = 1000 * len(dev.points) / dev.data_rate_sps
    if need_ms > dev.period_ms:
        yield (f"period_ms: {dev.period_ms} ms, but {len(dev.points)} conversions at "
               f"{dev.data_rate_sps} sps take {need_ms:.0f} ms")


def warnings(dev: Any) -> Iterator[str]:
    if dev.chip == "ads1115" and not dev.continuous:
        yield from adc_rate(dev)


def i2c_address(dev: Any) -> tuple[str, int] | None:
    return (dev.bus_key, dev.address) if dev.enabled else None


CHECKS = Checks(warnings=warnings, i2c_address=i2c_address)
