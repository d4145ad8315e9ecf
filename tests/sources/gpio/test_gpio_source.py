"""GPIO source on gpiozero's MockFactory with an injected clock: states, totals, rates, OEE."""

from __future__ import annotations

import contextlib
import json
import re
import subprocess
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from gpiozero.pins.mock import MockFactory, MockPin

from gatewayd.errors import CommError, ConfigError
from gatewayd.model import Event, Quality, Reading
from gatewayd.runner import Runner
from gatewayd.sources.base import EventDevice, SourceContext
from gatewayd.sources.gpio.config import Config
from gatewayd.sources.gpio.source import GpioDevice, build
from gatewayd.testing.clock import ManualClock

HOUR = 3_600_000
SHIFT_START = int(datetime(2024, 3, 1, 6, tzinfo=UTC).timestamp() * 1000)

CFG: dict[str, Any] = {
    "kind": "gpio", "name": "press", "period_ms": 3_600_000, "persist_interval_ms": 60_000,
    "inputs": [
        {"name": "running", "pin": 17, "debounce_ms": 100},
        {"name": "door", "pin": 27, "pull": "up", "debounce_ms": 50},
        {"name": "parts", "pin": 22, "debounce_ms": 5},
        {"name": "rejects", "pin": 23, "debounce_ms": 5},
        {"name": "flow", "pin": "GPIO24", "debounce_ms": 0},
    ],
    "oee": {"running": "running", "parts": "parts", "rejects": "rejects",
            "ideal_rate_per_min": 2.0, "shifts": ["06:00", "14:00", "22:00"], "timezone": "UTC"},
    "points": [
        {"alias": 1, "name": "running", "role": "state", "input": "running"},
        {"alias": 2, "name": "door_open", "role": "state", "input": "door"},
        {"alias": 3, "name": "parts", "role": "counter", "input": "parts"},
        {"alias": 4, "name": "rejects", "role": "counter", "input": "rejects"},
        {"alias": 5, "name": "flow", "role": "rate", "input": "flow", "pulses_per_unit": 450,
         "per": "min", "window_ms": 10_000},
        {"alias": 6, "name": "run_hours", "role": "run_hours", "input": "running"},
        {"alias": 7, "name": "availability", "role": "availability"},
        {"alias": 8, "name": "performance", "role": "performance"},
        {"alias": 9, "name": "quality", "role": "quality"},
        {"alias": 10, "name": "oee", "role": "oee"},
    ],
}




class Rig:
    """A device on a mock pin factory, with its clock and everything it emitted."""

    def __init__(self, tmp_path: Path, factory: MockFactory, clock: ManualClock, **change: Any) -> None:
        self.factory, self.clock = factory, clock
        self.readings: list[Reading] = []
        self.events: list[Event] = []
        self.ctx = SourceContext(self.readings.append, self.events.append, tmp_path, clock,
                                 {"gpio_pin_factory": factory})
        self.device = build(Config.load({**CFG, **change}), self.ctx)

    def __enter__(self) -> Rig:
        self.device.start(self.ctx)
        return self

    def __exit__(self, *exc: object) -> None:
        self.device.stop()

    def pin(self, number: int) -> MockPin:
        return self.factory.pin(number)  # type: ignore[no-any-return]

    def pulse(self, number: int, at_ms: int, width_ms: int = 20) -> None:
        self.clock.t = at_ms
        self.pin(number).drive_high()
        self.clock.t = at_ms + width_ms
        self.pin(number).drive_low()

    def latest(self, alias: int) -> Reading:
        self.device.tick()
        return [r for r in self.readings if r.alias == alias][-1]


@pytest.fixture
def factory() -> Iterator[MockFactory]:
    f = MockFactory()
    yield f
    f.reset()
    f.close()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(SHIFT_START)


def test_state_and_counter_points_default_to_bool_and_int() -> None:
    """A point's type follows its role unless the config writes one."""
    types = {p.name: p.type for p in Config.load(CFG).points}
    assert (types["running"], types["parts"], types["flow"], types["oee"]) == (
        "bool", "int", "float", "float")


