"""The point stage against real sources: a pymodbus server, the ADS1115 model; the config
vocabulary (one spelling, old names kept); NaN, range, deadband, heartbeat and alarms."""

from __future__ import annotations

import time
from typing import Any

import pytest

from gatewayd.config import parse
from gatewayd.errors import ConfigError
from gatewayd.model import Event, Point, Quality, Reading
from gatewayd.points.stage import PointStage, transform_of
from gatewayd.runner import Runner
from gatewayd.sources.i2c.source import I2CSensor
from gatewayd.sources.modbus.decode import encode_value
from gatewayd.sources.modbus.source import ModbusDevice
from gatewayd.testing.ads1115 import ADS1115
from gatewayd.testing.clock import ManualClock
from gatewayd.testing.i2c import SimBus
from gatewayd.testing.modbus_server import ModbusSim, RegisterModel


def device(**raw: Any) -> Any:
    return parse({"gateway": {"id": "t"}, "devices": [raw]}).devices[0]


def modbus(port: int, *points: dict[str, Any]) -> Any:
    return device(kind="modbus", name="plc", port=port, period_ms=50, points=list(points))


@pytest.mark.parametrize(("kind", "extra", "old"), [
    ("modbus", {"register": 0}, "gain"), ("serial", {"field": "w"}, "gain"),
    ("iolink", {"port": 1, "index": 40}, "gradient"),
])
def test_old_scale_names_load_as_scale(kind: str, extra: dict[str, Any], old: str) -> None:
    """`gain` and `gradient` are the old names of every point's `scale`."""
    raw: dict[str, Any] = {"kind": kind, "name": "d"}
    if kind == "iolink":
        raw["ports"] = [{"port": 1, "iodd": "x.xml"}]
    if kind == "serial":
        raw.update(pattern="(?P<w>.*)", mode="free_running")
    point = {"alias": 1, "name": "p", **extra, old: 0.5, "offset": 2}
    cfg = device(**raw, points=[point])
    assert (cfg.points[0].scale, cfg.points[0].offset) == (0.5, 2)


def test_old_and_new_name_together_is_an_error_naming_the_new() -> None:
    """Both `gain` and `scale` on one point: a config error at `gain` that asks for `scale` alone."""
    with pytest.raises(ConfigError) as e:
        device(kind="modbus", name="d", points=[{"alias": 1, "name": "p", "register": 0,
                                                 "gain": 2, "scale": 3}])
    assert "expected `scale` alone" in str(e.value) and "devices[0].points[0].gain" in str(e.value)


def test_analog_max_silence_ms_is_heartbeat_s() -> None:
    """The analog loops' `max_silence_ms` loads as every point's `heartbeat_s`."""
    cfg = device(kind="analog", name="a", points=[{"alias": 1, "name": "p", "channel": 0,
                                                   "max_silence_ms": 2500}])
    assert cfg.points[0].heartbeat_s == 2.5


def test_modbus_points_scaled_checked_and_alarmed_by_the_runner() -> None:
    """Through the bus worker: a scaled int16, a NaN float32 (bad_data_invalid), an infinite
    one (bad_over_range), a value outside its valid range, and an H alarm as an event."""
    model = RegisterModel(holding=20)
    with ModbusSim({1: model}) as sim:
        model.set("holding", 0, [650])
        model.set("holding", 2, encode_value(float("nan"), "float32"))
        model.set("holding", 4, encode_value(float("inf"), "float32"))
        model.set("holding", 6, [900])
        cfg = modbus(sim.port,
                     {"alias": 1, "name": "t", "register": 0, "data_type": "int16",
                      "gain": 0.1, "offset": -40, "alarms": {"h": 20}},
                     {"alias": 2, "name": "f", "register": 2, "data_type": "float32"},
                     {"alias": 3, "name": "g", "register": 4, "data_type": "float32"},
                     {"alias": 4, "name": "r", "register": 6, "valid_max": 500})
        readings: list[Reading] = []
        events: list[Event] = []
        worker = Runner("plc", [ModbusDevice(cfg)], readings.extend, events.append)
        worker.start()
        try:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and len(readings) < 8:
                time.sleep(0.02)
        finally:
            worker.stop()
    first = {r.alias: (r.value, r.quality) for r in readings[:4]}
    assert first[1] == (pytest.approx(25.0), Quality.GOOD)
    assert first[2] == (None, Quality.BAD_DATA_INVALID)
    assert first[3] == (None, Quality.BAD_OVER_RANGE)
    assert first[4] == (None, Quality.BAD_OVER_RANGE)
    alarm = [e for e in events if e.kind == "alarm"]
    assert len(alarm) == 1 and alarm[0].fields["point"] == "t"
    assert (alarm[0].fields["level"], alarm[0].fields["state"]) == ("H", "active")


