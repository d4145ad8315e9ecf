"""GPIO inputs: state changes, counters, rates, run hours and OEE, run by the device runner.

Pin callbacks (gpiozero's thread) only append (input, level, time) to an inbox. The runner
ticks the device every `tick_s`: the tick drains the inbox through the debouncers, confirms
settled levels, returns state changes (dated when the level began to hold) and, every
`period_ms`, the counters, rates, run hours and OEE figures. No thread of its own: a failure
is the runner's to handle (down/up events, backoff, status), like any polled device's.

Totals (edge counts, run time, the current shift's tally) live in one JSON file under
`ctx.state_dir`, replaced atomically at most every `persist_interval_ms` and on stop: an SD
card would not survive a write per part made. A file that cannot be written (a full disk) is
reported once with a `state_write_failed` event and in `status`, and retried.
"""

from __future__ import annotations

import json
import logging
import os
from collections import deque
from functools import partial
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from ...buses import Buses
from ...buses.gpio import GpioBus, InputPin
from ...model import Event, Quality, Reading
from ..base import Device, SourceContext, buses_of
from .config import OEE_ROLES, Config, GpioInput, GpioPoint
from .logic import (
    Debouncer,
    PulseRate,
    RunTimer,
    ShiftCalendar,
    ShiftTally,
    oee,
    performance_impossible,
)

log = logging.getLogger("gatewayd.sources")
PER_S = {"s": 1.0, "min": 60.0, "h": 3600.0}
MS_PER_HOUR = 3_600_000
TICK_S = 0.1  # how often the runner drains edges: state changes go out within this


class InputState:
    """One input at run time: its debounced level and what it has accumulated."""

    def __init__(self, cfg: GpioInput, level: bool, saved: dict[str, int], now_ms: int) -> None:
        self.cfg = cfg
        self.debouncer = Debouncer(cfg.debounce_ms, level)
        self.count = int(saved.get("count", 0))
        self.run = RunTimer(int(saved.get("run_ms", 0)), level, now_ms)
        self.rates: dict[int, PulseRate] = {}

    def saved(self) -> dict[str, int]:
        return {"count": self.count, "run_ms": self.run.total_ms}


