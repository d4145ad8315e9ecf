"""A loop current from what the analog source reads: volts across a shunt, or a module's
counts. Each is linear (`Config.linear_ma` gives its factors); the rest of the 4-20 mA chain
(NE43, span, filter, alarms, report by exception) is the point stage's (gatewayd.points)."""

from __future__ import annotations


def shunt_ma(volts: float, shunt_ohms: float) -> float:
    return volts / shunt_ohms * 1000.0


def counts_ma(counts: int, counts_4ma: int, counts_20ma: int) -> float:
    """Loop current from an analog module's counts, linear through its 4 and 20 mA counts."""
    return 4.0 + 16.0 * (counts - counts_4ma) / (counts_20ma - counts_4ma)
