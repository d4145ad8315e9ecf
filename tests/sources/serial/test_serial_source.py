"""Serial sources over pty pairs against the simulated instruments, faults included."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gatewayd.buses import Buses
from gatewayd.buses.serial import Backoff
from gatewayd.errors import BusConflict, CommError, DeviceError, ProtocolError
from gatewayd.model import Quality, Reading
from gatewayd.points.stage import PointStage
from gatewayd.sources.serial.config import Config
from gatewayd.sources.serial.source import SerialDevice
from gatewayd.testing.serial_instruments import BinaryMeter, PollSensor, Scale, SerialSim

SCALE_CFG = {
    "kind": "serial", "name": "scale-1", "mode": "free_running", "timeout_ms": 300,
    "pattern": r"^(?P<status>ST|US),GS,(?P<weight>[-+]\d+\.\d+) kg$",
    "uncertain_if": {"status": ["US"]}, "reopen_min_ms": 100, "reopen_max_ms": 400,
    "points": [{"alias": 1, "name": "scale.weight", "field": "weight", "unit": "kg"}],
}
PROBE_CFG = {
    "kind": "serial", "name": "probe", "command": "?T\r", "terminator": "\r",
    "pattern": r"^T=(?P<t>[-+]?\d+\.\d+)$", "checksum": "xor8", "timeout_ms": 200,
    "points": [{"alias": 2, "name": "probe.t", "field": "t"}],
}
METER_CFG = {
    "kind": "serial", "name": "meter", "command": "\x05R", "format": "binary",
    "sync_hex": "AA55", "frame_bytes": 11, "checksum": "xor8", "timeout_ms": 200,
    "points": [
        {"alias": 3, "name": "m.t", "byte_offset": 2, "data_type": "int16", "gain": 0.1},
        {"alias": 4, "name": "m.p", "byte_offset": 4, "data_type": "uint16", "gain": 0.01},
        {"alias": 5, "name": "m.n", "byte_offset": 6, "data_type": "uint32", "type": "int"},
    ],
}


@pytest.fixture
def sim(tmp_path: Path) -> Iterator[SerialSim]:
    with SerialSim(tmp_path) as s:
        yield s


class Made(list[SerialDevice]):
    """The devices a test made, and the bus registry they share (as the supervisor's)."""

    def __init__(self) -> None:
        super().__init__()
        self.buses = Buses()


@pytest.fixture
def devices() -> Iterator[Made]:
    made = Made()
    yield made
    for d in made:
        d.close()
    made.buses.close()


def make(devices: list[SerialDevice], base: dict[str, Any], port: str, **change: Any
         ) -> SerialDevice:
    buses = devices.buses if isinstance(devices, Made) else None
    device = SerialDevice(Config.load({**base, "port": port, **change}), buses)
    device.open()
    devices.append(device)
    return device


def poll(device: SerialDevice) -> list[Reading] | DeviceError:
    """One poll through the point stage (scale, offset, type), as the runner does it."""
    try:
        return PointStage.for_device(device).process(device.read(1000))
    except DeviceError as e:
        return e


def test_free_running_scale(sim: SerialSim, devices: list[SerialDevice]) -> None:
    """A free-running scale gives its newest weight, good while stable, uncertain while not."""
    scale = Scale(weight=12.34)
    dev = make(devices, SCALE_CFG, sim.add("scale", scale).path)
    assert poll(dev) == [Reading(1, 1000, pytest.approx(12.34), Quality.GOOD)]
    scale.stable, scale.weight = False, -3.5
    time.sleep(0.1)
    assert poll(dev) == [Reading(1, 1000, pytest.approx(-3.5), Quality.UNCERTAIN)]
    assert dev.counters["good"] >= 2 and dev.counters["garbage"] == 0


def test_polled_sensor_with_checksum(sim: SerialSim, devices: list[SerialDevice]) -> None:
    """A polled sensor answers its command; the checksum is verified and stripped."""
    probe = PollSensor({"T": 23.45})
    dev = make(devices, PROBE_CFG, sim.add("probe", probe).path)
    for value in (23.45, -4.0):
        probe.values["T"] = value
        assert poll(dev) == [Reading(2, 1000, pytest.approx(value), Quality.GOOD)]
    assert dev.counters == {**dict.fromkeys(dev.counters, 0), "lines": 2, "good": 2}


@pytest.mark.parametrize(
    ("fault", "error", "quality", "counter"),
    [
        ("garbage", ProtocolError, Quality.BAD_MALFORMED, "garbage"),
        ("partial", ProtocolError, Quality.BAD_MALFORMED, "partial"),
        ("bad_checksum", ProtocolError, Quality.BAD_MALFORMED, "checksum"),
        ("silence", CommError, Quality.BAD_TIMEOUT, "silence"),
    ],
)
def test_polled_faults_counted(
    sim: SerialSim, devices: list[SerialDevice], fault: str, error: type, quality: Quality,
    counter: str,
) -> None:
    """Each fault of a polled sensor is counted, gives its bad quality, and heals."""
    probe = PollSensor({"T": 23.45})
    dev = make(devices, PROBE_CFG, sim.add("probe", probe).path)
    probe.fault = fault
    for _ in range(2):
        result = poll(dev)
        assert isinstance(result, error) and result.quality == quality
        assert "probe" in str(result)
    assert dev.counters[counter] == 2 and dev.counters["good"] == 0
    probe.fault = None
    assert poll(dev) == [Reading(2, 1000, pytest.approx(23.45), Quality.GOOD)]


@pytest.mark.parametrize(
    ("fault", "error", "counter"),
    [("garbage", ProtocolError, "garbage"), ("partial", ProtocolError, "partial"),
     ("silence", CommError, "silence")],
)
def test_free_running_faults_counted(
    sim: SerialSim, devices: list[SerialDevice], fault: str, error: type, counter: str
) -> None:
    """Garbage, partial lines and silence from a free-running scale are counted and bad."""
    scale = Scale()
    dev = make(devices, SCALE_CFG, sim.add("scale", scale).path)
    assert isinstance(poll(dev), list)
    scale.fault = fault
    time.sleep(0.1)
    poll(dev)  # may still hold good lines sent before the fault
    result = poll(dev)
    assert isinstance(result, error), result
    assert dev.counters[counter] >= 1


def test_unplug_and_replug(sim: SerialSim, devices: list[SerialDevice]) -> None:
    """An unplugged adapter gives bad_comm fast while backing off, then reopens when back."""
    port = sim.add("ttyUSB0", Scale())
    dev = make(devices, SCALE_CFG, port.path)
    assert isinstance(poll(dev), list)
    sim.unplug(port)
    first = poll(dev)
    assert isinstance(first, CommError) and first.quality == Quality.BAD_COMM
    started = time.monotonic()
    again = poll(dev)
    assert isinstance(again, CommError) and "next reopen" in str(again)
    assert time.monotonic() - started < 0.05  # no waiting on a missing port
    sim.replug(port)
    deadline = time.monotonic() + 3
    while isinstance(result := poll(dev), DeviceError) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert result == [Reading(1, 1000, pytest.approx(12.34), Quality.GOOD)]
    assert dev.line is not None and dev.line.opens == 2
    assert dev.counters["comm"] >= 1


def test_missing_port_refuses_open(tmp_path: Path) -> None:
    """Opening a device whose port does not exist raises a CommError naming it."""
    dev = SerialDevice(Config.load({**SCALE_CFG, "port": str(tmp_path / "none")}))
    with pytest.raises(CommError, match=r"scale-1: .*none"):
        dev.open()
    dev.close()


def test_shared_rs485_line(sim: SerialSim, devices: list[SerialDevice]) -> None:
    """Two addressed sensors on one line, polled from two threads, never mix their replies."""
    port = sim.add("rs485", PollSensor({"T": 11.0}, "01"), PollSensor({"T": 22.0}, "02"))
    a = make(devices, PROBE_CFG, port.path, command="01?T\r")
    b = make(devices, PROBE_CFG, port.path, name="probe2", command="02?T\r")
    assert a.line is b.line
    results: dict[str, list[Any]] = {"a": [], "b": []}

    def run(key: str, dev: SerialDevice) -> None:
        results[key] = [poll(dev) for _ in range(40)]

    threads = [threading.Thread(target=run, args=(k, d)) for k, d in (("a", a), ("b", b))]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [r[0].value for r in results["a"]] == [11.0] * 40
    assert [r[0].value for r in results["b"]] == [22.0] * 40


def test_shared_line_needs_same_framing(sim: SerialSim, devices: list[SerialDevice]) -> None:
    """A second device on a port with other framing is refused (a config error naming both
    devices, which `check` reports, no longer a CommError at open)."""
    port = sim.add("rs485", PollSensor())
    make(devices, PROBE_CFG, port.path)
    with pytest.raises(BusConflict, match=r"serial:.* is 19200 8N1 for device other but "
                                          r"9600 8N1 for device probe"):
        make(devices, PROBE_CFG, port.path, name="other", baudrate=19200)


def test_binary_meter(sim: SerialSim, devices: list[SerialDevice]) -> None:
    """A binary frame is aligned on its sync, checked, and unpacked into scaled points."""
    meter = BinaryMeter(values=(-215, 1013, 70000))
    dev = make(devices, METER_CFG, sim.add("meter", meter).path)
    assert poll(dev) == [
        Reading(3, 1000, pytest.approx(-21.5)),
        Reading(4, 1000, pytest.approx(10.13)),
        Reading(5, 1000, 70000),
    ]
    meter.fault = "bad_checksum"
    result = poll(dev)
    assert isinstance(result, ProtocolError) and dev.counters["checksum"] == 1
    meter.fault = "silence"
    result = poll(dev)
    assert isinstance(result, CommError) and result.quality == Quality.BAD_TIMEOUT


def test_backoff_doubles_to_its_bound() -> None:
    """Reopen delays double from the minimum up to the maximum and reset on success."""
    now = [0.0]
    backoff = Backoff(0.5, 4.0, lambda: now[0])
    delays = []
    for _ in range(6):
        backoff.failed()
        delays.append(backoff.delay_s)
    assert delays == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert not backoff.ready()
    now[0] = 4.0
    assert backoff.ready()
    backoff.succeeded()
    backoff.failed()
    assert backoff.delay_s == 0.5
