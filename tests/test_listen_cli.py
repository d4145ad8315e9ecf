"""`gatewayd listen` prints each decoded reading of a gateway as one JSON line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from gatewayd import config
from gatewayd.sources.modbus.decode import encode_value
from gatewayd.supervisor import Supervisor
from gatewayd.testing.modbus_server import ModbusSim, RegisterModel


def test_listen_prints_json_lines(tmp_path: Path, broker: Any) -> None:
    """--count N readings, each with name, time, value, unit and quality, then exit 0."""
    with ModbusSim({1: RegisterModel(holding=10)}) as sim:
        sim.model(1).set("holding", 0, encode_value(-3.25, "float32"))
        cfg = config.parse({
            "gateway": {"id": "gw-listen"}, "broker": {"url": broker.url},
            "store": {"path": str(tmp_path / "q.db")}, "publish": {"interval_ms": 200},
            "devices": [{"kind": "modbus", "name": "plc", "port": sim.port, "period_ms": 100,
                         "points": [{"alias": 7, "name": "flow", "unit": "l/min", "register": 0,
                                     "data_type": "float32", "resolution": 0.01}]}]})
        listen = subprocess.Popen(
            [sys.executable, "-m", "gatewayd.cli", "listen", "--broker", broker.url,
             "--gateway", "gw-listen", "--count", "5", "--timeout-s", "20"],
            stdout=subprocess.PIPE, text=True)
        sup = Supervisor(cfg)
        sup.start()
        try:
            out, _ = listen.communicate(timeout=30)
        finally:
            sup.stop()
    assert listen.returncode == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == 5
    assert {(r["name"], r["value"], r["unit"], r["quality"], r["quality_name"]) for r in rows} == {
        ("flow", -3.25, "l/min", 0, "good")}
    assert all(isinstance(r["time"], float) for r in rows)
