"""Shaft speed from a tachometer: pulse times in, revolutions per second out. Pure: the caller
supplies the times (from its clock) and asks for the speed over a span ending at `now`."""

from __future__ import annotations

import math
import threading
from collections import deque


class Tacho:
    """Keeps the latest pulse times; speed = pulses between the first and last one in the span
    divided by the time between them, per revolution. NaN when the shaft stands (fewer than two
    pulses in the span): a stopped machine has no orders to look for."""

    def __init__(self, pulses_per_rev: int = 1, span_s: float = 1.0, keep: int = 4096) -> None:
        self.pulses_per_rev = pulses_per_rev
        self.span_s = span_s
        self._times: deque[float] = deque(maxlen=keep)
        self._lock = threading.Lock()  # pulses come on the GPIO thread, reads on the bus thread

    def pulse(self, t: float) -> None:
        with self._lock:
            self._times.append(t)

    def speed_hz(self, now: float) -> float:
        with self._lock:
            recent = [t for t in self._times if now - self.span_s <= t <= now]
        if len(recent) < 2 or recent[-1] == recent[0]:
            return math.nan
        return (len(recent) - 1) / (recent[-1] - recent[0]) / self.pulses_per_rev
