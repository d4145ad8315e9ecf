"""What `gatewayd check` asks of a serial instrument: the line it uses and its framing."""

from __future__ import annotations

from typing import Any

from ..plugin import Checks, LineUse


def line(dev: Any) -> LineUse:
    return LineUse(dev.port, "serial", (dev.baudrate, dev.parity, dev.stopbits))


CHECKS = Checks(line=line)
