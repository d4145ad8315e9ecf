"""The i2c source against the simulated chips through its real drivers and bus layer."""

from __future__ import annotations

import errno
import re
import threading
import time
from pathlib import Path

import pytest
from i2c_testing import Staged, make_ctx

from gatewayd.buses import Buses
from gatewayd.buses.backend import select as select_backend
from gatewayd.buses.i2c import I2CDevice, open_bus
from gatewayd.config import load, parse
from gatewayd.errors import CommError, ConfigError, DeviceError
from gatewayd.model import Event, Quality, Reading
from gatewayd.runner import Runner
from gatewayd.sources.i2c.source import I2CSensor, build
from gatewayd.testing.ads1115 import ADS1115
from gatewayd.testing.bme280 import BME280
from gatewayd.testing.clock import ManualClock
from gatewayd.testing.i2c import SimBus

FOLDER = Path(__file__).resolve().parents[3] / "gatewayd" / "sources"


def device(bus: int = 1, **kw: object) -> dict[str, object]:
    return {"kind": "i2c", "bus": bus, **kw}


def sensor(raw: dict[str, object], bus: SimBus, clock: ManualClock | None = None,
           buses: Buses | None = None) -> I2CSensor:
    cfg = parse({"gateway": {"id": "t"}, "devices": [raw]}).devices[0]
    return I2CSensor(cfg, bus, clock.sleep if clock else time.sleep, buses)


ENV_POINTS = [{"alias": 1, "name": "t", "measurand": "temperature"},
              {"alias": 2, "name": "p", "measurand": "pressure", "scale": 0.01},
              {"alias": 3, "name": "h", "measurand": "humidity"}]
ADC_POINTS = [{"alias": 10 + i, "name": f"ain{i}", "channel": f"ain{i}"} for i in range(4)]


@pytest.fixture
def bus(clock: ManualClock) -> SimBus:
    adc, env = ADS1115(clock), BME280(clock)
    for pin, volts in enumerate((0.5, 1.0, 2.5, 5.0)):
        adc.set_input(pin, volts)
    env.temperature_c, env.pressure_pa, env.humidity_pct = 22.5, 95000.0, 33.0
    return SimBus({0x48: adc, 0x76: env})


@pytest.mark.parametrize("compensation", ["integer", "float"])
@pytest.mark.parametrize("mode", ["forced", "normal"])
def test_bme280_readings(bus: SimBus, clock: ManualClock, compensation: str, mode: str) -> None:
    """The BME280 driver reads calibration, measures and compensates to the set values."""
    s = sensor(device(name="env", chip="bme280", compensation=compensation, mode=mode,
                      oversampling_pressure=16, points=ENV_POINTS), bus, clock)
    s.open()
    clock.sleep(1.1)  # normal mode: a cycle has run
    values = [r.value for r in Staged(s).read(5)]  # the point stage applies `scale`
    assert values == [pytest.approx(22.5, abs=0.05), pytest.approx(950.0, abs=0.01),
                      pytest.approx(33.0, abs=0.05)]


def test_ads1115_single_shot_per_channel(bus: SimBus, clock: ManualClock) -> None:
    """Each point is one single-shot conversion; 5 V on a 4.096 V range is over range."""
    s = sensor(device(name="adc", chip="ads1115", data_rate_sps=8, points=ADC_POINTS), bus, clock)
    s.open()
    before = clock()
    got = s.read(7)
    assert [r.value for r in got[:3]] == [pytest.approx(v, abs=1.25e-4) for v in (0.5, 1.0, 2.5)]
    assert got[3] == Reading(13, 7, None, Quality.BAD_OVER_RANGE)
    assert clock() - before >= 4 / 8  # four conversions at 8 SPS


def test_ads1115_continuous_reads_latest(bus: SimBus, clock: ManualClock) -> None:
    """With continuous = true the poll only reads the conversion register."""
    s = sensor(device(name="adc", chip="ads1115", continuous=True, data_rate_sps=860,
                      points=[{**ADC_POINTS[1], "full_scale_v": 2.048, "scale": 2.0}]), bus, clock)
    s.open()
    adc = bus.chips[0x48]
    assert isinstance(adc, ADS1115)
    adc.set_input(1, 1.5)
    clock.sleep(0.01)
    assert Staged(s).read(1)[0].value == pytest.approx(3.0, abs=1e-3)


