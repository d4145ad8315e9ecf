"""Sparkplug B output against a real mosquitto, every message decoded by the protobuf library
from the official sparkplug_b.proto (proto_decoder.py), never by gatewayd's own code."""

from __future__ import annotations

import json
import queue
import sys
import threading
import time
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion

from gatewayd.model import Point, Quality, Reading
from gatewayd.publish import sparkplug_pb as pb
from gatewayd.publish.sparkplug import SparkplugNode

sys.path.insert(0, str(Path(__file__).parent))
from proto_decoder import decode

POINTS = [Point(1, "press.temp", "°C", "float", None, "plc"),
          Point(2, "press.count", "", "int", None, "plc"),
          Point(3, "press.state", "", "string", None, "plc"),
          Point(10, "pump.run", "", "bool", None, "pump")]


class Watcher:
    """A Sparkplug host's view: every message under spBv1.0/#, decoded independently."""

    def __init__(self, url: str) -> None:
        self.got: queue.Queue[tuple[str, bytes]] = queue.Queue()
        self.c = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
        self.c.on_message = lambda c, u, m: self.got.put((m.topic, bytes(m.payload)))
        self.c.connect("127.0.0.1", int(url.rsplit(":", 1)[1]))
        self.c.subscribe("spBv1.0/#", qos=1)
        self.c.loop_start()
        time.sleep(0.2)

    def next(self, kind: str, timeout_s: float = 10) -> tuple[str, Any]:
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                topic, body = self.got.get(timeout=0.2)
            except queue.Empty:
                continue
            if topic.split("/")[2] == kind:
                return topic, decode(body) if kind != "STATE" else body
        raise AssertionError(f"no {kind} within {timeout_s} s")

    def stop(self) -> None:
        self.c.loop_stop()
        self.c.disconnect()


def metrics(msg: Any) -> dict[str, Any]:
    return {m.name: m for m in msg.metrics}


@pytest.fixture
def watcher(broker: Any) -> Any:
    w = Watcher(broker.url)
    yield w
    w.stop()


def test_payload_fields_decode_with_the_official_proto() -> None:
    """Every datatype gatewayd writes, a negative Int64, a null, properties and is_historical
    decode to what was meant."""
    body = pb.encode_payload(123, [
        pb.Metric(5, pb.INT64, -7, name="a", timestamp=9, properties={
            "Quality": (pb.INT32, 192), "engUnit": (pb.STRING, "°C")}),
        pb.Metric(6, pb.DOUBLE, 2.5), pb.Metric(7, pb.STRING, "hi", is_historical=True),
        pb.Metric(8, pb.BOOLEAN, None), pb.Metric(9, pb.UINT64, 2**64 - 1),
        pb.Metric(11, pb.BOOLEAN, True), pb.Metric(12, pb.FLOAT, 0.5)], 4)
    m = decode(body)
    assert (m.timestamp, m.seq) == (123, 4)
    a, d, s, n, u, b, f = m.metrics
    assert (a.name, a.alias, a.timestamp, a.datatype) == ("a", 5, 9, pb.INT64)
    assert a.long_value - (1 << 64) == -7  # Int64 as two's complement in the uint64 field
    assert dict(zip(a.properties.keys, [v.int_value or v.string_value
                                        for v in a.properties.values], strict=True)) == {
        "Quality": 192, "engUnit": "°C"}
    assert d.double_value == 2.5 and s.string_value == "hi" and s.is_historical
    assert n.is_null and not n.HasField("boolean_value")
    assert u.long_value == 2**64 - 1 and b.boolean_value is True and f.float_value == 0.5


