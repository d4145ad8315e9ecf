"""Three PLCs that stop answering (a listener that accepts TCP and never replies: S7, Logix and
OPC UA alike) do not slow anything else down: through the real supervisor and a real broker,
a healthy S7 CPU keeps its 100 ms grid while each silent PLC is reported down once."""

from __future__ import annotations

import itertools
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gatewayd import config
from gatewayd.consumer import Listener
from gatewayd.supervisor import Supervisor
from gatewayd.testing.plc_process import ServerProcess


@pytest.fixture
def silent() -> Iterator[list[int]]:
    """Three loopback ports where the kernel completes the handshake and nobody ever answers."""
    socks = []
    for _ in range(3):
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        s.listen(16)
        socks.append(s)
    yield [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()


def test_silent_plcs_keep_their_hands_off_the_others_schedule(
        tmp_path: Path, broker: Any, silent: list[int]) -> None:
    """The healthy device's readings stay on their 100 ms grid; each silent PLC gets one
    device_down with its reason and bad readings, while the runner backs off."""
    s7_port, enip_port, ua_port = silent
    with ServerProcess("gatewayd.testing.s7_server") as cpu:
        cfg = config.parse({
            "gateway": {"id": "gw-plc-sched"}, "broker": {"url": broker.url, "keepalive_s": 5},
            "store": {"path": str(tmp_path / "q.db"), "commit_interval_ms": 100},
            "publish": {"interval_ms": 200},
            "devices": [
                {"kind": "s7", "name": "good-cpu", "host": "127.0.0.1", "port": cpu.port, "period_ms": 100,
                 "timeout_ms": 300, "points": [{"alias": 1, "name": "good.temp", "address": "DB1.DBD0",
                                                "data_type": "real"}]},
                {"kind": "s7", "name": "mute-cpu", "host": "127.0.0.1", "port": s7_port, "period_ms": 100,
                 "timeout_ms": 300, "points": [{"alias": 2, "name": "mute.s7", "address": "MW0",
                                                "data_type": "int"}]},
                {"kind": "enip", "name": "mute-logix", "host": "127.0.0.1", "port": enip_port,
                 "period_ms": 100, "timeout_ms": 300, "points": [{"alias": 3, "name": "mute.enip",
                                                                  "tag": "Temperature"}]},
                {"kind": "opcua", "name": "mute-ua", "endpoint": f"opc.tcp://127.0.0.1:{ua_port}",
                 "mode": "poll", "period_ms": 100, "timeout_ms": 300,
                 "points": [{"alias": 4, "name": "mute.ua", "node_id": "ns=2;s=X"}]},
            ]})
        sup = Supervisor(cfg)
        listener = Listener(broker.url, "gw-plc-sched").start()
        sup.start()
        got: list[dict[str, Any]] = []
        try:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                got += list(listener.records(timeout_s=0.2))
                downs = {r["device"] for r in got if r.get("kind") == "device_down"}
                if downs >= {"mute-cpu", "mute-logix", "mute-ua"} and \
                        sum(r.get("name") == "good.temp" for r in got) >= 40:
                    break
        finally:
            sup.stop()
            listener.stop()
    downs = [r for r in got if r.get("kind") == "device_down"]
    assert sorted(r["device"] for r in downs) == ["mute-cpu", "mute-logix", "mute-ua"], downs
    assert all(r["reason"] for r in downs)
    good = [r for r in got if r.get("name") == "good.temp"]
    assert len(good) >= 40 and all(r["quality_name"] == "good" and r["value"] == 21.5 for r in good)
    times = sorted(r["time"] for r in good)
    steps = {round(b - a, 3) for a, b in itertools.pairwise(times)}
    assert steps <= {0.1, 0.2}, steps  # at most one tick missed under a loaded machine
    for name in ("mute.s7", "mute.enip", "mute.ua"):
        bad = [r for r in got if r.get("name") == name]
        assert bad and all(r["value"] is None and r["quality_name"].startswith("bad") for r in bad), name


def test_opcua_server_restart_through_the_daemon(tmp_path: Path, broker: Any) -> None:
    """asyncua's server restarted under a running supervisor: the device goes down once and
    comes back by itself, the subscription is re-created (the counter flows again), and the
    gap event reaches the broker with the span that has no data."""
    with ServerProcess("gatewayd.testing.opcua_server") as srv:
        cfg = config.parse({
            "gateway": {"id": "gw-ua-restart"}, "broker": {"url": broker.url, "keepalive_s": 5},
            "store": {"path": str(tmp_path / "q.db"), "commit_interval_ms": 100},
            "publish": {"interval_ms": 200},
            "devices": [{"kind": "opcua", "name": "cell", "period_ms": 200, "timeout_ms": 500,
                         "endpoint": f"opc.tcp://127.0.0.1:{srv.port}/gatewayd/",
                         "publishing_interval_ms": 100, "sampling_interval_ms": 100,
                         "points": [{"alias": 1, "name": "cell.count", "type": "int",
                                     "node_id": "ns=2;s=Line1.Counter"}]}]})
        sup = Supervisor(cfg)
        listener = Listener(broker.url, "gw-ua-restart").start()
        sup.start()
        got: list[dict[str, Any]] = []

        def wait(until: Any, timeout_s: float = 20) -> None:
            deadline = time.monotonic() + timeout_s
            while time.monotonic() < deadline:
                got.extend(listener.records(timeout_s=0.2))
                if until():
                    return
            raise AssertionError(f"not met: {got[-5:]}")

        try:
            wait(lambda: sum(r.get("name") == "cell.count" for r in got) >= 5)
            srv.stop()
            wait(lambda: any(r.get("kind") == "device_down" for r in got))
            srv.start()
            wait(lambda: any(r.get("kind") == "gap" for r in got))
            mark = len(got)
            wait(lambda: sum(r.get("name") == "cell.count" and r["value"] is not None
                             for r in got[mark:]) >= 5)
        finally:
            sup.stop()
            listener.stop()
    kinds = [r.get("kind") for r in got if r.get("kind")]
    assert kinds.count("device_down") == 1 and kinds.count("device_up") == 1 and kinds.count("gap") == 1
    gap = next(r for r in got if r.get("kind") == "gap")
    assert gap["device"] == "cell" and gap["from_ms"] < gap["to_ms"]
    after = [r["value"] for r in got[mark:] if r.get("name") == "cell.count" and r["value"] is not None]
    assert after == sorted(after) and len(set(after)) == len(after)  # the restarted server counts anew