@pytest.mark.parametrize(("change", "message"), [
    ({"inputs": []}, "inputs: found an array, expected at least 1 item"),
    ({"inputs": [*CFG["inputs"], {"name": "door", "pin": 5}]}, "input names unique"),
    ({"points": [{"alias": 1, "name": "x", "role": "counter", "input": "nope"}]},
     "unknown ['nope']"),
    ({"oee": None, "points": [{"alias": 1, "name": "oee", "role": "oee"}]}, "an [oee] table"),
    ({"points": [{"alias": 1, "name": "oee", "role": "oee", "input": "running"}]},
     "none for OEE"),
    ({"oee": {**CFG["oee"], "shifts": ["6 am"]}},
     "oee.shifts: found an array, expected shift start times like '06:00'"),
    ({"oee": {**CFG["oee"], "shifts": ["06:00", "06:00:00"]}}, "distinct shift start times"),
])
def test_config_errors_say_what_is_expected(change: dict[str, Any], message: str) -> None:
    """Each rule of the GPIO tables refuses the config with what it expected."""
    raw = {k: v for k, v in {**CFG, **change}.items() if v is not None}
    with pytest.raises(ConfigError, match=re.escape(message)):
        Config.load(raw)


def test_is_an_event_device(tmp_path: Path, factory: MockFactory, clock: ManualClock) -> None:
    """The gpio device follows the EventDevice shape."""
    assert isinstance(Rig(tmp_path, factory, clock).device, EventDevice)


def test_state_debounce(tmp_path: Path, factory: MockFactory, clock: ManualClock) -> None:
    """A bouncing contact gives one state change, dated when the level began to hold."""
    with Rig(tmp_path, factory, clock) as rig:
        t0 = clock.t
        for offset, high in ((0, True), (30, False), (60, True), (70, False), (80, True)):
            clock.t = t0 + offset
            (rig.pin(17).drive_high if high else rig.pin(17).drive_low)()
        clock.t = t0 + 500
        rig.device.tick()
        changes = [r for r in rig.readings if r.alias == 1 and r.ts_ms < clock.t]
        assert changes == [Reading(1, t0, False), Reading(1, t0 + 80, True)]
        assert rig.device.counters["edges"] == 5 and rig.device.counters["transitions"] == 1


def test_pull_up_input_is_active_low(tmp_path: Path, factory: MockFactory, clock: ManualClock) -> None:
    """A switch to ground on a pulled-up pin reads active (door open) when the pin is low."""
    with Rig(tmp_path, factory, clock) as rig:
        assert rig.latest(2).value is False
        rig.pin(27).drive_low()
        clock.t += 100
        assert rig.latest(2).value is True


def test_counters_survive_restart(tmp_path: Path, factory: MockFactory, clock: ManualClock) -> None:
    """Counter totals and run hours continue after a restart; writes stay rate-bounded."""
    with Rig(tmp_path, factory, clock) as rig:
        rig.pin(17).drive_high()
        for i in range(50):
            rig.pulse(22, SHIFT_START + 1000 + i * 100)
        rig.device.tick()
        assert rig.latest(3).value == 50
        assert rig.device.counters["writes"] == 0  # 6 s of fake time: no write yet
        clock.t = SHIFT_START + 2 * HOUR
        rig.device.tick()
        assert rig.device.counters["writes"] == 1
        rig.device.tick()
        assert rig.device.counters["writes"] == 1  # nothing changed: nothing written
    saved = json.loads((tmp_path / "gpio-press.json").read_text())
    assert saved["inputs"]["parts"]["count"] == 50
    with Rig(tmp_path, factory, clock) as rig:
        rig.pin(17).drive_high()
        for _ in range(7):
            rig.pulse(22, clock.t + 100)
        assert rig.latest(3).value == 57
        assert rig.latest(6).value == pytest.approx(2.0, abs=1e-3)


def test_pulse_rate(tmp_path: Path, factory: MockFactory, clock: ManualClock) -> None:
    """A flow meter's pulses give litres per minute over the configured window."""
    with Rig(tmp_path, factory, clock) as rig:
        start = clock.t
        for i in range(900):  # 900 pulses in 10 s at 450 pulses/l: 2 l in 10 s
            rig.pulse(24, start + 10 + i * 11, width_ms=5)
        clock.t = start + 10_000
        assert rig.latest(5).value == pytest.approx(12.0)
        clock.t = start + 30_000
        assert rig.latest(5).value == pytest.approx(0.0)


