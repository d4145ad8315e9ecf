"""The analog source: 4-20 mA loops through the ADS1115 model across a shunt, and through a
real pymodbus server standing in for an analog input module."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from i2c_testing import Staged, make_ctx

from gatewayd.config import parse
from gatewayd.model import Event, Quality
from gatewayd.sources.analog.source import AnalogLoops, build
from gatewayd.testing.ads1115 import ADS1115
from gatewayd.testing.clock import ManualClock
from gatewayd.testing.i2c import SimBus
from gatewayd.testing.modbus_server import ModbusSim, RegisterModel
from gatewayd.testing.scenarios_i2c import Transmitter


def config(**kw: object) -> object:
    raw = {"kind": "analog", "name": "loops", "bus": 1, **kw}
    return parse({"gateway": {"id": "t"}, "devices": [raw]}).devices[0]


@pytest.fixture
def loops(clock: ManualClock) -> tuple[SimBus, list[Transmitter]]:
    adc = ADS1115(clock)
    level = {"m": 2.5}
    tx = [Transmitter(0.0, 5.0, lambda t: level["m"]), Transmitter(0.0, 250.0, lambda t: 62.5)]
    tx[0].level = level  # type: ignore[attr-defined]
    for pin, loop in enumerate(tx):
        adc.set_input(pin, loop.volts_across(150.0))
    return SimBus({0x48: adc}), tx


def make(tmp_path: Path, bus: SimBus, clock: ManualClock, events: list[Event],
         **kw: object) -> Staged:
    """The analog device, read through its point stage (the 4-20 mA transform)."""
    dev: AnalogLoops = build(config(**kw), make_ctx(tmp_path, bus, clock, events))  # type: ignore[arg-type]
    dev.open()
    return Staged(dev, events)


POINTS = [{"alias": 1, "name": "level", "unit": "m", "channel": 0, "low": 0.0, "high": 5.0},
          {"alias": 2, "name": "flow", "unit": "m³/h", "channel": 1, "low": 0.0, "high": 40.0,
           "sqrt": True}]


def test_loops_scaled_through_the_adc(tmp_path: Path, clock: ManualClock,
                                      loops: tuple[SimBus, list[Transmitter]]) -> None:
    """12 mA across 150 ohm reads as mid-scale; a quarter of the dp span is half the flow."""
    bus, _ = loops
    dev = make(tmp_path, bus, clock, [], points=POINTS)
    level, flow = dev.read(1000)
    assert level.value == pytest.approx(2.5, abs=0.001) and level.quality == Quality.GOOD
    assert flow.value == pytest.approx(20.0, abs=0.01)


def test_wire_break_is_bad_wire_break(tmp_path: Path, clock: ManualClock,
                                      loops: tuple[SimBus, list[Transmitter]]) -> None:
    """A broken loop (0 mA) gives bad_wire_break with no value; the other loop stays good;
    a sensor driving 21.5 mA is bad_sensor_fault."""
    bus, tx = loops
    dev = make(tmp_path, bus, clock, [], points=POINTS)
    tx[0].fault = 0.0
    tx[1].fault = 21.5
    level, flow = dev.read(1000)
    assert (level.value, level.quality) == (None, Quality.BAD_WIRE_BREAK)
    assert (flow.value, flow.quality) == (None, Quality.BAD_SENSOR_FAULT)
    tx[1].fault = None
    assert dev.read(2000)[1].quality == Quality.GOOD


def test_alarms_published_as_events(tmp_path: Path, clock: ManualClock,
                                    loops: tuple[SimBus, list[Transmitter]]) -> None:
    """HH/H with hysteresis and delay raise and clear as `alarm` events naming the point."""
    bus, tx = loops
    events: list[Event] = []
    alarm = {"hh": 4.8, "h": 4.5, "hysteresis": 0.1, "delay_ms": 1500}
    dev = make(tmp_path, bus, clock, events, points=[{**POINTS[0], "alarms": alarm}])
    level = tx[0].level  # type: ignore[attr-defined]
    for t, metres in enumerate([4.0, 4.6, 4.6, 4.6, 4.45, 4.45, 4.3, 4.3, 4.3]):
        level["m"] = metres
        dev.read(t * 1000)
    got = [(e.ts_ms, e.fields["level"], e.fields["state"]) for e in events]
    assert got == [(3000, "H", "active"), (8000, "H", "cleared")]
    assert events[0].kind == "alarm" and events[0].fields["point"] == "level"
    assert events[0].fields["limit"] == 4.5 and events[0].fields["unit"] == "m"


def test_report_by_exception_through_the_source(tmp_path: Path, clock: ManualClock,
                                                loops: tuple[SimBus, list[Transmitter]]) -> None:
    """Only moves beyond the deadband, or the end of max silence, produce readings."""
    bus, tx = loops
    dev = make(tmp_path, bus, clock, [],
               points=[{**POINTS[0], "deadband": 0.05, "max_silence_ms": 5000}])
    level = tx[0].level  # type: ignore[attr-defined]
    emitted = []
    for t, metres in enumerate([2.0, 2.02, 2.04, 2.1, 2.1, 2.1, 2.1, 2.1, 2.1]):
        level["m"] = metres
        emitted += [(t, round(r.value or 0, 2)) for r in dev.read(t * 1000)]
    assert emitted == [(0, 2.0), (3, 2.1), (8, 2.1)]


def test_profile_fills_device_and_points(tmp_path: Path, clock: ManualClock,
                                         loops: tuple[SimBus, list[Transmitter]]) -> None:
    """profile = "transmitter_4_20ma" gives the shunt, range and a median of 3 to each point."""
    bus, _ = loops
    dev = make(tmp_path, bus, clock, [], profile="transmitter_4_20ma", points=POINTS[:1])
    assert (dev.cfg.shunt_ohms, dev.cfg.full_scale_v, dev.cfg.data_rate_sps) == (150.0, 4.096, 250)
    assert (dev.cfg.points[0].filter, dev.cfg.points[0].filter_n) == ("median", 3)
    assert dev.read(0)[0].value == pytest.approx(2.5, abs=0.001)


@pytest.fixture
def module() -> Iterator[ModbusSim]:
    sim = ModbusSim({1: RegisterModel(input=16), 2: RegisterModel(input=16)}).start()
    yield sim
    sim.stop()


def test_modbus_module_in_microamps(tmp_path: Path, clock: ManualClock, module: ModbusSim) -> None:
    """Input registers in uA: 12000 -> 12 mA -> mid-scale; 2000 uA -> wire break."""
    module.model(1).set("input", 4, [12000, 2000, 20000])
    dev = make(tmp_path, SimBus(), clock, [], input="modbus", port=module.port, encoding="ua",
               points=[{"alias": i + 1, "name": f"ai{i}", "register": 4 + i, "high": 16.0}
                       for i in range(3)])
    try:
        got = [(r.value, r.quality) for r in dev.read(0)]
    finally:
        dev.close()
        dev.buses.close()  # the context's buses, as the supervisor closes its own
    assert got == [(8.0, Quality.GOOD), (None, Quality.BAD_WIRE_BREAK), (16.0, Quality.GOOD)]


def test_modbus_module_in_counts(tmp_path: Path, clock: ManualClock, module: ModbusSim) -> None:
    """Counts 0..27648 for 4..20 mA, signed: a negative count is below 4 mA."""
    module.model(2).set("input", 0, [13824, (-4838) & 0xFFFF])
    dev = make(tmp_path, SimBus(), clock, [], input="modbus", port=module.port, unit=2,
               encoding="counts", points=[{"alias": 1, "name": "a", "register": 0},
                                          {"alias": 2, "name": "b", "register": 1}])
    try:
        a, b = dev.read(0)
    finally:
        dev.close()
        dev.buses.close()  # the context's buses, as the supervisor closes its own
    assert a.value == pytest.approx(50.0) and b.quality == Quality.BAD_WIRE_BREAK


def test_modbus_exception_is_bad_device_exception(tmp_path: Path, clock: ManualClock,
                                                   module: ModbusSim) -> None:
    """An exception response makes the refused request's loops bad_device_exception, as for
    any Modbus device (the module is read by the Modbus source); the link stays up."""
    module.fault(1, "illegal_address")
    dev = make(tmp_path, SimBus(), clock, [], input="modbus", port=module.port,
               points=[{"alias": 1, "name": "a", "register": 0}])
    try:
        assert [(r.value, r.quality) for r in dev.read(0)] == [
            (None, Quality.BAD_DEVICE_EXCEPTION)]
        assert dev.counters["bad_device_exception"] == 1
        module.fault(1, None)
        module.model(1).set("input", 0, [12000])
        assert dev.read(1000)[0].quality == Quality.GOOD
    finally:
        dev.close()


def test_module_registers_coalesced_by_the_modbus_source(tmp_path: Path, clock: ManualClock,
                                                         module: ModbusSim) -> None:
    """Loops on registers 0, 3 and 9 are one request, planned by the Modbus source."""
    module.model(1).set("input", 0, [12000] * 10)
    dev = make(tmp_path, SimBus(), clock, [], input="modbus", port=module.port,
               points=[{"alias": i + 1, "name": f"ai{r}", "register": r, "high": 16.0}
                       for i, r in enumerate((0, 3, 9))])
    try:
        assert [r.value for r in dev.read(0)] == [8.0, 8.0, 8.0]
        assert dev.counters["requests"] == 1
    finally:
        dev.close()
        dev.buses.close()  # the context's buses, as the supervisor closes its own