def test_4_20ma_on_a_modbus_module_point() -> None:
    """Any analog input can be a loop: a Modbus register in microamps with `scale = 0.001`
    and `loop_4_20ma` gets NE43 quality and its span."""
    model = RegisterModel(input=8)
    with ModbusSim({1: model}) as sim:
        model.set("input", 0, [12000, 2000, 20800])
        loop = {"low": 0.0, "high": 10.0}
        cfg = modbus(sim.port, *[{"alias": i + 1, "name": f"ai{i}", "register": i,
                                  "table": "input", "scale": 0.001, "loop_4_20ma": loop}
                                 for i in range(3)])
        dev = ModbusDevice(cfg)
        dev.open()
        try:
            got = [(r.value, r.quality) for r in PointStage.for_device(dev).process(dev.read(0))]
        finally:
            dev.close()
    assert got == [(pytest.approx(5.0), Quality.GOOD), (None, Quality.BAD_WIRE_BREAK),
                   (pytest.approx(10.5), Quality.UNCERTAIN_RANGE)]


def test_4_20ma_on_an_ads1115_channel() -> None:
    """An i2c ADS1115 channel across a 250 ohm shunt: volts * 4 is mA, then the loop."""
    clock = ManualClock()
    adc = ADS1115(clock)
    adc.set_input(0, 3.0)  # 12 mA across 250 ohm
    cfg = device(kind="i2c", name="adc", bus=1, chip="ads1115", address=0x48, points=[
        {"alias": 1, "name": "lvl", "channel": "ain0", "scale": 4.0,
         "loop_4_20ma": {"low": 0, "high": 2}}])
    dev = I2CSensor(cfg, SimBus({0x48: adc}), clock.sleep)
    dev.open()
    (r,) = PointStage.for_device(dev).process(dev.read(0))
    assert r.value == pytest.approx(1.0, abs=1e-3) and r.quality == Quality.GOOD


def stage(**keys: Any) -> PointStage:
    pc = device(kind="modbus", name="d", points=[{"alias": 1, "name": "p", "register": 0,
                                                  **keys}]).points[0]
    point = Point(1, "p", type=pc.type)
    return PointStage("d", [point], {1: transform_of(pc, point)})


def sent(st: PointStage, trace: list[tuple[int, float]]) -> list[int]:
    return [t for t, v in trace if st.process([Reading(1, t, v)])]


def test_deadband_absolute_with_heartbeat() -> None:
    """Only moves beyond 0.5 go out, and an unchanged value at least every 10 s."""
    trace = [(0, 10.0), (1000, 10.4), (2000, 10.6), (3000, 10.6), (13_000, 10.6), (14_000, 10.7)]
    assert sent(stage(deadband=0.5, heartbeat_s=10), trace) == [0, 2000, 13_000]


def test_deadband_percent_of_the_span() -> None:
    """deadband_pct is a percentage of the valid range's span (here 1 % of 0..200 = 2)."""
    trace = [(0, 100.0), (1, 101.5), (2, 102.5), (3, 101.0), (4, 99.0)]
    assert sent(stage(deadband_pct=1, valid_min=0, valid_max=200), trace) == [0, 2, 4]


def test_deadband_percent_of_the_last_value_without_a_span() -> None:
    """With no span, deadband_pct is a percentage of the last value sent."""
    trace = [(0, 1000.0), (1, 1009.0), (2, 1011.0), (3, 1020.0), (4, 1022.5)]
    assert sent(stage(deadband_pct=1), trace) == [0, 2, 4]


def test_no_heartbeat_holds_an_unchanged_value_back() -> None:
    """A deadband without a heartbeat sends an unchanged value once only; a quality change
    and a comeback from bad still go out."""
    st = stage(deadband=1)
    got = [st.process([r]) for r in [Reading(1, 0, 5), Reading(1, 1, 5), Reading(1, 2, None, 0x81),
                                     Reading(1, 3, None, 0x81), Reading(1, 4, 5)]]
    assert [len(g) for g in got] == [1, 0, 1, 0, 1]


def test_type_and_filter_from_config() -> None:
    """type = "int" rounds the scaled value; a mean filter averages scaled values."""
    st = stage(type="int", scale=0.5)
    assert st.process([Reading(1, 0, 5)]) == [Reading(1, 0, 2)]  # 2.5 rounds half to even
    st = stage(filter="mean", filter_n=2)
    assert [st.process([Reading(1, t, v)])[0].value for t, v in [(0, 1), (1, 3), (2, 5)]] == [
        1, 2, 4]


def test_untransformed_points_pass_through_with_the_finite_check() -> None:
    """A point asking for nothing costs no transform; only NaN/inf are replaced."""
    st = PointStage("d", [Point(1, "p")], {})
    assert st.process([Reading(1, 0, 7), Reading(1, 1, float("-inf"))]) == [
        Reading(1, 0, 7), Reading(1, 1, None, Quality.BAD_UNDER_RANGE)]


def test_a_cast_alone_takes_the_short_path_and_still_types() -> None:
    """A point asking only for its type is cast without a transform: int rounds a float (an
    int stays the same object), bool makes 0/1 a bool, NaN is still bad."""
    st = stage(type="int")
    assert st.transforms == {} and st.casts == {1: "int"}
    r = Reading(1, 0, 7)
    assert st.process([r])[0] is r
    assert st.process([Reading(1, 1, 6.6), Reading(1, 2, float("nan"))]) == [
        Reading(1, 1, 7), Reading(1, 2, None, Quality.BAD_DATA_INVALID)]
    assert stage(type="bool").process([Reading(1, 0, 1)]) == [Reading(1, 0, True)]
    assert type(stage(type="bool").process([Reading(1, 0, 1)])[0].value) is bool
