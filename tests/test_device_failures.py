"""A device that cannot be built (here an IO-Link port whose IODD file is missing) is a clear
error for `gatewayd check`, and at run time it is left out with an event while the other
devices keep publishing."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from gatewayd import config
from gatewayd.consumer import Listener
from gatewayd.supervisor import Supervisor
from gatewayd.testing.modbus_server import ModbusSim, RegisterModel

CONFIG = """
[gateway]
id = "gw-broken-dev"
[broker]
url = "{url}"
[store]
path = "{tmp}/q.db"
[publish]
interval_ms = 200
[[devices]]
kind = "modbus"
name = "plc"
port = {port}
period_ms = 200
points = [ {{ alias = 1, name = "temp", register = 0 }} ]
[[devices]]
kind = "iolink"
name = "master"
access = "http"
url = "http://127.0.0.1:9"
[[devices.ports]]
port = 1
iodd = "{tmp}/missing-IODD1.1.xml"
[[devices.points]]
alias = 2
name = "pressure"
port = 1
item = "Pressure"
"""


def test_check_names_the_device_and_run_keeps_the_others(tmp_path: Path, broker: Any) -> None:
    """check exits 1 naming the device and file; the daemon publishes the rest and an event."""
    with ModbusSim({1: RegisterModel(holding=10)}) as sim:
        sim.model(1).set("holding", 0, [42])
        path = tmp_path / "g.toml"
        path.write_text(CONFIG.format(url=broker.url, tmp=tmp_path, port=sim.port))
        check = subprocess.run([sys.executable, "-m", "gatewayd.cli", "check", str(path)],
                               capture_output=True, text=True)
        listener = Listener(broker.url, "gw-broken-dev").start()
        sup = Supervisor(config.load(path))
        sup.start()
        got: list[dict[str, Any]] = []
        try:
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline and not (
                    any(r.get("kind") == "device_failed" for r in got)
                    and any(r.get("name") == "temp" for r in got)):
                got += list(listener.records(timeout_s=0.2))
        finally:
            sup.stop()
            listener.stop()
    assert check.returncode == 1
    assert "device master" in check.stderr and "missing-IODD1.1.xml" in check.stderr
    failed = next(r for r in got if r.get("kind") == "device_failed")
    assert failed["device"] == "master" and "missing-IODD1.1.xml" in failed["reason"]
    assert any(r.get("name") == "temp" and r["value"] == 42 for r in got)
