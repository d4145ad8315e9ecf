"""One contract for every kind, run against its simulator: the plugin builds the device, it
polls good values, a fault shows (a DeviceError or bad quality), it recovers, it closes with
nothing left running. Each device is driven the way the runner drives it: open when needed,
read, the point stage; a DeviceError closes it and the next poll opens it again."""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from gpiozero.pins.mock import MockFactory

from gatewayd import sources
from gatewayd.config import parse
from gatewayd.errors import DeviceError
from gatewayd.model import Event, Quality, Reading
from gatewayd.points.stage import PointStage
from gatewayd.sources.base import SourceContext
from gatewayd.sources.iolink import iodd
from gatewayd.sources.iolink.decode import PortState
from gatewayd.testing import adxl345
from gatewayd.testing.ads1115 import ADS1115
from gatewayd.testing.clock import ManualClock
from gatewayd.testing.i2c import SimBus
from gatewayd.testing.iolink_master import IODD_DIR, HttpMasterSim, SimMaster, SimPort
from gatewayd.testing.modbus_server import ModbusSim, RegisterModel
from gatewayd.testing.plc_process import ServerProcess
from gatewayd.testing.serial_instruments import PollSensor, SerialSim
from gatewayd.testing.vibration import Machine


@dataclass
class Rig:
    """A kind's device config, what its context carries, and how to break and mend it."""

    device: dict[str, Any]
    fault: Callable[[Runner], None]
    recover: Callable[[Runner], None]
    extras: dict[str, Any] = field(default_factory=dict)
    advance: Callable[[int], None] = lambda step: None  # simulated time before poll `step`
    polls: int = 1  # polls until a poll has its readings (a vibration window fills)


class Runner:
    """One device driven as the runner drives it (polled), or started (event-driven)."""

    def __init__(self, device: Any, ctx: SourceContext) -> None:
        self.device, self.ctx = device, ctx
        self.stage = PointStage.for_device(device, ctx.event)
        self.opened = False
        self.emitted: list[Reading] = []

    def poll(self, now_ms: int) -> list[Reading] | DeviceError:
        dev = self.device
        try:
            if not self.opened:
                (dev.open() if hasattr(dev, "read") else dev.start(self._ctx()))
                self.opened = True
            if hasattr(dev, "read"):
                return self.stage.process(dev.read(now_ms))
            self.emitted.clear()
            dev.tick()
            return list(self.emitted)
        except DeviceError as e:
            with contextlib.suppress(DeviceError):  # closing a broken link may fail too
                self.close()
            return e

    def _ctx(self) -> SourceContext:
        """The event device's context: what it emits goes through the stage to `emitted`."""
        return dataclasses.replace(self.ctx, emit=self.stage.emit_to(self.emitted.append))

    def close(self) -> None:
        if self.opened:
            self.opened = False
            (self.device.close() if hasattr(self.device, "read") else self.device.stop())


@contextmanager
def modbus_rig(tmp_path: Path) -> Iterator[Rig]:
    model = RegisterModel(holding=10)
    with ModbusSim({1: model}) as sim:
        model.set("holding", 0, [215, 7])
        yield Rig({"kind": "modbus", "name": "plc", "port": sim.port, "timeout_ms": 300,
                   "points": [{"alias": 1, "name": "t", "register": 0, "scale": 0.1},
                              {"alias": 2, "name": "n", "register": 1, "type": "int"}]},
                  lambda r: sim.fault(1, "illegal_address"), lambda r: sim.fault(1, None))


@contextmanager
def serial_rig(tmp_path: Path) -> Iterator[Rig]:
    probe = PollSensor({"T": 23.45})
    with SerialSim(tmp_path) as sim:
        port = sim.add("probe", probe).path
        yield Rig({"kind": "serial", "name": "probe", "port": port, "command": "?T\r",
                   "terminator": "\r", "pattern": r"^T=(?P<t>[-+]?\d+\.\d+)$",
                   "checksum": "xor8", "timeout_ms": 200,
                   "points": [{"alias": 1, "name": "t", "field": "t"}]},
                  lambda r: setattr(probe, "fault", "silence"),
                  lambda r: setattr(probe, "fault", None))


