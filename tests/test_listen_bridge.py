"""`gatewayd listen` as a bridge: every procedure of docs/payload.md against a real mosquitto
(values at any resolution, 64-bit integers, redeliveries, out-of-order seqs, data labelled with
its own birth, unknown births and versions said out loud), and its three output formats."""

from __future__ import annotations

import argparse
import io
import json
import threading
import time
from pathlib import Path
from typing import Any

import msgpack
import paho.mqtt.client as mqtt
from listen_kit import listen_to_a_gateway
from paho.mqtt.enums import CallbackAPIVersion

from gatewayd import listen
from gatewayd.model import Point, Reading
from gatewayd.pipeline import codec

GW = "gw-bridge"
ROOT = f"gatewayd/plant/{GW}"
T = 1_795_000_000_000


def args(**over: Any) -> argparse.Namespace:
    p = argparse.ArgumentParser()
    listen.add_arguments(p)
    ns = p.parse_args([])
    for k, v in over.items():
        setattr(ns, k, v)
    return ns


class Lines(io.StringIO):
    def lines(self) -> list[str]:
        return self.getvalue().splitlines()


def publisher(url: str) -> mqtt.Client:
    c = mqtt.Client(CallbackAPIVersion.VERSION2, protocol=mqtt.MQTTv5)
    c.connect("127.0.0.1", int(url.rsplit(":", 1)[1]))
    c.loop_start()
    return c


def send(c: mqtt.Client, leaf: str, payload: bytes, retain: bool = False) -> None:
    c.publish(f"{ROOT}/{leaf}", payload, qos=1, retain=retain).wait_for_publish(5)


def wait(pred: Any, timeout_s: float = 10) -> None:
    deadline = time.monotonic() + timeout_s
    while not pred():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def test_bridge_follows_every_consumer_procedure(broker: Any) -> None:
    """7.25 at 0.25 stays 7.25; 2^63+5 stays exact; a redelivered seq prints once; an older seq
    after a newer one is still new; late data of a replaced birth keeps its old names; data of an
    unknown birth prints its values without names and says so; an unknown version is refused."""
    pts_a = [Point(1, "press.temp", "°C", "float", 0.25, "plc"), Point(2, "press.count", "", "int",
                                                                     None, "plc")]
    pts_b = [Point(1, "press.pressure", "bar", "float", 0.25, "plc"), pts_a[1]]
    a, b = codec.birth_id(pts_a), codec.birth_id(pts_b)
    out, err = Lines(), Lines()
    ns = args(broker=broker.url, gateway=GW, count=10, timeout_s=20, all=True)  # 6 readings, 2
    # births, an unknown-birth notice and a refusal
    c = publisher(broker.url)
    send(c, "birth", codec.encode_birth(GW, pts_a, "test", T, next_seq=10), retain=True)
    runner = threading.Thread(target=listen.run, args=(ns, out, err))
    runner.start()
    try:
        wait(lambda: any('"type": "birth"' in line for line in out.lines()))
        data10 = codec.encode_data(10, [Reading(1, T, 7.25, 0), Reading(2, T, 2**63 + 5, 0)],
                                   {1: 0.25}, a)
        send(c, "data", data10)
        send(c, "data", data10)  # a redelivery: the same seq again
        send(c, "data", codec.encode_data(9, [Reading(1, T - 100, 2.5, 0),
                                              Reading(2, T - 100, 7, 0)], {1: 0.25}, a))
        send(c, "birth", codec.encode_birth(GW, pts_b, "test", T, next_seq=12), retain=True)
        send(c, "data", codec.encode_data(8, [Reading(1, T - 200, 21.5, 0)], {1: 0.25}, a))
        send(c, "data", codec.encode_data(11, [Reading(1, T + 100, 1.75, 0)], {1: 0.25}, 0xDEAD))
        send(c, "data", msgpack.packb({"v": 3, "seq": 12, "b": b, "t": T, "g": []}))
        runner.join(25)
    finally:
        send(c, "birth", b"", retain=True)  # clear the retained birth for other tests
        c.loop_stop()
        c.disconnect()
    rows = [json.loads(line) for line in out.lines()]
    readings = [(r["seq"], r["name"], r["value"], r["unit"]) for r in rows if "alias" in r]
    assert readings == [(10, "press.temp", 7.25, "°C"), (10, "press.count", 2**63 + 5, ""),
                        (9, "press.temp", 2.5, "°C"), (9, "press.count", 7, ""),
                        (8, "press.temp", 21.5, "°C"), (11, None, 1.75, None)]
    notices = {r["type"] for r in rows if "type" in r}
    assert {"birth", "unknown_birth", "refused"} <= notices
    assert "0x0000dead" in err.getvalue() and "has not been seen" in err.getvalue()
    wait(lambda: "refused" in err.getvalue() and "version 3" in err.getvalue(), 5)