def test_nack_makes_only_that_device_bad(bus: SimBus) -> None:
    """A NACKing ADS1115 gives bad_comm for its points while the BME280 on the same bus, polled
    by the same bus worker, keeps reading good values."""
    devices = [sensor(device(name="adc", chip="ads1115", data_rate_sps=860, period_ms=20,
                             points=ADC_POINTS[:2]), bus),
               sensor(device(name="env", chip="bme280", period_ms=20, points=ENV_POINTS), bus)]
    for chip in bus.chips.values():
        chip.clock = time.monotonic  # type: ignore[attr-defined]
    bus.fail(0x48)
    readings: list[Reading] = []
    events: list[Event] = []
    worker = Runner("i2c-1", devices, readings.extend, events.append)
    worker.start()
    time.sleep(0.4)
    worker.stop()
    adc = [r for r in readings if r.alias in (10, 11)]
    env = [r for r in readings if r.alias in (1, 2, 3)]
    assert adc and all(r.quality == Quality.BAD_COMM and r.value is None for r in adc)
    assert len(env) >= 15 and all(r.quality == Quality.GOOD for r in env)
    down = [e for e in events if e.kind == "device_down"]
    assert [e.fields["device"] for e in down] == ["adc"]
    assert down[0].fields["reason"].startswith("ads1115 0x48 on i2c-1: NACK")


def test_wrong_chip_id_is_bad_wrong_device(bus: SimBus, clock: ManualClock) -> None:
    """A chip at the BME280 address that is not one (BMP280 id 0x58) is refused at open."""
    bus.attach(0x77, BME280(clock, chip_id=0x58))
    s = sensor(device(name="env", chip="bme280", address=0x77, points=ENV_POINTS), bus, clock)
    with pytest.raises(DeviceError, match=r"bme280 0x77 on i2c-1: chip id 0x58") as e:
        s.open()
    assert e.value.quality == Quality.BAD_WRONG_DEVICE


class StuckChip:
    """A chip whose adapter reports a bus timeout (clock stretching gone wrong)."""

    def read(self, reg: int, n: int) -> bytes:
        raise OSError(errno.ETIMEDOUT, "Connection timed out")

    def write(self, reg: int, data: bytes) -> None:
        raise OSError(errno.ETIMEDOUT, "Connection timed out")


def test_bus_timeout_is_bad_timeout(bus: SimBus) -> None:
    """ETIMEDOUT becomes CommError with bad_timeout naming chip, address and bus."""
    bus.attach(0x49, StuckChip())
    s = sensor(device(name="adc2", chip="ads1115", address=0x49, points=ADC_POINTS[:1]), bus)
    with pytest.raises(CommError, match=r"ads1115 0x49 on i2c-1: bus timeout") as e:
        s.open()
    assert e.value.quality == Quality.BAD_TIMEOUT


class LoggingBus(SimBus):
    """A SimBus that records which address each transaction went to."""

    def __init__(self, chips: dict[int, object]) -> None:
        super().__init__(chips)  # type: ignore[arg-type]
        self.log: list[tuple[int, str, int]] = []

    def read_i2c_block_data(self, i2c_addr: int, register: int, length: int,
                            force: bool | None = None) -> list[int]:
        self.log.append((i2c_addr, "r", register))
        return super().read_i2c_block_data(i2c_addr, register, length)

    def write_i2c_block_data(self, i2c_addr: int, register: int, data: list[int],
                             force: bool | None = None) -> None:
        self.log.append((i2c_addr, "w", register))
        super().write_i2c_block_data(i2c_addr, register, data)


def test_bus_lock_keeps_a_conversion_whole() -> None:
    """Two threads on one bus: no BME280 transaction lands between an ADS1115 config write and
    its result read, because both devices hold the one lock of the bus."""
    bus = LoggingBus({0x48: ADS1115(), 0x76: BME280()})
    buses = Buses()  # the supervisor's registry: one I2CBus, one lock, for bus 3
    adc = sensor(device(bus=3, name="adc", chip="ads1115", data_rate_sps=475,
                        points=ADC_POINTS[:1]), bus, buses=buses)
    env = sensor(device(bus=3, name="env", chip="bme280", mode="normal",
                        standby_ms=0.5, points=ENV_POINTS[:1]), bus, buses=buses)
    assert adc.bus is env.bus
    adc.open()
    env.open()
    stop = threading.Event()

    def hammer() -> None:
        while not stop.is_set():
            env.read(0)

    t = threading.Thread(target=hammer, name="hammer")
    t.start()
    try:
        for _ in range(20):
            adc.read(0)
    finally:
        stop.set()
        t.join()
    log = bus.log
    starts = [i for i, e in enumerate(log) if e == (0x48, "w", 1)]
    assert len(starts) == 20 and any(a == 0x76 for a, _, _ in log)
    for i in starts:
        end = log.index((0x48, "r", 0), i)
        assert {a for a, _, _ in log[i:end + 1]} == {0x48}


