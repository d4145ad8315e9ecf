"""Old home of the device runner, kept while other branches import it: see gatewayd.runner."""

from __future__ import annotations

from .runner import DEFAULT_POLL_LIMIT_S, MAX_BACKOFF_MS, DeviceState, next_tick
from .runner import Runner as BusWorker

__all__ = ["DEFAULT_POLL_LIMIT_S", "MAX_BACKOFF_MS", "BusWorker", "DeviceState", "next_tick"]