class GpioDevice(Device):
    """Digital inputs of one machine and the points derived from them."""

    cfg: Config

    def __init__(self, cfg: Config, buses: Buses | None = None,
                 ctx: SourceContext | None = None) -> None:
        super().__init__(cfg, buses=buses)
        self.bus: GpioBus = self.buses.gpio(cfg.name)
        self.tick_s = min(TICK_S, self.period_s)
        self.counters: dict[str, int] = {"edges": 0, "transitions": 0, "writes": 0,
                                         "write_errors": 0}
        self.state_error = ""  # why the totals could not be saved, while they cannot
        self.state_path = Path()
        self._ctx: SourceContext | None = ctx
        self._inbox: deque[tuple[str, bool, int]] = deque()  # appended by pin callbacks
        self._pins: list[InputPin] = []
        self._inputs: dict[str, InputState] = {}
        self._out: list[Reading] = []
        self._dirty = False
        self._persisted_ms = 0
        self._next_periodic = 0

    # -- lifecycle ------------------------------------------------------------------------
    def start(self, ctx: SourceContext) -> None:
        """Open the pins and load the totals (what the runner's open() does)."""
        self._ctx = ctx
        self.open()
        self._flush()

    def open(self) -> None:
        ctx = self._context()
        if self._pins:
            return
        if self._inputs:  # reopened after a failure: the totals in memory are the newest
            self._reopen_pins(ctx)
            return
        self.state_path = ctx.state_dir / f"gpio-{self.name}.json"
        saved = self._load()
        factory = ctx.extras.get("gpio_pin_factory")
        now = ctx.clock_ms()
        self._persisted_ms = now
        try:
            for inp in self.cfg.inputs:
                self._open_input(inp, saved.get("inputs", {}), factory, now)
        except Exception:
            self._close_pins()
            self._inputs = {}
            raise
        self._start_oee(saved.get("oee"), now)
        self._emit_periodic(now)
        self._next_periodic = now + round(self.period_s * 1000)

    def _context(self) -> SourceContext:
        if self._ctx is None:
            raise RuntimeError(f"{self.name}: built without a context")
        return self._ctx

    def _open_input(self, inp: GpioInput, saved: dict[str, Any], factory: Any, now: int) -> None:
        on_change = partial(self._edge, inp.name)
        pin = self.bus.input(inp.pin, inp.pull, inp.active_level, on_change, self.name, factory)
        self._pins.append(pin)
        state = InputState(inp, pin.active, saved.get(inp.name, {}), now)
        for p in self.cfg.points:
            if p.role == "rate" and p.input == inp.name:
                state.rates[p.alias] = PulseRate(p.window_ms, now)
        self._inputs[inp.name] = state

    def _reopen_pins(self, ctx: SourceContext) -> None:
        factory = ctx.extras.get("gpio_pin_factory")
        now = ctx.clock_ms()
        try:
            for inp in self.cfg.inputs:
                on_change = partial(self._edge, inp.name)
                pin = self.bus.input(inp.pin, inp.pull, inp.active_level, on_change, self.name,
                                     factory)
                self._pins.append(pin)
                self._inbox.append((inp.name, pin.active, now))  # where the level is now
        except Exception:
            self._close_pins()
            raise
        self._next_periodic = now  # back: say where everything stands on this tick

    def close(self) -> None:
        """After a failed tick: let go of the pins; the totals stay for the reopen."""
        self._close_pins()

    def stop(self) -> None:
        """Close the pins, bring the totals up to now and save them."""
        self._close_pins()  # no more edges from here on
        if self._inputs and self._ctx is not None:
            now = self._ctx.clock_ms()
            self._drain()
            self._update(now)
            self._persist(now)
            self._flush()
        self._inputs = {}
        self.release_bus()

    def _close_pins(self) -> None:
        for pin in self._pins:
            pin.close()
        self._pins = []

    # -- what happens -----------------------------------------------------------------------
    def _edge(self, name: str, level: bool) -> None:
        """Pin callback (gpiozero's thread, or the test's with the mock factory): enqueue only."""
        self._inbox.append((name, level, self._context().clock_ms()))

    def _drain(self) -> None:
        while self._inbox:
            name, level, ts = self._inbox.popleft()
            self.counters["edges"] += 1
            state = self._inputs.get(name)
            if state is None:  # an edge while open() was still opening the pins
                continue
            for at, accepted in state.debouncer.feed(level, ts):
                self._transition(state, at, accepted)

    def read(self, now_ms: int) -> list[Reading]:
        """The runner's tick: state changes always, the periodic figures when due."""
        if not self._pins:
            self.open()
        now = self._context().clock_ms()
        self._step(now, periodic=now >= self._next_periodic)
        if now >= self._next_periodic:
            self._next_periodic = now + round(self.period_s * 1000)
        out, self._out = self._out, []
        return out

    def tick(self) -> None:
        """One full step now (drain, settle, emit everything, persist when due) to ctx.emit."""
        self._step(self._context().clock_ms(), periodic=True)
        self._flush()

    def _step(self, now: int, periodic: bool) -> None:
        self._drain()
        self._update(now)
        if periodic:
            self._emit_periodic(now)
        if self._dirty and now - self._persisted_ms >= self.cfg.persist_interval_ms:
            self._persist(now)

    def _flush(self) -> None:
        out, self._out = self._out, []
        for reading in out:
            self._context().emit(reading)

    def _update(self, now: int) -> None:
        for state in self._inputs.values():
            for ts, accepted in state.debouncer.settle(now):
                self._transition(state, ts, accepted)
        self._roll_shifts(now)
        for state in self._inputs.values():
            state.run.advance(now)
        if self.cfg.oee is not None:
            self._oee_run.advance(now)

    def _transition(self, state: InputState, ts: int, active: bool) -> None:
        self.counters["transitions"] += 1
        self._dirty = True
        self._roll_shifts(ts)
        state.run.set(active, ts)
        if active:
            state.count += 1
            for rate in state.rates.values():
                rate.add(ts)
        self._oee_transition(state.cfg.name, ts, active)
        for p in self.cfg.points:
            if p.role == "state" and p.input == state.cfg.name:
                self._out.append(Reading(p.alias, ts, _typed(active, p.type)))

    # -- OEE per shift ------------------------------------------------------------------------
    def _start_oee(self, saved: dict[str, Any] | None, now: int) -> None:
        o = self.cfg.oee
        if o is None:
            return
        self._calendar = ShiftCalendar(o.start_times, ZoneInfo(o.timezone) if o.timezone else None)
        start = self._calendar.shift_start(now)
        same_shift = saved is not None and saved.get("start_ms") == start
        counted_from = now if o.count_from == "gateway_start" else start
        self._tally = (ShiftTally.from_dict(saved) if same_shift and saved
                       else ShiftTally(start, counted_from_ms=counted_from))
        self._oee_warned = False
        running = self._inputs[o.running].debouncer.level
        self._oee_run = RunTimer(self._tally.run_ms, running, now)
        self._shift_end = self._calendar.next_start(now)

    def _oee_transition(self, name: str, ts: int, active: bool) -> None:
        o = self.cfg.oee
        if o is None:
            return
        if name == o.running:
            self._oee_run.set(active, ts)
        if active and name == o.parts:
            self._tally.parts += 1
        if active and name == o.rejects:
            self._tally.rejects += 1

    def _roll_shifts(self, t_ms: int) -> None:
        """Close every shift that ended by `t_ms`: final figures at its end, then a new tally."""
        while self.cfg.oee is not None and t_ms >= self._shift_end:
            end = self._shift_end
            self._oee_run.advance(end)
            figures = self._oee_figures(end)
            for p in self.cfg.points:
                if p.role in OEE_ROLES:
                    self._out.append(_figure(p, end, figures[p.role]))
            fields = {**self._tally.to_dict(), "end_ms": end, **figures}
            self._context().event(Event(end, "shift_end", {"device": self.name, **fields}))
            self._tally = ShiftTally(end)
            self._oee_warned = False
            self._oee_run = RunTimer(0, self._oee_run.running, end)
            self._shift_end = self._calendar.next_start(end)

    def _oee_figures(self, now: int) -> dict[str, float | None]:
        assert self.cfg.oee is not None
        t = self._tally
        t.run_ms = self._oee_run.total_ms
        return oee(t.elapsed_ms(now), t.run_ms, t.parts, t.rejects, self.cfg.oee.ideal_rate_per_min)

    def _performance_impossible(self, now: int) -> bool:
        """Performance above 1 is a config error (the ideal rate is too low): the figures say
        so with their quality, and an event and a log line say it once a shift."""
        o = self.cfg.oee
        if o is None or not performance_impossible(self._tally.parts, self._tally.run_ms,
                                                   o.ideal_rate_per_min):
            return False
        if not self._oee_warned:
            self._oee_warned = True
            rate = self._tally.parts / (self._tally.run_ms / 60_000)
            why = (f"OEE performance above 1: {self._tally.parts} parts in "
                   f"{self._tally.run_ms / 60_000:.1f} min of run time is {rate:.1f}/min, "
                   f"more than oee.ideal_rate_per_min = {o.ideal_rate_per_min:g}; the ideal "
                   "rate is too low (the ideal cycle time too long)")
            log.warning("device %s: %s", self.name, why)
            self._context().event(Event(now, "config_error", {"device": self.name, "reason": why}))
        return True

    # -- emitting ----------------------------------------------------------------------------
    def _emit_periodic(self, now: int) -> None:
        figures = self._oee_figures(now) if self.cfg.oee is not None else {}
        impossible = self._performance_impossible(now)
        for p in self.cfg.points:
            if p.role in OEE_ROLES:
                bad = impossible and p.role in ("performance", "oee")
                self._out.append(_figure(p, now, figures[p.role],
                                         Quality.BAD_CONFIG if bad else None))
            else:
                self._out.append(Reading(p.alias, now, self._value(p, now)))

    def _value(self, p: GpioPoint, now: int) -> float | int | bool:
        state = self._inputs[str(p.input)]
        if p.role == "state":
            return _typed(state.debouncer.level, p.type)
        if p.role == "counter":
            return _typed(state.count, p.type)
        if p.role == "rate":
            return state.rates[p.alias].per_s(now) / p.pulses_per_unit * PER_S[p.per]
        return state.run.total_ms / MS_PER_HOUR

    # -- totals that survive restarts ----------------------------------------------------------
    def _load(self) -> dict[str, Any]:
        try:
            data = json.loads(self.state_path.read_text())
            return data if isinstance(data, dict) else {}
        except FileNotFoundError:
            return {}
        except (OSError, ValueError) as e:
            fields = {"device": self.name, "path": str(self.state_path), "error": str(e)}
            ctx = self._context()
            ctx.event(Event(ctx.clock_ms(), "state_lost", fields))
            return {}

    def _persist(self, now: int) -> None:
        data: dict[str, Any] = {"inputs": {n: s.saved() for n, s in self._inputs.items()}}
        if self.cfg.oee is not None:
            self._tally.run_ms = self._oee_run.total_ms
            data["oee"] = self._tally.to_dict()
        self._persisted_ms = now  # a failed write is retried after the next interval too
        try:
            _write_atomic(self.state_path, json.dumps(data, sort_keys=True))
        except OSError as e:
            self.counters["write_errors"] += 1
            if not self.state_error:  # once per spell of failures, not once per interval
                self.state_error = f"{self.state_path}: {e.strerror or e}"
                self._context().event(Event(now, "state_write_failed", {
                    "device": self.name, "path": str(self.state_path), "error": self.state_error}))
            return
        if self.state_error:
            self.state_error = ""
            self._context().event(Event(now, "state_written", {
                "device": self.name, "path": str(self.state_path)}))
        self.counters["writes"] += 1
        self._dirty = False


def _typed(value: float | int | bool, type_: str) -> float | int | bool:
    return bool(value) if type_ == "bool" else int(value) if type_ == "int" else float(value)


def _figure(p: GpioPoint, ts: int, value: float | None, quality: Quality | None = None
            ) -> Reading:
    """An OEE figure; one not defined yet (no run time, no parts) is None and uncertain; a
    performance above 1 keeps its value with the quality bad_config."""
    if value is None:
        return Reading(p.alias, ts, None, Quality.UNCERTAIN)
    return Reading(p.alias, ts, value, quality if quality is not None else Quality.GOOD)


def _write_atomic(path: Path, text: str) -> None:
    """Write then rename, so a power cut leaves the old file or the new one, never half."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def build(cfg: Config, ctx: SourceContext | None) -> GpioDevice:
    return GpioDevice(cfg, buses_of(ctx), ctx)
