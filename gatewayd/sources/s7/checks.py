"""What `gatewayd check` asks of an S7 device: points that overlap, and a timeout that
outlasts the period."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..plugin import Checks
from .decode import parse_address


def warnings(dev: Any) -> Iterator[str]:
    if dev.timeout_ms > dev.period_ms:
        yield (f"timeout_ms: {dev.timeout_ms} ms is longer than period_ms {dev.period_ms}: a silent "
               "CPU makes every poll late")
    seen: list[tuple[int, Any, int, int]] = []
    for j, p in enumerate(dev.points):
        a = parse_address(p.address)
        if a.bit is not None:
            continue  # bits of one byte are meant to share it
        for k, area, start, end in seen:
            if area == a.key and a.offset < end and start < a.offset + p.width:
                yield (f"points[{j}].address: {p.address} overlaps points[{k}] "
                       f"({dev.points[k].address}): one of them is probably a typo")
        seen.append((j, a.key, a.offset, a.offset + p.width))


CHECKS = Checks(warnings=warnings)
