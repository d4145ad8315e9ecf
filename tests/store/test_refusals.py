"""A broker that says no (MQTT 5 reason codes) and messages it can never take, against a real
mosquitto with an ACL file and max_packet_size: nothing refused is deleted, a poison batch is
set aside (kept, listed, sent again on request), and everything behind it flows."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion
from store_kit import POINTS, AclBroker, Recorder, check_seqs, gateway_toml, missing_ticks

from gatewayd.cli import _status_text as status_text
from gatewayd.cli import main as cli
from gatewayd.config import parse
from gatewayd.model import Event
from gatewayd.pipeline import codec
from gatewayd.store.protocol import Outgoing
from gatewayd.store.queue import DurableQueue
from gatewayd.supervisor import Supervisor
from gatewayd.testing.modbus_server import ModbusSim, RegisterModel


@pytest.fixture
def plc() -> Iterator[ModbusSim]:
    sim = ModbusSim({1: RegisterModel(holding=POINTS)}).start()
    sim.model(1).set("holding", 0, list(range(POINTS)))
    yield sim
    sim.stop()


def wait(cond: object, timeout_s: float = 20.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not cond():  # type: ignore[operator]
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


def test_refused_batches_stay_queued_and_flow_once_the_acl_allows(
        tmp_path: Path, plc: ModbusSim) -> None:
    """An ACL that denies the data topic: every PUBACK says 0x87, nothing is deleted, status
    and a publish_refused event name the topic and the reason (events still flow); once the
    ACL is fixed and reloaded, every reading of the denial arrives, seqs unbroken, never more
    in flight than the broker's Receive Maximum (10)."""
    gw = "acl"
    data_topic = f"gatewayd/test/{gw}/data"
    broker = AclBroker(tmp_path, [data_topic]).start()
    rec = Recorder(broker.port, gw)
    cfg = parse(tomllib.loads(gateway_toml(gw, broker.url, tmp_path / "q.db", plc.port)))
    sup = Supervisor(cfg)
    sup.start()
    try:
        wait(lambda: data_topic in sup.status()["broker"]["refusing"])
        refusing = sup.status()["broker"]["refusing"][data_topic]
        assert refusing["code"] == 0x87 and "authori" in refusing["reason"].lower()
        text = status_text(sup.status())  # what `gatewayd status` prints
        assert f"REFUSED by the broker on {data_topic}" in text and "(0x87)" in text
        wait(lambda: "publish_refused" in rec.event_kinds())
        ev = next(e for e in rec.events if e["kind"] == "publish_refused")
        assert ev["topic"] == data_topic and ev["code"] == 0x87
        time.sleep(2.0)  # a few seconds of readings refused
        assert sup.status()["queue"]["readings"] >= 2 * POINTS * 10  # kept, not deleted
        assert sup.status()["broker"]["receive_maximum"] == 10
        broker.deny([])  # the operator fixes the ACL
        broker.reload()
        wait(lambda: not sup.status()["broker"]["refusing"], timeout_s=45)
        most, deadline = 0, time.monotonic() + 30
        while sup.status()["queue"]["depth"] > 2:  # the backlog drains inside the broker's window
            assert time.monotonic() < deadline, "the backlog did not drain"
            most = max(most, sup.status()["broker"]["inflight"])
            time.sleep(0.01)
        assert most <= 10
        wait(lambda: "publish_accepted" in rec.event_kinds())
        overruns = sup.status()["overruns"]
    finally:
        stopped = sup.stop(drain_s=5)
        time.sleep(0.5)
        rec.stop()
        broker.stop()
    assert stopped["left_in_store"] == 0
    check_seqs(rec.payloads)
    assert missing_ticks(rec) <= overruns
    assert min(min(ts) for ts in rec.readings().values()) < ev["ts"]  # from before the denial


def test_poison_batch_is_set_aside_listed_and_sent_again(tmp_path: Path, plc: ModbusSim,
                                                        capsys: pytest.CaptureFixture[str]
                                                        ) -> None:
    """The issue's case, with the real daemon: three anonymous messages on .../cmd/ with 60 KB
    topics against a broker with max_packet_size 100000. Their events are bounded, so they are
    delivered and readings keep flowing. A 180 KB batch left in the store (built before the
    broker said its limit) is set aside and announced by seq, readings behind it flow;
    `gatewayd queue aside` lists it, and once the broker's limit is raised `gatewayd queue
    resend` has the running daemon deliver it, same seq and bytes."""
    gw = "poison"
    store = tmp_path / "state" / "q.db"
    old = DurableQueue(store, 1 << 30)
    old.open()
    events = [Event(1_000 + i, "note", {"text": "x" * 60_000}) for i in range(3)]
    poison = old.put([Outgoing("event", 3, 1_000, lambda seq: codec.encode_events(seq, events))])
    old.close()
    poison_seq = poison[0].seq
    assert poison_seq is not None and poison[0].size > 180_000

    broker = AclBroker(tmp_path, [], max_packet_size=100_000).start()
    rec = Recorder(broker.port, gw)
    conf = tmp_path / "gw.toml"
    conf.write_text(gateway_toml(gw, broker.url, store, plc.port))
    daemon = subprocess.Popen([sys.executable, "-m", "gatewayd.cli", "run", "--config", str(conf)],
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    junk = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv311)
    junk.connect("127.0.0.1", broker.port)
    junk.loop_start()
    try:
        wait(lambda: "batch_set_aside" in rec.event_kinds())
        aside = next(e for e in rec.events if e["kind"] == "batch_set_aside")
        assert (aside["seq_from"], aside["seq_to"]) == (poison_seq, poison_seq)
        assert "Maximum Packet Size" in aside["reason"]
        for i in range(3):
            junk.publish(f"gatewayd/test/{gw}/cmd/{'j' * 60_000}{i}", b"{}", qos=1)
        wait(lambda: sum(1 for e in rec.events if e["kind"] == "command") >= 3)
        ticks = len(rec.readings().get(1, []))
        time.sleep(1.5)
        assert len(rec.readings()[1]) >= ticks + 10  # readings keep flowing
        assert cli(["queue", "aside", "--config", str(conf), "--json"]) == 0
        listed = json.loads(capsys.readouterr().out)
        assert [a["seq"] for a in listed] == [poison_seq] and "180130 bytes" in listed[0]["reason"]

        broker.stop()
        broker.max_packet_size = 0  # the operator raises the broker's limit
        broker.start()
        assert cli(["queue", "resend", "--config", str(conf), "--wait-s", "10"]) == 0
        assert "queued again by the running daemon" in capsys.readouterr().out
        wait(lambda: poison_seq in rec.payloads, timeout_s=30)
    finally:
        junk.loop_stop()
        junk.disconnect()
        daemon.send_signal(signal.SIGTERM)
        assert daemon.wait(30) == 0
        rec.stop()
        broker.stop()
    assert cli(["queue", "aside", "--config", str(conf), "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    big = [e for e in rec.events if e["kind"] == "note"]
    assert len(big) == 3 and len(big[0]["text"]) == 60_000  # the very batch, same bytes
    assert all(len(e["verb"]) < 1000 for e in rec.events if e["kind"] == "command")
    check_seqs(rec.payloads)