def _adc_bus(clock: ManualClock) -> tuple[SimBus, ADS1115]:
    adc = ADS1115(clock)
    adc.set_input(0, 1.8)  # 12 mA across 150 ohm
    adc.set_input(1, 0.9)
    return SimBus({0x48: adc}), adc


@contextmanager
def i2c_rig(tmp_path: Path) -> Iterator[Rig]:
    clock = ManualClock(0.0)
    bus, _ = _adc_bus(clock)
    yield Rig({"kind": "i2c", "name": "adc", "bus": 1, "chip": "ads1115", "address": 0x48,
               "data_rate_sps": 860,
               "points": [{"alias": 1, "name": "v0", "channel": "ain0"},
                          {"alias": 2, "name": "v1", "channel": "ain1", "scale": 2.0}]},
              lambda r: bus.fail(0x48), lambda r: bus.fail(0x48, False),
              {"i2c_bus": bus, "sleep": clock.sleep})


@contextmanager
def analog_rig(tmp_path: Path) -> Iterator[Rig]:
    clock = ManualClock(0.0)
    bus, adc = _adc_bus(clock)
    yield Rig({"kind": "analog", "name": "loops", "bus": 1, "data_rate_sps": 860,
               "points": [{"alias": 1, "name": "level", "channel": 0, "low": 0, "high": 5},
                          {"alias": 2, "name": "flow", "channel": 1, "low": 0, "high": 5}]},
              lambda r: adc.set_input(0, 0.0), lambda r: adc.set_input(0, 1.8),  # a broken loop
              {"i2c_bus": bus, "sleep": clock.sleep})


@contextmanager
def iolink_rig(tmp_path: Path) -> Iterator[Rig]:
    path = IODD_DIR / "Gatewayd-TS14-20260101-IODD1.1.xml"
    master = SimMaster({1: SimPort(iodd.load(path), {"Temperature": 21.5, "OUT1": True})})
    with HttpMasterSim(master) as sim:
        yield Rig({"kind": "iolink", "name": "master", "url": sim.url,
                   "ports": [{"port": 1, "iodd": str(path)}],
                   "points": [{"alias": 1, "name": "temp", "port": 1, "item": "Temperature"}]},
                  lambda r: master.unplug(1), lambda r: master.set_state(1, PortState.OPERATE))


@contextmanager
def gpio_rig(tmp_path: Path) -> Iterator[Rig]:
    factory = MockFactory()
    holder: list[Any] = []

    def fault(runner: Runner) -> None:
        """Stopped (as for a reload), and meanwhile another program took its pin: it cannot
        start again."""
        from gatewayd.buses.gpio import InputPin

        runner.close()
        holder.append(InputPin(17, "down", True, lambda level: None, factory, "other"))

    try:
        yield Rig({"kind": "gpio", "name": "press", "period_ms": 1000,
                   "inputs": [{"name": "running", "pin": 17, "debounce_ms": 0}],
                   "points": [{"alias": 1, "name": "running", "role": "state",
                               "input": "running"},
                              {"alias": 2, "name": "parts", "role": "counter",
                               "input": "running"}]},
                  fault, lambda r: holder.pop().close(), {"gpio_pin_factory": factory})
    finally:
        factory.reset()
        factory.close()


@contextmanager
def vibration_rig(tmp_path: Path) -> Iterator[Rig]:
    t = [0.0]
    bus = SimBus({0x53: adxl345.Adxl345(z=Machine(noise_g=0.01).signal, clock=lambda: t[0])})

    def advance(step: int) -> None:
        t[0] += 0.005

    yield Rig({"kind": "vibration", "name": "m1", "window_len": 256, "overlap": 0.0,
               "shaft_hz": 29.95, "features": ["rms_g", "peak_g"], "alias_base": 10},
              lambda r: bus.fail(0x53), lambda r: bus.fail(0x53, False), {"i2c_bus": bus},
              advance, polls=40)


