"""What `gatewayd check` (and `probe gpio --config`) asks of GPIO inputs: the pins they claim."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from ..plugin import Checks, PinUse


def pins(dev: Any) -> Iterator[PinUse]:
    for j, inp in enumerate(dev.inputs):
        yield PinUse(f"inputs[{j}].pin", inp.pin, inp.name, inp.pull)


CHECKS = Checks(pins=pins)