def test_births_data_rebirth_and_death(broker: Any, watcher: Any, tmp_path: Path) -> None:
    """NBIRTH (seq 0, bdSeq, Node Control/Rebirth), a DBIRTH per device with names, aliases and
    types; DDATA by alias only with seq counting on and quality as a property; NCMD Rebirth gives
    births again; a vanished node's will is an NDEATH with its session's bdSeq; a device down is
    a DDEATH; a restarted node continues bdSeq from its file."""
    node = SparkplugNode(broker.url, "plant", "press-7", POINTS, tmp_path)
    node.start()
    try:
        topic, nbirth = watcher.next("NBIRTH")
        assert topic == "spBv1.0/plant/NBIRTH/press-7" and nbirth.seq == 0
        bd = metrics(nbirth)["bdSeq"].long_value
        assert metrics(nbirth)["Node Control/Rebirth"].boolean_value is False
        births = dict(watcher.next("DBIRTH") for _ in range(2))
        plc = metrics(births["spBv1.0/plant/DBIRTH/press-7/plc"])
        assert {n: (m.alias, m.datatype) for n, m in plc.items()} == {
            "press.temp": (1, pb.DOUBLE), "press.count": (2, pb.INT64),
            "press.state": (3, pb.STRING)}
        assert plc["press.temp"].properties.keys == ["engUnit"]
        assert births["spBv1.0/plant/DBIRTH/press-7/pump"].seq == 2
        node.publish([Reading(1, 1000, 21.5, 0), Reading(2, 1000, 2**40 + 1, 0),
                      Reading(3, 1000, "RUN", 0), Reading(10, 1000, None, Quality.BAD_TIMEOUT)])
        datas = dict(watcher.next("DDATA") for _ in range(2))
        plc_data = datas["spBv1.0/plant/DDATA/press-7/plc"]
        assert plc_data.seq == 3 and all(not m.name for m in plc_data.metrics)
        assert [(m.alias, m.timestamp) for m in plc_data.metrics] == [(1, 1000), (2, 1000),
                                                                       (3, 1000)]
        assert plc_data.metrics[0].double_value == 21.5
        assert plc_data.metrics[1].long_value == 2**40 + 1
        (run,) = datas["spBv1.0/plant/DDATA/press-7/pump"].metrics
        assert run.is_null and list(run.properties.keys) == ["Quality", "gatewaydQuality"]
        assert [v.int_value for v in run.properties.values] == [0, 0x82]

        rebirth = pb.encode_payload(5, [pb.Metric(0, pb.BOOLEAN, True,
                                                  name="Node Control/Rebirth")], None)
        watcher.c.publish("spBv1.0/plant/NCMD/press-7", rebirth, qos=1)
        _, again = watcher.next("NBIRTH")
        assert again.seq == 0 and metrics(again)["bdSeq"].long_value == bd

        node.device_death("pump")
        topic, _ = watcher.next("DDEATH")
        assert topic == "spBv1.0/plant/DDEATH/press-7/pump"
        node.client.socket().close()  # vanish without DISCONNECT: the broker sends the will
        _, death = watcher.next("NDEATH")
        assert metrics(death)["bdSeq"].long_value == bd and not death.HasField("seq")
    finally:
        node.stop()
    second = SparkplugNode(broker.url, "plant", "press-8", POINTS, tmp_path)
    assert second.session_bdseq != bd  # the file carries the sequence across restarts
    second.client.loop_stop()


def test_births_data_and_deaths_are_qos_0_and_not_retained(broker: Any,
                                                           tmp_path: Path) -> None:
    """Checklist row 16: NBIRTH, DBIRTH, DDATA and DDEATH arrive at QoS 0 and not retained, and
    the NDEATH will at QoS 1. The subscriber is MQTT 5 with retain-as-published and asks for
    QoS 1, so the broker passes on the QoS (up to 1) and the retain flag each message was
    published with; a late subscriber then finds nothing retained under the node's topics."""
    from paho.mqtt.subscribeoptions import SubscribeOptions

    seen: queue.Queue[tuple[str, int, bool]] = queue.Queue()
    port = int(broker.url.rsplit(":", 1)[1])
    sub = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    sub.on_message = lambda c, u, m: seen.put((m.topic.split("/")[2], m.qos, bool(m.retain)))
    sub.connect("127.0.0.1", port)
    sub.subscribe("spBv1.0/#", options=SubscribeOptions(qos=1, retainAsPublished=True))
    sub.loop_start()
    time.sleep(0.2)
    node = SparkplugNode(broker.url, "plant", "press-9", POINTS, tmp_path)
    flags: dict[str, set[tuple[int, bool]]] = {}
    try:
        node.start()
        deadline = time.monotonic() + 10
        while sum(k == "DBIRTH" for k, *_ in _drain(seen, flags)) < 2:
            assert time.monotonic() < deadline, flags
        node.publish([Reading(1, 1000, 21.5, 0), Reading(10, 1000, True, 0)])
        node.device_death("pump")
        for wanted in ({"DDATA", "DDEATH"}, {"NDEATH"}):
            while not wanted <= flags.keys():
                assert time.monotonic() < deadline + 10, flags
                _drain(seen, flags)
            if wanted == {"DDATA", "DDEATH"}:
                node.client.socket().close()  # vanish without DISCONNECT: the will, NDEATH
    finally:
        node.stop()
        sub.loop_stop()
        sub.disconnect()
    assert {k: flags[k] for k in ("NBIRTH", "DBIRTH", "DDATA", "DDEATH")} == {
        "NBIRTH": {(0, False)}, "DBIRTH": {(0, False)}, "DDATA": {(0, False)},
        "DDEATH": {(0, False)}}
    assert flags["NDEATH"] == {(1, False)}

    late: queue.Queue[str] = queue.Queue()
    probe = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
    probe.on_message = lambda c, u, m: late.put(m.topic) if m.retain else None
    probe.connect("127.0.0.1", port)
    probe.subscribe("spBv1.0/plant/#", qos=1)
    probe.loop_start()
    time.sleep(1.0)
    probe.loop_stop()
    probe.disconnect()
    assert late.empty(), late.get()