def test_simulated_world_buses() -> None:
    """The "demo" world's bus 1 is one shared bus with an ADS1115 and a BME280; a bus the world
    lacks is missing as /dev/i2c-N would be; unknown worlds are refused, naming the worlds."""
    world = select_backend("demo")
    demo = open_bus(1, world)
    assert open_bus(1, world) is demo
    assert I2CDevice(demo, 1, 0x76, "bme280").read(0xD0, 1) == b"\x60"
    with pytest.raises(CommError, match="i2c-7: cannot open /dev/i2c-7"):
        open_bus(7, world)
    with pytest.raises(ValueError, match="no simulated world 'nope': one of demo"):
        select_backend("nope")
    world.close()


def test_config_cannot_name_a_simulator() -> None:
    """The device schema has no `sim:`: a simulated bus is chosen for the process, not the config."""
    with pytest.raises(ConfigError, match="bus"):
        parse({"gateway": {"id": "t"}, "devices": [device(bus="sim:demo", name="env",  # type: ignore[arg-type]
                                                          chip="bme280", points=ENV_POINTS)]})
    with pytest.raises(ConfigError, match="pin_factory"):
        parse({"gateway": {"id": "t"}, "devices": [{
            "kind": "gpio", "name": "g", "pin_factory": "sim:lathe",
            "inputs": [{"name": "run", "pin": 17}]}]})


def test_open_missing_bus_names_the_device_file() -> None:
    """A bus number without /dev/i2c-N is a CommError naming the file (smbus2 really tried)."""
    with pytest.raises(CommError, match=r"i2c-250: cannot open /dev/i2c-250"):
        open_bus(250)


def test_build_takes_bus_and_sleep_from_context(tmp_path: Path, bus: SimBus,
                                                clock: ManualClock) -> None:
    """build(cfg, ctx) uses ctx.extras["i2c_bus"] and ["sleep"] and follows PolledDevice."""
    cfg = parse({"gateway": {"id": "t"}, "devices": [
        device(name="env", chip="bme280", points=ENV_POINTS)]}).devices[0]
    dev = build(cfg, make_ctx(tmp_path, bus, clock, []))
    names = [p.name for p in dev.points]
    assert (dev.bus_key, dev.period_s, names) == ("i2c-1", 1.0, ["t", "p", "h"])
    assert dev.read(3)[0].value == pytest.approx(22.5, abs=0.05)
    dev.close()


@pytest.mark.parametrize("kind", ["i2c", "analog"])
def test_sample_validates_and_readme_embeds_it(kind: str) -> None:
    """sample.toml is a valid config and README.md shows it verbatim."""
    sample = FOLDER / kind / "sample.toml"
    assert load(sample).devices
    assert f"```toml\n{sample.read_text()}```" in (FOLDER / kind / "README.md").read_text()


@pytest.mark.parametrize(("raw", "message"), [
    (device(name="x", chip="bme280", points=[{"alias": 1, "name": "a", "channel": "ain0"}]),
     "every point of a bme280 to give its measurand"),
    (device(name="x", chip="ads1115", data_rate_sps=100, points=[]), "an ADS1115 data rate"),
    (device(name="x", chip="ads1115", points=[{**ADC_POINTS[0], "full_scale_v": 3.3}]),
     "devices[0].points[0].full_scale_v: found 3.3, expected an ADS1115 full-scale range"),
    (device(name="x", profile="bme281"), "devices[0].profile: found 'bme281', expected a profile"),
    (device(bus="/dev/i2c-1", name="x", chip="bme280"), "expected a bus number"),
    (device(name="x", chip="bme280", oversampling_humidity=0, points=ENV_POINTS),
     "oversampling_humidity > 0 for point h"),
    (device(name="x", chip="bme280", standby_ms=100),
     "devices[0].standby_ms: found 100, expected a BME280 standby time in ms"),
    (device(name="x", chip="ads1115", continuous=True, points=ADC_POINTS[:2]),
     "one channel and range with continuous = true"),
    (device(bus=-1, name="x", chip="bme280"), "devices[0].bus: found -1, expected a bus number"),
])
def test_config_errors_read_after_expected(raw: dict[str, object], message: str) -> None:
    """Config mistakes are refused with a message naming what was expected."""
    with pytest.raises(ConfigError, match=re.escape(message)):
        parse({"gateway": {"id": "t"}, "devices": [raw]})