READING = {"seq": 4, "alias": 7, "name": "line 1.flow", "unit": "l/min", "device": "plc,1",
           "time": 1795000000.25, "value": 2.5, "quality": 0, "quality_name": "good"}


def test_influx_line_protocol() -> None:
    """Tags escaped, integers with i (u past int64), strings quoted, nil values keep the quality,
    time in ns: what Telegraf's execd input parses as it is."""
    line = listen.influx_line(READING, "gw 1")
    assert line == ("gatewayd,gateway=gw\\ 1,device=plc\\,1,point=line\\ 1.flow,unit=l/min "
                    "value=2.5,quality=0i 1795000000250000000")
    assert " value=42i," in listen.influx_line({**READING, "value": 42}, "g")
    assert " value=18446744073709551615u," in listen.influx_line({**READING, "value": 2**64 - 1}, "g")
    assert ' value="say \\"hi\\"",' in listen.influx_line({**READING, "value": 'say "hi"'}, "g")
    assert " value=true," in listen.influx_line({**READING, "value": True}, "g")
    bad = listen.influx_line({**READING, "value": None, "quality": 0x82}, "g")
    assert " quality=130i " in bad and "value=" not in bad
    unknown = listen.influx_line({**READING, "name": None, "unit": None, "device": None}, "g")
    assert unknown.startswith("gatewayd,gateway=g,point=alias7 ")


def test_csv_rows() -> None:
    """ISO time in UTC, quoted cells where needed, one header."""
    assert listen.CSV_COLUMNS[0] == "time"
    assert listen.csv_line(READING, "g") == (
        '2026-11-18T11:06:40.250Z,g,"plc,1",line 1.flow,7,2.5,l/min,0,good,4')


def test_listen_process_writes_influx_from_a_running_gateway(broker: Any, tmp_path: Path) -> None:
    """The command, in its own process: readings published by a real supervisor arrive as
    InfluxDB lines with their device, point and unit."""
    code, out = listen_to_a_gateway(broker.url, "gw-influx", tmp_path, "--format", "influx",
                                    "--count", "3")
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == 3
    assert all(line.startswith("gatewayd,gateway=gw-influx,device=plc,point=flow,unit=l/min "
                               "value=-3.25,quality=0i ") for line in lines)


def test_seen_seqs_take_any_order_and_stay_small() -> None:
    """Seqs in any order are each new once; a backlog seq below all seen is new; a contiguous
    run is one range however long; missing ranges are what has not arrived."""
    from gatewayd.consumer import SeenSeqs

    seen = SeenSeqs()
    got = [seen.add(s) for s in (10, 12, 10, 9, 5, 11, 12, 6)]
    assert got == [True, True, False, True, True, True, False, True]
    assert seen.missing() == [(7, 8)] and seen.highest == 12
    for s in range(13, 50_000):
        seen.add(s)
    assert len(seen.firsts) == 2
    assert seen.add(7) and seen.add(8) and seen.missing() == [] and len(seen.firsts) == 1
