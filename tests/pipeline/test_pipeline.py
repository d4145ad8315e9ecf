"""The whole path against real parts: a pymodbus server as the device, a real mosquitto,
the real supervisor, decoded by the consumer as a user's application would."""

from __future__ import annotations

import itertools
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gatewayd import config
from gatewayd.consumer import Listener
from gatewayd.sources.modbus.decode import encode_value
from gatewayd.supervisor import Supervisor
from gatewayd.testing.modbus_server import ModbusSim, RegisterModel


def gateway_config(tmp: Path, broker_url: str, gw: str, devices: list[dict[str, Any]],
                   **extra: Any) -> config.Config:
    return config.parse({
        "gateway": {"id": gw}, "broker": {"url": broker_url, "keepalive_s": 5},
        "store": {"path": str(tmp / "q.db"), "commit_interval_ms": 100, **extra.get("store", {})},
        "publish": {"interval_ms": 200}, "devices": devices})


def modbus_device(name: str, port: int, unit: int, alias0: int, **kw: Any) -> dict[str, Any]:
    return {"kind": "modbus", "name": name, "port": port, "unit": unit, "period_ms": 100,
            "timeout_ms": 200, "retries": 0, **kw, "points": [
                {"alias": alias0, "name": f"{name}.temp", "unit": "°C", "register": 0,
                 "data_type": "float32", "resolution": 0.01},
                {"alias": alias0 + 1, "name": f"{name}.count", "register": 2, "type": "int",
                 "data_type": "uint32"},
                {"alias": alias0 + 2, "name": f"{name}.run", "table": "coil", "register": 3,
                 "data_type": "bool", "type": "bool"}]}


@pytest.fixture
def sim() -> Iterator[ModbusSim]:
    units = {1: RegisterModel(holding=100), 2: RegisterModel(holding=100)}
    with ModbusSim(units) as s:
        for unit in units:
            s.model(unit).set("holding", 0, encode_value(21.5, "float32"))
            s.model(unit).set("holding", 2, encode_value(70_000 + unit, "uint32"))
            s.model(unit).tables["coil"][3] = 1
        yield s


def collect(listener: Listener, until: Any, timeout_s: float = 15) -> list[dict[str, Any]]:
    got: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        got += list(listener.records(timeout_s=0.2))
        if until(got):
            return got
    raise AssertionError(f"condition not met in {timeout_s} s; last records: {got[-5:]}")


def test_readings_arrive_decoded_with_birth_and_state(tmp_path: Path, broker: Any, sim: ModbusSim) -> None:
    """Values polled from the device arrive decoded, named and united, with birth and online state."""
    cfg = gateway_config(tmp_path, broker.url, "gw-basic", [modbus_device("plc", sim.port, 1, 1)])
    sup = Supervisor(cfg)
    listener = Listener(broker.url, "gw-basic").start()
    sup.start()
    try:
        got = collect(listener, lambda g: sum(1 for r in g if r.get("name") == "plc.count") >= 5)
    finally:
        sup.stop()
        listener.stop()
    kinds = {r.get("type") for r in got}
    assert "birth" in kinds and {"type": "state", "state": "online"} in got
    temps = [r for r in got if r.get("name") == "plc.temp"]
    assert temps[0]["value"] == 21.5 and temps[0]["unit"] == "°C" and temps[0]["quality_name"] == "good"
    assert {r["value"] for r in got if r.get("name") == "plc.count"} == {70_001}
    assert {r["value"] for r in got if r.get("name") == "plc.run"} == {1}
    times = sorted(r["time"] for r in temps)
    steps = {round(b - a, 3) for a, b in itertools.pairwise(times)}
    assert steps <= {0.1, 0.2, 0.3}, steps  # scheduled ticks on the 100 ms grid
    seqs = listener.seqs
    assert seqs == sorted(seqs) and len(set(seqs)) == len(seqs)


def test_device_faults_are_bad_quality_and_other_devices_keep_going(
        tmp_path: Path, broker: Any, sim: ModbusSim) -> None:
    """Exception replies and silence give bad readings with the reason; a healthy unit is unaffected."""
    devices = [modbus_device("dev1", sim.port, 1, 1), modbus_device("dev2", sim.port, 2, 10)]
    sup = Supervisor(gateway_config(tmp_path, broker.url, "gw-faults", devices))
    listener = Listener(broker.url, "gw-faults").start()
    sup.start()
    try:
        collect(listener, lambda g: any(r.get("name") == "dev1.temp" for r in g))
        sim.fault(1, "busy")
        got = collect(listener, lambda g: any(r.get("quality_name") == "bad_device_exception" for r in g))
        sim.fault(1, "silent")
        got += collect(listener, lambda g: any(r.get("kind") == "device_down" for r in g))
        got += collect(listener, lambda g: any("name" in r and r["quality_name"] == "bad_timeout" for r in g))
        sim.fault(1, None)
        got += collect(listener, lambda g: any(r.get("kind") == "device_up" for r in g))
        status = sup.status()
    finally:
        sup.stop()
        listener.stop()
    down = next(r for r in got if r.get("kind") == "device_down")
    assert down["device"] == "dev1" and "unit 1" in down["reason"]
    assert isinstance(down["quality"], int) and down["quality"] >= 0x80  # the code, as in data
    assert next(r["value"] for r in got if "name" in r and r["quality_name"] == "bad_timeout") is None
    dev2 = [r for r in got if r.get("name") == "dev2.temp"]
    assert dev2 and all(r["quality_name"] == "good" for r in dev2)
    dev1 = next(d for d in status["devices"] if d["device"] == "dev1")
    assert dev1["up"] and dev1["errors"] >= 1 and dev1["bad_device_exception"] >= 1


def test_broker_restart_loses_nothing(tmp_path: Path, own_broker: Any, sim: ModbusSim) -> None:
    """Batches made while the broker is down arrive after it returns: no sequence number missing,
    no reading time skipped (the subscriber's session survives the broker restart)."""
    cfg = gateway_config(tmp_path, own_broker.url, "gw-restart", [modbus_device("plc", sim.port, 1, 1)])
    sup = Supervisor(cfg)
    listener = Listener(own_broker.url, "gw-restart", client_id="checker", persistent=True).start()
    sup.start()
    try:
        got = collect(listener, lambda g: len(listener.seqs) >= 3)
        own_broker.stop()
        time.sleep(2.0)
        assert sup.store is not None and sup.store.stats().depth >= 5  # queued while offline
        own_broker.start()
        got += collect(listener, lambda g: sup.store is not None and sup.store.stats().depth <= 2
                       and len(listener.seqs) >= 20, timeout_s=20)
    finally:
        sup.stop()
        listener.stop()
    seqs = sorted(set(listener.seqs))
    assert seqs == list(range(1, seqs[-1] + 1)), "a batch went missing"
    counts = sorted({r["time"] for r in got if r.get("name") == "plc.count"})
    gaps = [round(b - a, 3) for a, b in itertools.pairwise(counts) if b - a > 0.15]
    assert not gaps, f"reading times jump: {gaps}"
