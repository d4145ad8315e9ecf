"""Modbus TCP units whose every register changes on every read, and whose register 0 counts the
reads it served: the workload of the crash and latency benchmarks (issue 11).

    python -m gatewayd.testing.workload --ports 5020,5021 --registers 100 --seconds 120

Register 0 is the number of reads served (mod 65536), so a subscriber that sees every value of
it once has lost nothing; registers 1.. hold 10000 + 10000·sin(n/10 + i) for read n, so every
value differs from the one before (nothing compresses by being unchanged).
"""

from __future__ import annotations

import argparse
import json
import math
import signal
import time
from pathlib import Path
from typing import Any, SupportsIndex

from .modbus_server import ModbusSim, RegisterModel


class CountingRegisters(list[int]):
    """A holding table that turns over at every read of a range (one read = one request)."""

    def __init__(self, size: int) -> None:
        super().__init__([0] * size)
        self.reads = 0
        self.served_ms: list[int] = []  # when each read was answered (read n at index n - 1)

    def __getitem__(self, key: SupportsIndex | slice) -> Any:
        if isinstance(key, slice):
            self.reads += 1
            self.served_ms.append(time.time_ns() // 1_000_000)
            n = self.reads
            self[0] = n & 0xFFFF
            for i in range(1, len(self)):
                self[i] = int(10000 + 10000 * math.sin(n / 10 + i))
        return super().__getitem__(key)


def counting_model(registers: int) -> RegisterModel:
    model = RegisterModel(holding=registers, input=1, bits=1)
    model.tables["holding"] = CountingRegisters(registers)
    return model


def _exit(signum: int, frame: object) -> None:
    raise SystemExit(0)  # so the log is written on SIGTERM too


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ports", required=True, help="comma-separated TCP ports, one unit each")
    ap.add_argument("--registers", type=int, default=100)
    ap.add_argument("--seconds", type=float, default=600)
    ap.add_argument("--log", type=Path, default=None,
                    help="at exit, write when each read was served: {port: [ms, ...]}")
    args = ap.parse_args()
    signal.signal(signal.SIGTERM, _exit)
    ports = [int(p) for p in args.ports.split(",")]
    models = {p: counting_model(args.registers) for p in ports}
    sims = [ModbusSim({1: models[p]}, port=p).start() for p in ports]
    try:
        time.sleep(args.seconds)
    finally:
        for sim in sims:
            sim.stop()
        if args.log is not None:
            args.log.write_text(json.dumps(
                {p: m.tables["holding"].served_ms for p, m in models.items()}))  # type: ignore[attr-defined]


if __name__ == "__main__":
    main()