def test_run_hours(tmp_path: Path, factory: MockFactory, clock: ManualClock) -> None:
    """Run hours accrue only while the running signal is active."""
    with Rig(tmp_path, factory, clock) as rig:
        rig.pin(17).drive_high()
        clock.t += 3 * HOUR
        rig.pin(17).drive_low()
        clock.t += HOUR
        assert rig.latest(6).value == pytest.approx(3.0)


def test_oee_per_shift(tmp_path: Path, factory: MockFactory, clock: ManualClock) -> None:
    """Over a shift the OEE figures follow run time, parts and rejects, and roll at 14:00."""
    with Rig(tmp_path, factory, clock) as rig:
        assert rig.latest(8) == Reading(8, SHIFT_START, None, Quality.UNCERTAIN)
        rig.pin(17).drive_high()
        for i in range(540):  # one part every 40 s for 6 h, every tenth rejected
            rig.pulse(22, SHIFT_START + 1000 + i * 40_000)
            if i % 10 == 0:
                rig.pulse(23, clock.t + 10)
        clock.t = SHIFT_START + 6 * HOUR
        rig.pin(17).drive_low()
        clock.t = SHIFT_START + 8 * HOUR + 1000
        rig.device.tick()
        end = SHIFT_START + 8 * HOUR
        final = {r.alias: r.value for r in rig.readings if r.ts_ms == end}
        assert final == pytest.approx({7: 0.75, 8: 0.75, 9: 0.9, 10: 0.50625})
        (shift_end,) = [e for e in rig.events if e.kind == "shift_end"]
        assert shift_end.fields["parts"] == 540 and shift_end.fields["rejects"] == 54
        assert rig.latest(7).value == 0.0  # the new shift: a second in, nothing ran


def test_oee_tally_survives_restart(tmp_path: Path, factory: MockFactory, clock: ManualClock) -> None:
    """A restart within a shift keeps the shift's parts, rejects and run time."""
    with Rig(tmp_path, factory, clock) as rig:
        rig.pin(17).drive_high()
        for i in range(10):
            rig.pulse(22, SHIFT_START + 1000 + i * 1000)
        rig.pulse(23, clock.t + 10)
        clock.t = SHIFT_START + HOUR
    with Rig(tmp_path, factory, clock) as rig:
        clock.t = SHIFT_START + 2 * HOUR
        assert rig.latest(9).value == pytest.approx(0.9)
        assert rig.latest(7).value == pytest.approx(0.5)  # ran 1 h, down 1 h


def test_runner_ticks_it_and_stop_saves(tmp_path: Path, factory: MockFactory) -> None:
    """No thread of its own (issue 12): the device runner ticks it on the real clock, edges
    enqueued by the pin callbacks become counts on the tick, it emits every period, and the
    runner's stop closes the pins and saves the totals."""
    rig = Rig(tmp_path, factory, ManualClock(0), period_ms=100)
    rig.ctx.clock_ms = lambda: time.time_ns() // 1_000_000
    threads = {t.name for t in threading.enumerate()}
    runner = Runner("gpiochip0", [rig.device], rig.readings.extend, rig.events.append)
    runner.start()
    try:
        deadline = time.monotonic() + 5
        while not rig.readings:  # the runner has opened the pins
            assert time.monotonic() < deadline
            time.sleep(0.01)
        rig.pin(22).drive_high()
        time.sleep(0.01)  # longer than the 5 ms debounce
        rig.pin(22).drive_low()
        while len({r.ts_ms for r in rig.readings if r.alias == 3}) < 3:
            assert time.monotonic() < deadline
            time.sleep(0.02)
        assert {t.name for t in threading.enumerate()} - threads == {"bus gpiochip0"}
        assert runner.snapshot()[0]["up"] and runner.snapshot()[0]["edges"] == 2
    finally:
        runner.stop()
    assert [r.value for r in rig.readings if r.alias == 3][-1] == 1
    assert json.loads((tmp_path / "gpio-press.json").read_text())["inputs"]["parts"]["count"] == 1
    assert not factory.pin(22).when_changed  # the pins were let go


def test_unreadable_state_starts_over(tmp_path: Path, factory: MockFactory, clock: ManualClock) -> None:
    """A corrupt state file is reported as an event and the totals start from zero."""
    (tmp_path / "gpio-press.json").write_text("{not json")
    with Rig(tmp_path, factory, clock) as rig:
        assert [e.kind for e in rig.events] == ["state_lost"]
        assert rig.latest(3).value == 0


