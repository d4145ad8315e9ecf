"""What `gatewayd check` asks of 4-20 mA loops: ranges given, alarm limits the range can
reach, ADC timing, and the ADS1115 address or the module's registers they use."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..i2c.checks import adc_rate
from ..plugin import Checks, RegisterSpan


def warnings(dev: Any) -> Iterator[str]:
    """A point without its range reads percent of span, rarely what was meant."""
    for j, p in enumerate(dev.points):
        where = f"points[{j}]"
        missing = [k for k in ("low", "high") if k not in p.given]
        if missing:
            yield (f"{where}: no {' and '.join(missing)}: the 4-20 mA range defaults to "
                   f"{p.low:g}..{p.high:g}; give the transmitter's range")
        yield from _alarm_limits(p, where)
    if dev.input == "ads1115":
        yield from adc_rate(dev)


def _alarm_limits(p: Any, where: str) -> Iterator[str]:
    if p.alarms is None:
        return
    lo, hi = sorted((p.low, p.high))
    for level in ("ll", "l", "h", "hh"):
        limit = getattr(p.alarms, level)
        if limit is not None and not lo <= limit <= hi:
            yield f"{where}.alarms.{level}: {limit:g} lies outside the range {lo:g}..{hi:g}"


def registers(dev: Any) -> Iterator[RegisterSpan]:
    if dev.input == "modbus":
        for j, p in enumerate(dev.points):
            yield RegisterSpan(dev.bus_key, dev.unit, dev.table, p.address, p.address + 1, j)


def i2c_address(dev: Any) -> tuple[str, int] | None:
    return (dev.bus_key, dev.address) if dev.enabled and dev.input == "ads1115" else None


CHECKS = Checks(warnings=warnings, registers=registers, i2c_address=i2c_address)
