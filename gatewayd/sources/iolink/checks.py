"""What `gatewayd check` asks of an IO-Link master: nothing beyond its config's own rules yet
(a missing IODD is an error, found when the device is built)."""

from __future__ import annotations

from ..plugin import Checks

CHECKS = Checks()
