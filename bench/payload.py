"""Bytes and encoder CPU per reading of the wire format on the issue-11 workload, without the
network: 10 Modbus units x 100 holding registers polled every 100 ms, every value changing on
every poll (register 0 a read counter, the others 10000 + 10000·sin(n/10 + i)), cut into batches
of 100 ms, 250 ms and 1 s. Also a float32 workload (the same devices reading float32 registers).

The encoder is `gatewayd.pipeline.codec` as imported, so running this file against an older
checkout (PYTHONPATH=<checkout>) gives that version's figures with the same workload.

Last line: bytes_per_reading_100ms=… bytes_per_reading_250ms=… bytes_per_reading_1s=…
f32_bytes_per_reading_100ms=… encode_us_per_reading=… (target: ≤ 3.5 bytes at 100 ms)
"""

from __future__ import annotations

import math
import struct
import time

from gatewayd.model import Reading
from gatewayd.pipeline import codec

UNITS, REGISTERS, PERIOD_MS, SECONDS = 10, 100, 100, 20
T0 = 1_795_000_000_000


def f32(x: float) -> float:
    return float(struct.unpack("f", struct.pack("f", x))[0])


def polls(as_float: bool) -> list[list[Reading]]:
    """One list of readings per poll tick (all units polled on the same scheduled tick)."""
    out = []
    for n in range(SECONDS * 1000 // PERIOD_MS):
        tick = T0 + n * PERIOD_MS
        rs = []
        for u in range(UNITS):
            for i in range(REGISTERS):
                alias = u * REGISTERS + i + 1
                if i == 0:
                    v: float | int = n
                else:
                    raw = 10000 + 10000 * math.sin(n / 10 + i)
                    v = f32(raw) if as_float else int(raw)
                rs.append(Reading(alias, tick, v, 0))
        out.append(rs)
    return out


def encode(ticks: list[list[Reading]], batch_ms: int) -> tuple[int, int, float]:
    """(payload bytes, readings, CPU seconds) for the workload cut into batches of batch_ms."""
    per = max(1, batch_ms // PERIOD_MS)
    size = readings = 0
    c0 = time.process_time()
    for seq, i in enumerate(range(0, len(ticks), per), start=1):
        batch = [r for rs in ticks[i:i + per] for r in rs]
        size += len(codec.encode_data(seq, batch, {}, 0x1234ABCD))
        readings += len(batch)
    return size, readings, time.process_time() - c0


def main() -> None:
    ints, floats = polls(False), polls(True)
    figures: dict[str, float] = {}
    cpu = n_all = 0.0
    for label, ms in (("100ms", 100), ("250ms", 250), ("1s", 1000)):
        size, n, spent = encode(ints, ms)
        figures[f"bytes_per_reading_{label}"] = size / n
        cpu, n_all = cpu + spent, n_all + n
    size, n, _ = encode(floats, 100)
    figures["f32_bytes_per_reading_100ms"] = size / n
    figures["encode_us_per_reading"] = cpu / n_all * 1e6
    print(f"codec version {codec.VERSION}; target: bytes_per_reading_100ms <= 3.5")
    print(" ".join(f"{k}={v:.3g}" for k, v in figures.items()))


if __name__ == "__main__":
    main()
