"""The iolink source against simulated masters: one contract for the HTTP and Modbus paths."""

from __future__ import annotations

import socket
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from gatewayd.errors import CommError, ConfigError
from gatewayd.model import Quality
from gatewayd.sources.iolink import iodd
from gatewayd.sources.iolink.config import Config
from gatewayd.sources.iolink.decode import PortState
from gatewayd.sources.iolink.regmap import load_map
from gatewayd.sources.iolink.source import IolinkDevice, build
from gatewayd.testing.broker import free_port
from gatewayd.testing.iolink_master import IODD_DIR, HttpMasterSim, ModbusMasterSim, SimMaster, SimPort

HERE = IODD_DIR
FILES = {1: "TS14", 2: "PS16", 3: "FM32"}
POINTS = [
    {"alias": 1, "name": "temp", "port": 1, "item": "Temperature"},
    {"alias": 2, "name": "out1", "port": 1, "item": "OUT1"},
    {"alias": 3, "name": "pressure", "port": 2, "item": "Pressure"},
    {"alias": 4, "name": "flow", "port": 3, "item": "Flow"},
    {"alias": 5, "name": "counter", "port": 3, "item": "2"},
]


def _iodd(port: int) -> Path:
    return HERE / f"Gatewayd-{FILES[port]}-20260101-IODD1.1.xml"


def config(access: str, points: list[dict[str, Any]] | None = None, **kw: Any) -> Config:
    ports = [{"port": p, "iodd": str(_iodd(p))} for p in FILES]
    return Config.load({"kind": "iolink", "name": "master1", "access": access,
                                  "ports": ports, "points": points or POINTS, **kw})


def sim_master() -> SimMaster:
    return SimMaster({
        1: SimPort(iodd.load(_iodd(1)), {"Temperature": 21.5, "OUT1": True}),
        2: SimPort(iodd.load(_iodd(2)), {"Pressure": 2.5}),
        3: SimPort(iodd.load(_iodd(3)), {"Flow": 12.25, "Counter": 7},
                   isdu={(88, 0): b"\x01\x2c", (16, 0): b"Gatewayd"}),
    })


Factory = Callable[..., IolinkDevice]


@pytest.fixture(params=["http", "modbus"])
def rig(request: pytest.FixtureRequest) -> Iterator[tuple[SimMaster, Factory]]:
    """A simulated master of each kind and a factory of opened devices reading it."""
    master = sim_master()
    devices: list[IolinkDevice] = []
    if request.param == "http":
        sim: Any = HttpMasterSim(master).start()
        where = {"url": sim.url}
    else:
        sim = ModbusMasterSim(master, load_map("iolink/generic_8port")).start()
        where = {"host": "127.0.0.1", "port": sim.port}

    def make(**kw: Any) -> IolinkDevice:
        device = build(config(request.param, **where, **kw))
        device.open()
        devices.append(device)
        return device

    yield master, make
    for device in devices:
        device.close()
    sim.stop()


def values(device: IolinkDevice, now_ms: int = 1000) -> dict[int, tuple[Any, Quality]]:
    return {r.alias: (r.value, Quality(r.quality)) for r in device.read(now_ms)}


G = Quality.GOOD


def test_values_of_every_port(rig: tuple[SimMaster, Factory]) -> None:
    """Process data of three devices decode to the values the simulated devices hold."""
    _, make = rig
    assert values(make()) == {1: (21.5, G), 2: (1, G), 3: (2.5, G), 4: (12.25, G), 5: (7, G)}


def test_text_item_is_read_as_a_string(rig: tuple[SimMaster, Factory]) -> None:
    """The FM32's octet-string Diagnosis item reads as hex text through either master."""
    master, make = rig
    master.set(3, Diagnosis=b"\x2a")
    device = make(points=[*POINTS, {"alias": 6, "name": "diag", "port": 3, "item": "Diagnosis"}])
    assert values(device)[6] == ("2a", G)


def test_values_follow_the_devices(rig: tuple[SimMaster, Factory]) -> None:
    """A change in a device shows in the next poll."""
    master, make = rig
    device = make()
    master.set(2, Pressure=-3.75)
    master.set(1, Temperature=-12.3, OUT1=False)
    got = values(device)
    assert got[3] == (-3.75, G) and got[2] == (0, G)
    assert got[1][0] == pytest.approx(-12.3)


@pytest.mark.parametrize(
    ("state", "quality"),
    [
        (PortState.PREOPERATE, Quality.BAD_DATA_INVALID),
        (PortState.PD_INVALID, Quality.BAD_DATA_INVALID),
        (PortState.COMM_LOST, Quality.BAD_COMM),
    ],
)
def test_port_status_is_data(
    rig: tuple[SimMaster, Factory], state: PortState, quality: Quality
) -> None:
    """A port's state gives its points a bad quality with that reason; other ports stay good."""
    master, make = rig
    device = make()
    assert values(device)[3] == (2.5, G)
    master.set_state(2, state)
    got = values(device)
    assert got[3] == (None, quality)
    assert got[1] == (21.5, G) and got[4] == (12.25, G)