@contextmanager
def s7_rig(tmp_path: Path) -> Iterator[Rig]:
    """snap7's server in its own process; the fault is the CPU going away, as in a reboot."""
    with ServerProcess("gatewayd.testing.s7_server") as cpu:
        yield Rig({"kind": "s7", "name": "cpu", "port": cpu.port, "host": "127.0.0.1",
                   "timeout_ms": 500,
                   "points": [{"alias": 1, "name": "t", "address": "DB1.DBD0", "data_type": "real"},
                              {"alias": 2, "name": "run", "address": "Q1.0", "type": "bool"}]},
                  lambda r: cpu.stop(), lambda r: cpu.start())


@contextmanager
def enip_rig(tmp_path: Path) -> Iterator[Rig]:
    """cpppo's Logix simulator in its own process; the fault is the controller going away."""
    with ServerProcess("gatewayd.testing.logix_server") as plc:
        yield Rig({"kind": "enip", "name": "plc", "port": plc.port, "host": "127.0.0.1",
                   "timeout_ms": 500,
                   "points": [{"alias": 1, "name": "t", "tag": "Temperature"},
                              {"alias": 2, "name": "s", "tag": "Program:Line.Speed"}]},
                  lambda r: plc.stop(), lambda r: plc.start())


@contextmanager
def opcua_rig(tmp_path: Path) -> Iterator[Rig]:
    """asyncua's server in its own process, read by polling; the fault is the server going away."""
    with ServerProcess("gatewayd.testing.opcua_server") as srv:
        yield Rig({"kind": "opcua", "name": "ua", "mode": "poll", "timeout_ms": 1000,
                   "endpoint": f"opc.tcp://127.0.0.1:{srv.port}/gatewayd/",
                   "points": [{"alias": 1, "name": "t", "node_id": "ns=2;s=Line1.Temperature"},
                              {"alias": 2, "name": "n", "node_id": "ns=2;s=Line1.Counter",
                               "type": "int"}]},
                  lambda r: srv.stop(), lambda r: srv.start())


RIGS: dict[str, Callable[[Path], Any]] = {
    "modbus": modbus_rig, "serial": serial_rig, "i2c": i2c_rig, "analog": analog_rig,
    "iolink": iolink_rig, "gpio": gpio_rig, "vibration": vibration_rig,
    "s7": s7_rig, "enip": enip_rig, "opcua": opcua_rig,
}


def test_every_kind_has_a_rig() -> None:
    """A new kind joins the contract: it needs a rig here."""
    assert sorted(RIGS) == sorted(sources.KINDS)


def until_readings(runner: Runner, rig: Rig, start: int) -> list[Reading] | DeviceError:
    """Poll until a poll gives readings or fails (a vibration window takes many polls)."""
    got: list[Reading] | DeviceError = []
    for step in range(start, start + rig.polls):
        rig.advance(step)
        got = runner.poll(step * 5)
        if isinstance(got, DeviceError) or got:
            return got
    return got


def faulty(got: list[Reading] | DeviceError) -> bool:
    return isinstance(got, DeviceError) or any(Quality(r.quality).is_bad for r in got)


@pytest.mark.parametrize("kind", sources.KINDS)
def test_build_poll_fault_recover_close(kind: str, tmp_path: Path) -> None:
    """Built by its plugin; good readings for its points; a fault shows as a DeviceError or
    bad quality; after the fault is mended it reads good again; it closes cleanly."""
    plugin = sources.plugin(kind)
    with RIGS[kind](tmp_path) as rig:
        cfg = parse({"gateway": {"id": "t"}, "devices": [rig.device]}).devices[0]
        events: list[Event] = []
        ctx = SourceContext(lambda r: None, events.append, tmp_path, lambda: 0, rig.extras)
        device = plugin.builder()(cfg, ctx)
        assert [p.alias for p in device.points] == [p.alias for p in cfg.point_configs()]
        runner = Runner(device, ctx)
        try:
            good = until_readings(runner, rig, 1)
            assert not isinstance(good, DeviceError), good
            assert good and all(Quality(r.quality).is_good for r in good), good
            assert {r.alias for r in good} <= {p.alias for p in device.points}
            rig.fault(runner)
            bad = until_readings(runner, rig, 1000)
            assert faulty(bad), bad
            rig.recover(runner)
            again = until_readings(runner, rig, 2000)
            if faulty(again):  # a device closed by the fault reopens on the next poll
                again = until_readings(runner, rig, 3000)
            assert not faulty(again) and again, again
        finally:
            runner.close()