def _drain(seen: queue.Queue[tuple[str, int, bool]],
           flags: dict[str, set[tuple[int, bool]]]) -> list[tuple[str, int, bool]]:
    """What arrived within 0.2 s, also added to `flags` (message type -> (qos, retain))."""
    got = []
    try:
        while True:
            item = seen.get(timeout=0.2)
            got.append(item)
            flags.setdefault(item[0], set()).add(item[1:])
    except queue.Empty:
        return got


def test_waits_for_the_primary_host(broker: Any, watcher: Any, tmp_path: Path) -> None:
    """With a primary host named, no birth before its STATE says online; when it goes
    offline the node ends its session (NDEATH) and is born again once the host is back."""
    node = SparkplugNode(broker.url, "plant", "press-9", POINTS, tmp_path, primary_host="scada")
    node.start()
    try:
        time.sleep(1.0)
        assert not node.born
        watcher.c.publish("spBv1.0/STATE/scada", json.dumps({"online": True, "timestamp": 1}),
                          qos=1, retain=True)
        watcher.next("NBIRTH")
        watcher.c.publish("spBv1.0/STATE/scada", json.dumps({"online": False, "timestamp": 2}),
                          qos=1, retain=True)
        watcher.next("NDEATH")
        watcher.c.publish("spBv1.0/STATE/scada", json.dumps({"online": True, "timestamp": 3}),
                          qos=1, retain=True)
        _, nbirth = watcher.next("NBIRTH")
        assert nbirth.seq == 0
    finally:
        watcher.c.publish("spBv1.0/STATE/scada", b"", qos=1, retain=True).wait_for_publish(2)
        node.stop()


def test_the_daemon_publishes_sparkplug_beside_msgpack(broker: Any, watcher: Any,
                                                        tmp_path: Path) -> None:
    """[sparkplug] enabled: the supervisor's points are born per device and their values go out
    as DDATA, fed from the durable queue; batches queued before the output started (here: made
    while the broker was unreachable) go out marked is_historical."""
    from gatewayd import config
    from gatewayd.sources.modbus.decode import encode_value
    from gatewayd.supervisor import Supervisor
    from gatewayd.testing.broker import free_port
    from gatewayd.testing.modbus_server import ModbusSim, RegisterModel

    def cfg(url: str) -> Any:
        return config.parse({
            "gateway": {"id": "gw-sp"}, "broker": {"url": url},
            "store": {"path": str(tmp_path / "q.db"), "commit_interval_ms": 0},
            "publish": {"interval_ms": 100}, "sparkplug": {"enabled": True, "group_id": "plant"},
            "devices": [{"kind": "modbus", "name": "plc", "port": sim.port, "period_ms": 100,
                         "points": [{"alias": 7, "name": "flow", "unit": "l/min", "register": 0,
                                     "data_type": "float32"}]}]})

    with ModbusSim({1: RegisterModel(holding=4)}) as sim:
        sim.model(1).set("holding", 0, encode_value(-3.25, "float32"))
        offline = Supervisor(cfg(f"mqtt://127.0.0.1:{free_port()}"))  # nothing listens there
        offline.start()
        time.sleep(1.0)
        assert offline.stop(drain_s=0)["left_in_store"] > 0
        sup = Supervisor(cfg(broker.url))
        sup.start()
        try:
            watcher.next("NBIRTH")
            topic, dbirth = watcher.next("DBIRTH")
            assert topic == "spBv1.0/plant/DBIRTH/gw-sp/plc"
            assert [(m.name, m.alias) for m in dbirth.metrics] == [("flow", 7)]
            seen = {True: 0, False: 0}
            deadline = time.monotonic() + 15
            while not (seen[True] and seen[False]) and time.monotonic() < deadline:
                _, data = watcher.next("DDATA")
                for m in data.metrics:
                    assert m.alias == 7 and m.double_value == -3.25
                    seen[m.is_historical] += 1
        finally:
            sup.stop()
    assert seen[True] > 0 and seen[False] > 0, seen


