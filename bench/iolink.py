"""IO-Link benchmark: ports read per second through simulated masters, and pure decode time.

An 8-port master (temperature, pressure and flow devices from the test IODDs) is polled through
the JSON (HTTP) simulator and the Modbus TCP simulator on loopback for a bounded time each.
`ports_per_s` on the last line is the HTTP path (one getdatamulti per poll of all ports);
`decode_us_per_port` is decode_pd alone, per port, over the same mix of devices.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from gatewayd.sources.iolink import iodd
from gatewayd.sources.iolink.config import Config
from gatewayd.sources.iolink.decode import decode_pd
from gatewayd.sources.iolink.regmap import load_map
from gatewayd.sources.iolink.source import build
from gatewayd.testing.iolink_master import (
    IODD_DIR,
    HttpMasterSim,
    ModbusMasterSim,
    SimMaster,
    SimPort,
    encode_pd,
)

IODDS = IODD_DIR
KINDS = ["TS14", "PS16", "FM32"]
VALUES = {"TS14": {"Temperature": 21.5, "OUT1": True}, "PS16": {"Pressure": 2.5},
          "FM32": {"Flow": 12.25, "Counter": 7}}
ITEM = {"TS14": "Temperature", "PS16": "Pressure", "FM32": "Flow"}
PORTS = 8
SECONDS = 2.0


def _file(kind: str) -> Path:
    return IODDS / f"Gatewayd-{kind}-20260101-IODD1.1.xml"


def _kind(port: int) -> str:
    return KINDS[(port - 1) % len(KINDS)]


def _config(access: str, **where: Any) -> Config:
    ports = [{"port": p, "iodd": str(_file(_kind(p)))} for p in range(1, PORTS + 1)]
    points = [{"alias": p, "name": f"p{p}", "port": p, "item": ITEM[_kind(p)]}
              for p in range(1, PORTS + 1)]
    return Config.load({"kind": "iolink", "name": "bench", "access": access,
                        "ports": ports, "points": points, **where})


def _poll(cfg: Config) -> tuple[float, int]:
    device = build(cfg)
    device.open()
    polls, start = 0, time.perf_counter()
    try:
        while time.perf_counter() - start < SECONDS:
            readings = list(device.read(polls))
            assert all(r.quality == 0 for r in readings), readings
            polls += 1
    finally:
        device.close()
    return PORTS * polls / (time.perf_counter() - start), polls


def _decode_us() -> float:
    devices = [iodd.load(_file(k)) for k in KINDS]
    cases = [(encode_pd(d, VALUES[k]), list(d.items), d.pd_octets)
             for d, k in zip(devices, KINDS, strict=True)]
    rounds = 20_000
    start = time.perf_counter()
    for i in range(rounds):
        pd, items, octets = cases[i % 3]
        decode_pd(pd, items, octets)
    return (time.perf_counter() - start) / rounds * 1e6


def main() -> None:
    master = SimMaster({p: SimPort(iodd.load(_file(_kind(p))), dict(VALUES[_kind(p)]))
                        for p in range(1, PORTS + 1)})
    with HttpMasterSim(master) as sim:
        http_rate, http_polls = _poll(_config("http", url=sim.url))
    with ModbusMasterSim(master, load_map("iolink/generic_8port")) as sim:
        modbus_rate, modbus_polls = _poll(_config("modbus", host="127.0.0.1", port=sim.port))
    decode_us = _decode_us()
    print(f"http   (getdatamulti, {PORTS} ports a poll): {http_polls} polls, "
          f"{http_rate:,.0f} ports/s")
    print(f"modbus (2 reads a port, {PORTS} ports a poll): {modbus_polls} polls, "
          f"{modbus_rate:,.0f} ports/s")
    print(f"decode: {decode_us:.2f} us per port (TS14/PS16/FM32 mix)")
    print(f"ports_per_s={http_rate:.0f} decode_us_per_port={decode_us:.2f}")


if __name__ == "__main__":
    main()
