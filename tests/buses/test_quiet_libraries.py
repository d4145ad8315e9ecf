"""Quiet libraries (issue 12 item 10): polling an IO-Link master, a Modbus unit and a download
over HTTP at the daemon's INFO level writes no line from a library."""

from __future__ import annotations

import logging
from pathlib import Path

import httpx
import pytest

from gatewayd.cli import _setup_logging
from gatewayd.config import parse
from gatewayd.sources import source_module
from gatewayd.sources.base import SourceContext
from gatewayd.sources.iolink import iodd
from gatewayd.testing.iolink_master import IODD_DIR, HttpMasterSim, SimMaster, SimPort
from gatewayd.testing.modbus_server import ModbusSim, RegisterModel


class Keep(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


def test_no_library_lines_per_poll(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Twenty polls of each kind: nothing logged by httpx, httpcore or pymodbus."""
    root = logging.getLogger()
    monkeypatch.setattr(root, "handlers", [])
    monkeypatch.setattr(root, "level", root.level)
    for name in ("httpx", "httpcore", "pymodbus"):
        monkeypatch.setattr(logging.getLogger(name), "level", logging.NOTSET)
    _setup_logging(verbose=False)  # what `gatewayd run` does: INFO, libraries quieted
    keep = Keep()
    root.addHandler(keep)
    path = IODD_DIR / "Gatewayd-TS14-20260101-IODD1.1.xml"
    master = SimMaster({1: SimPort(iodd.load(path), {"Temperature": 21.5})})
    ctx = SourceContext(lambda r: None, lambda e: None, tmp_path, lambda: 0)
    with HttpMasterSim(master) as sim, ModbusSim({1: RegisterModel(holding=4)}) as plc:
        cfg = parse({"gateway": {"id": "t"}, "devices": [
            {"kind": "iolink", "name": "m", "url": sim.url, "ports": [{"port": 1, "iodd": str(path)}],
             "points": [{"alias": 1, "name": "t", "port": 1, "item": "Temperature"}]},
            {"kind": "modbus", "name": "plc", "port": plc.port,
             "points": [{"alias": 2, "name": "r", "register": 0}]}]})
        devices = [source_module(d.kind).build(d, ctx) for d in cfg.devices]
        try:
            for d in devices:
                d.open()
            for n in range(20):
                for d in devices:
                    assert list(d.read(n))
            httpx.get(sim.url)  # fleet downloads use httpx: its per-request INFO line too
        finally:
            for d in devices:
                d.close()
            ctx.buses.close()
            root.removeHandler(keep)
    chatter = [f"{r.name}: {r.getMessage()}" for r in keep.records
               if not r.name.startswith("gatewayd")]
    assert chatter == []