def test_empty_port_from_the_start(rig: tuple[SimMaster, Factory]) -> None:
    """A port that never had a device is bad_no_device, not a lost communication."""
    master, make = rig
    master.unplug(1)
    assert values(make())[1] == (None, Quality.BAD_NO_DEVICE)


def test_wrong_device(rig: tuple[SimMaster, Factory]) -> None:
    """A device whose vendor or device id differs from the port's IODD is bad_wrong_device."""
    master, make = rig
    master.ports[3].device_id = 9999
    got = values(make())
    assert got[4] == (None, Quality.BAD_WRONG_DEVICE) and got[5] == (None, Quality.BAD_WRONG_DEVICE)
    assert got[3] == (2.5, G)


def test_unplugged_device_lost_communication(rig: tuple[SimMaster, Factory]) -> None:
    """A device that answered and then vanished is bad_comm; back again, it is good."""
    master, make = rig
    device = make()
    assert values(device)[4] == (12.25, G)
    master.unplug(3)
    assert values(device)[4] == (None, Quality.BAD_COMM)
    master.set_state(3, PortState.OPERATE)
    assert values(device)[4] == (12.25, G)


def test_identity_check_can_be_off(rig: tuple[SimMaster, Factory]) -> None:
    """check_identity = false publishes a foreign device's data (the installer's choice)."""
    master, make = rig
    master.ports[2].vendor_id = 1
    device = make()
    device.plans[1].cfg = device.plans[1].cfg.replace(check_identity=False)
    assert values(device)[3] == (2.5, G)


def test_isdu_parameters_at_their_own_interval() -> None:
    """ISDU points are read through an HTTP master on the first poll, then every isdu_period_ms."""
    master = sim_master()
    points = [*POINTS, {"alias": 6, "name": "hours", "port": 3, "index": 88, "unit": "h"},
              {"alias": 7, "name": "absent", "port": 3, "index": 99}]
    with HttpMasterSim(master) as sim:
        device = build(config("http", points, url=sim.url, isdu_period_ms=5000))
        device.open()
        try:
            first = values(device, 1000)
            master.ports[3].isdu[(88, 0)] = b"\x01\x2d"
            second = values(device, 2000)
            third = values(device, 6000)
        finally:
            device.close()
    assert first[6] == (300, G) and first[7] == (None, Quality.BAD_DEVICE_EXCEPTION)
    assert 6 not in second and third[6] == (301, G)
    assert device.points[5].unit == "h" and device.points[5].type == "int"


def test_master_down_fails_the_poll() -> None:
    """No master listening: the poll raises CommError naming the master."""
    port = free_port()
    device = build(config("http", url=f"http://127.0.0.1:{port}", timeout_ms=200))
    device.open()
    try:
        with pytest.raises(CommError, match=f"127.0.0.1:{port}"):
            device.read(1000)
    finally:
        device.close()


def test_silent_master_times_out() -> None:
    """A master that accepts but never answers: CommError with quality bad_timeout."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        device = build(config("http", url=f"http://127.0.0.1:{s.getsockname()[1]}", timeout_ms=100))
        device.open()
        try:
            with pytest.raises(CommError) as err:
                device.read(1000)
        finally:
            device.close()
    assert err.value.quality is Quality.BAD_TIMEOUT


def test_points_take_unit_type_and_resolution_from_the_iodd() -> None:
    """Birth data: unit, type and resolution from the IODD unless the point sets them."""
    points = [*POINTS[:2], {**POINTS[2], "unit": "psi", "resolution": 0.5}]
    device = build(config("http", points))
    temp, out1, pressure = device.points
    assert (temp.unit, temp.type, temp.resolution) == ("°C", "float", 0.1)
    assert (out1.type, out1.resolution) == ("bool", None)  # exact: no quantisation step
    assert (pressure.unit, pressure.resolution) == ("psi", 0.5)


def test_build_refuses_unknown_items() -> None:
    """An item the IODD lacks is a ConfigError naming the point."""
    with pytest.raises(ConfigError, match="expected an item of"):
        build(config("http", [{"alias": 9, "name": "x", "port": 1, "item": "Humidity"}]))


def test_text_items_are_string_points() -> None:
    """A text item (here the FM32's octet-string Diagnosis) is published as a string point,
    the octets as hex text; the birth says its type is string and it is never quantised."""
    device = build(config("http", [{"alias": 9, "name": "diag", "port": 3, "item": "Diagnosis"}]))
    (diag,) = device.points
    assert (diag.type, diag.resolution) == ("string", None)


def test_unknown_register_map() -> None:
    """A register map that is not in hardware/ is a ConfigError listing those that are."""
    with pytest.raises(ConfigError, match="iolink/generic_8port"):
        build(config("modbus", register_map="iolink/nope"))
