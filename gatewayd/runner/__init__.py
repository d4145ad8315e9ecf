"""The device runner: one loop per bus that owns the life of every device on it.

    Runner (one thread per Bus)
      schedule    polled devices on their period, event devices (GPIO) on their tick
      deadline    every poll has one; a poll past it marks the device down and backs off
      failure     bad readings, close, exponential backoff, device_down / device_up once each
      progress    a mark for the watchdog that freezes only when the thread is truly hung
      status      one line per device for `Supervisor.status()`
"""

from __future__ import annotations

from .loop import DEFAULT_POLL_LIMIT_S, MAX_BACKOFF_MS, DeviceState, Runner, next_tick

__all__ = ["DEFAULT_POLL_LIMIT_S", "MAX_BACKOFF_MS", "DeviceState", "Runner", "next_tick"]