def test_a_device_down_and_back_is_a_ddeath_then_a_dbirth(broker: Any, watcher: Any,
                                                          tmp_path: Path) -> None:
    """A Modbus unit that stops answering gets a DDEATH; when it answers again a DBIRTH comes
    before its next DDATA (the device_down / device_up events, read from the durable queue)."""
    from gatewayd import config
    from gatewayd.supervisor import Supervisor
    from gatewayd.testing.modbus_server import ModbusSim, RegisterModel

    with ModbusSim({1: RegisterModel(holding=4)}) as sim:
        sup = Supervisor(config.parse({
            "gateway": {"id": "gw-spd"}, "broker": {"url": broker.url},
            "store": {"path": str(tmp_path / "q.db")}, "publish": {"interval_ms": 100},
            "sparkplug": {"enabled": True, "group_id": "plant"},
            "devices": [{"kind": "modbus", "name": "plc", "port": sim.port, "period_ms": 100,
                         "timeout_ms": 300, "retries": 0,
                         "points": [{"alias": 7, "name": "count", "register": 0,
                                     "type": "int"}]}]}))
        sup.start()
        try:
            watcher.next("DBIRTH")
            watcher.next("DDATA")
            sim.fault(1, "silent")
            topic, _ = watcher.next("DDEATH", 15)
            assert topic == "spBv1.0/plant/DDEATH/gw-spd/plc"
            sim.fault(1, None)
            kinds = []
            deadline = time.monotonic() + 15
            while "DDATA" not in kinds and time.monotonic() < deadline:
                topic, _ = watcher.got.get(timeout=15)
                if topic.endswith("/plc") and topic.split("/")[2] in ("DBIRTH", "DDATA"):
                    kinds.append(topic.split("/")[2])
        finally:
            sup.stop()
    assert kinds[0] == "DBIRTH" and "DDATA" in kinds, kinds


def test_a_node_whose_broker_is_gone_stops_cleanly(own_broker: Any, tmp_path: Path) -> None:
    """The broker vanishes under a born node and stop() comes before the node has heard of it
    (paho has closed its socket; its disconnect callback waits on the node's lock, as on a busy
    loop thread): stop() raises nothing and leaves no thread behind (the no_leaks
    fixture checks). The NDEATH is then the broker's will to send."""
    node = SparkplugNode(own_broker.url, "plant", "press-9", POINTS, tmp_path)
    node.start()
    deadline = time.monotonic() + 10
    while not node.born and time.monotonic() < deadline:
        time.sleep(0.02)
    assert node.born
    raised: list[BaseException] = []

    def stop() -> None:
        try:
            node.stop()
        except BaseException as e:
            raised.append(e)

    with node.lock:  # hold the disconnect callback back
        own_broker.stop()
        while node.client.socket() is not None and time.monotonic() < deadline:
            time.sleep(0.02)  # paho has closed its socket and now calls the node's callback
        assert node.born and node.client.socket() is None
        stopper = threading.Thread(target=stop)
        stopper.start()
        stopper.join(0.5)  # stop() publishes (or not) now; it waits on the loop thread after
    stopper.join(10)
    assert not stopper.is_alive() and raised == []
