"""What `gatewayd check` asks of a Logix device: a tag read twice, a timeout past the period."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..plugin import Checks


def warnings(dev: Any) -> Iterator[str]:
    if dev.timeout_ms > dev.period_ms:
        yield (f"timeout_ms: {dev.timeout_ms} ms is longer than period_ms {dev.period_ms}: a silent "
               "controller makes every poll late")
    first: dict[str, int] = {}
    for j, p in enumerate(dev.points):
        key = p.tag.lower()  # Logix tag names are not case sensitive
        if key in first:
            yield f"points[{j}].tag: {p.tag} is read by points[{first[key]}] already"
        first.setdefault(key, j)


CHECKS = Checks(warnings=warnings)