def test_bad_pin_names_the_device(tmp_path: Path, factory: MockFactory, clock: ManualClock) -> None:
    """A pin that does not exist is a CommError naming the device and pin; nothing leaks."""
    inputs = [*CFG["inputs"][:4], {"name": "flow", "pin": 99}]
    rig = Rig(tmp_path, factory, clock, inputs=inputs)
    with pytest.raises(CommError, match="press: pin 99"):
        rig.device.start(rig.ctx)
    assert isinstance(rig.device, GpioDevice)
    with Rig(tmp_path, factory, clock) as again:  # the pins opened before 99 were released
        assert again.latest(3).value == 0


@pytest.mark.parametrize("count_from, availability", [("gateway_start", 1.0),
                                                      ("shift_start", 0.2)])
def test_oee_counts_from_the_gateway_start(tmp_path: Path, factory: MockFactory,
                                           count_from: str, availability: float) -> None:
    """Started four hours into a shift, on a machine that then runs for an hour: the hours
    before the gateway existed are not downtime (availability 1, not 0.2), unless the config
    says the whole shift counts."""
    clock = ManualClock(SHIFT_START + 4 * HOUR)
    oee_cfg = {**CFG["oee"], "count_from": count_from}
    with Rig(tmp_path, factory, clock, oee=oee_cfg) as rig:
        rig.pin(17).drive_high()
        clock.t = SHIFT_START + 5 * HOUR
        assert rig.latest(7).value == pytest.approx(availability)
        assert rig.latest(7).quality == Quality.GOOD


def test_performance_above_one_is_a_config_error(tmp_path: Path, factory: MockFactory,
                                                 clock: ManualClock) -> None:
    """Three parts a minute against an ideal of two: performance 1.5 is impossible, so it and
    OEE carry bad_config, and one config_error event (and only one) says the ideal rate is
    too low; at exactly the ideal rate nothing is flagged."""
    with Rig(tmp_path, factory, clock) as rig:
        rig.pin(17).drive_high()
        for i in range(60):  # at the ideal rate: one part every 30 s
            rig.pulse(22, SHIFT_START + 1000 + i * 30_000)
        clock.t = SHIFT_START + 30 * 60_000 + 1000
        assert rig.latest(8).quality == Quality.GOOD
        for i in range(60):  # then one every 10 s
            rig.pulse(22, SHIFT_START + 31 * 60_000 + i * 10_000)
        clock.t = SHIFT_START + 41 * 60_000
        perf = rig.latest(8)
        assert perf.value == pytest.approx(120 / (2 * 41), rel=0.01)
        assert perf.quality == Quality.BAD_CONFIG and rig.latest(10).quality == Quality.BAD_CONFIG
        assert rig.latest(9).quality == Quality.GOOD
        rig.device.tick()
        (err,) = [e for e in rig.events if e.kind == "config_error"]
        assert "ideal_rate_per_min = 2" in err.fields["reason"]
        assert "too low" in err.fields["reason"] and err.fields["device"] == "press"


def test_full_disk_is_reported_not_silent(tmp_path: Path, factory: MockFactory,
                                          clock: ManualClock) -> None:
    """Totals that cannot be saved (a full tmpfs) are an event and a line in the runner's status;
    counting goes on, and the save is retried and reported once it works again."""
    where = tmp_path / "state"
    where.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(where)], check=True)
    try:
        rig = Rig(where, factory, clock)
        runner = Runner("gpiochip0", [rig.device], rig.readings.extend, rig.events.append)
        with rig:
            filler = where / "filler"
            with contextlib.suppress(OSError), filler.open("wb") as f:
                f.write(b"\0" * (1 << 20))  # the disk is now full
            rig.pulse(22, clock.t + 10)
            clock.t += 61_000
            rig.device.tick()
            failed = [e for e in rig.events if e.kind == "state_write_failed"]
            assert len(failed) == 1 and "No space left" in failed[0].fields["error"]
            assert runner.snapshot()[0]["state_error"].endswith("No space left on device")
            assert rig.latest(3).value == 1  # still counting
            clock.t += 61_000
            rig.device.tick()
            assert len([e for e in rig.events if e.kind == "state_write_failed"]) == 1  # once
            filler.unlink()
            clock.t += 61_000
            rig.device.tick()
            assert rig.events[-1].kind == "state_written"
            assert "state_error" not in runner.snapshot()[0]
    finally:
        subprocess.run(["umount", "-l", str(where)], check=True)
