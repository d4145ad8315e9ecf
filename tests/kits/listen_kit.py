"""Helpers of the `gatewayd listen` tests: a real gateway publishing one Modbus point, and the
command listening to it in its own process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

from gatewayd import config
from gatewayd.sources.modbus.decode import encode_value
from gatewayd.supervisor import Supervisor
from gatewayd.testing.modbus_server import ModbusSim, RegisterModel

FLOW = -3.25  # l/min, what the PLC's holding registers 0-1 hold as float32


def listen_to_a_gateway(broker_url: str, gateway: str, store_dir: Path, *listen_args: str,
                        **point: Any) -> tuple[int, str]:
    """A supervisor publishing the point `flow` (alias 7, FLOW l/min, polled every 100 ms, with
    the extra settings in `point`) as `gateway`, while `gatewayd listen --broker broker_url
    --gateway gateway *listen_args` runs: its exit code and its stdout."""
    with ModbusSim({1: RegisterModel(holding=10)}) as sim:
        sim.model(1).set("holding", 0, encode_value(FLOW, "float32"))
        cfg = config.parse({
            "gateway": {"id": gateway}, "broker": {"url": broker_url},
            "store": {"path": str(store_dir / "q.db")}, "publish": {"interval_ms": 200},
            "devices": [{"kind": "modbus", "name": "plc", "port": sim.port, "period_ms": 100,
                         "points": [{"alias": 7, "name": "flow", "unit": "l/min", "register": 0,
                                     "data_type": "float32", **point}]}]})
        proc = subprocess.Popen(
            [sys.executable, "-m", "gatewayd.cli", "listen", "--broker", broker_url,
             "--gateway", gateway, *listen_args, "--timeout-s", "20"],
            stdout=subprocess.PIPE, text=True)
        sup = Supervisor(cfg)
        sup.start()
        try:
            out, _ = proc.communicate(timeout=30)
        finally:
            sup.stop()
    return proc.returncode, out
