"""One thread per physical bus: runs its devices on their schedules and owns failure policy.

Timestamps are the scheduled ticks, aligned to multiples of the period on the wall clock, so a
point polled every 100 ms has readings at exactly .000, .100, ... and the payload carries them
as start + period. A poll that runs late skips the ticks it missed (counted as overruns).

Failure policy (the one place for it): a device that raises DeviceError gives bad-quality
readings for all its points with the reason, is closed and retried with exponential backoff,
and is logged once when it goes down and once when it comes back, with an event each time.

Every poll has a deadline (the device's `max_poll_s`: what its timeouts and retries allow). The
buses end their own exchanges by then (an HTTP answer trickling in is cut at its deadline); a
poll that still comes back late is a failure like any other: down, event, backoff. The other
devices of the bus wait at most that long, the other buses not at all (threads of their own).
Only a poll that runs past its deadline and grace, which no bus could end (an I2C slave holding
the clock line inside the kernel), freezes the progress mark: the watchdog stops only for a
thread that is truly hung.

Event-driven devices (GPIO) are run the same way: their pin callbacks only enqueue, and their
`read()` is the tick (every `tick_s`) that turns edges into states, counts and OEE.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..errors import DeviceError
from ..model import Event, Quality, Reading
from ..points.stage import PointStage

log = logging.getLogger("gatewayd.sources")
MAX_BACKOFF_MS = 60_000
DEFAULT_POLL_LIMIT_S = 10.0  # a device may say otherwise with `max_poll_s`
HUNG_GRACE_S = 1.0  # past its deadline by this much, a poll is a hung thread, not a slow device


@dataclass
class DeviceState:
    device: Any
    period_ms: int
    stage: PointStage
    due_ms: int = 0
    opened: bool = False
    down_since_ms: int = 0
    failures: int = 0
    reason: str = ""
    last_poll_s: float = 0.0
    counters: Counter[str] = field(default_factory=Counter)

    @property
    def up(self) -> bool:
        return not self.down_since_ms


def next_tick(now_ms: int, period_ms: int) -> int:
    return (now_ms // period_ms + 1) * period_ms


def schedule_ms(device: Any) -> int:
    """How often the runner calls the device: its tick (event devices) or its period."""
    return max(1, round(float(getattr(device, "tick_s", device.period_s)) * 1000))


def deadline_s(device: Any) -> float:
    return float(getattr(device, "max_poll_s", DEFAULT_POLL_LIMIT_S))


class Runner:
    """Polls the devices of one bus, one after another, so transactions never interleave."""

    def __init__(self, bus_key: str, devices: list[Any], emit: Callable[[list[Reading]], None],
                 event: Callable[[Event], None], paused: Callable[[], bool] = lambda: False) -> None:
        self.bus_key = bus_key
        self.emit = emit
        self.event = event
        self.paused = paused
        now = _wall_ms()
        # device -> point stage -> sink: the stage owns what each raw value means
        self.states = [DeviceState(d, schedule_ms(d),
                                   PointStage.for_device(d, event)) for d in devices]
        for s in self.states:
            s.due_ms = next_tick(now, s.period_ms)
        self._loop_mark = time.monotonic()
        self._poll_started: float | None = None
        self._poll_limit_s = DEFAULT_POLL_LIMIT_S
        self.overruns = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"bus {bus_key}", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(10)
        for s in self.states:
            self._close(s)
            finish = getattr(s.device, "stop", None)  # event devices save their totals
            if finish is not None:
                try:
                    finish()
                except Exception:  # one device's trouble at stop must not keep the others open
                    log.exception("stopping %s failed", s.device.name, extra=_fields(s.device))

    def alive(self) -> bool:
        return self._thread.is_alive()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._loop_mark = time.monotonic()
            state = min(self.states, key=lambda s: s.due_ms)
            wait_s = (state.due_ms - _wall_ms()) / 1000
            if wait_s > 0 and self._stop.wait(min(wait_s, 1.0)):
                return
            if wait_s > 1.0:
                continue
            tick = state.due_ms
            if not self.paused():
                self._poll(state, tick)
            now = _wall_ms()
            state.due_ms = self._next_due(state, tick, now)

    def _next_due(self, s: DeviceState, tick: int, now: int) -> int:
        if s.failures:
            backoff = min(s.period_ms * 2 ** min(s.failures - 1, 16), MAX_BACKOFF_MS)
            return next_tick(now + backoff - s.period_ms, s.period_ms)
        due = tick + s.period_ms
        if due <= now:
            self.overruns += (now - due) // s.period_ms + 1
            due = next_tick(now, s.period_ms)
        return due

    def progress(self) -> float:
        """A mark that keeps changing while this thread is healthy, for the watchdog: it
        freezes when the loop stops turning, or when one poll runs past what the device can
        legitimately take (its timeout and retries), i.e. when the bus is hung."""
        started = self._poll_started
        if started is None:
            return self._loop_mark
        if time.monotonic() - started <= self._poll_limit_s + HUNG_GRACE_S:
            return time.monotonic()
        return started

    def _poll(self, s: DeviceState, tick: int) -> None:
        self._poll_limit_s = deadline_s(s.device)
        self._poll_started = started = time.monotonic()
        try:
            self._poll_once(s, tick, started)
        finally:
            self._poll_started = None

    def _poll_once(self, s: DeviceState, tick: int, started: float) -> None:
        dev = s.device
        try:
            if not s.opened:
                dev.open()
                s.opened = True
            raw = dev.read(tick)
            s.last_poll_s = time.monotonic() - started
            if s.last_poll_s > self._poll_limit_s:
                s.counters["late"] += 1
                self._failed(s, tick, f"{dev.name}: poll took {s.last_poll_s:.1f} s, past its "
                             f"deadline of {self._poll_limit_s:g} s", Quality.BAD_TIMEOUT)
                return
            readings = s.stage.process(raw)
        except DeviceError as e:
            self._failed(s, tick, str(e), e.quality)
            return
        except Exception as e:  # a driver bug must not kill the bus: treat as a device fault
            log.exception("device %s: unexpected error", dev.name, extra=_fields(dev))
            self._failed(s, tick, f"{dev.name}: {type(e).__name__}: {e}", Quality.BAD)
            return
        s.counters["polls"] += 1
        if not s.up:
            log.info("device %s is back after %d failed polls", dev.name, s.failures,
                     extra=_fields(dev))
            self.event(Event(tick, "device_up", {"device": dev.name, "down_since": s.down_since_ms}))
            s.down_since_ms = 0
        s.failures = 0
        if readings:
            self.emit(readings)

    def _failed(self, s: DeviceState, tick: int, reason: str, quality: Quality) -> None:
        s.failures += 1
        s.counters["errors"] += 1
        s.counters[quality.label] += 1
        s.reason = reason
        self._close(s)
        if s.up:
            s.down_since_ms = tick
            log.warning("device %s is down: %s", s.device.name, reason, extra=_fields(s.device))
            self.event(Event(tick, "device_down", {"device": s.device.name, "reason": reason,
                                                   "quality": int(quality)}))
        self.emit(s.stage.process([Reading(p.alias, tick, None, quality)
                                   for p in s.device.points]))

    def _close(self, s: DeviceState) -> None:
        if s.opened:
            s.opened = False
            try:
                s.device.close()
            except Exception:  # closing a broken link may fail too; nothing to do about it
                log.debug("closing %s failed", s.device.name, exc_info=True)

    def snapshot(self) -> list[dict[str, Any]]:
        """One status line per device: up or down and why, its bus, its counters."""
        return [self._line(s) for s in self.states]

    def _line(self, s: DeviceState) -> dict[str, Any]:
        dev = s.device
        line: dict[str, Any] = {
            "device": dev.name, "bus": self.bus_key, "up": s.up, "reason": s.reason,
            "failures": s.failures, "last_poll_s": round(s.last_poll_s, 3),
            "deadline_s": deadline_s(dev), **s.counters, **dict(getattr(dev, "counters", {}))}
        if getattr(dev, "state_error", ""):  # totals that cannot be saved (a full disk)
            line["state_error"] = dev.state_error
        return line


def _fields(device: Any) -> dict[str, str]:
    """Structured log fields (journald SOURCE=, DEVICE=) naming the device and its kind."""
    cfg = getattr(device, "cfg", None)
    return {"source": getattr(cfg, "kind", ""), "device": device.name}


def _wall_ms() -> int:
    return time.time_ns() // 1_000_000
