"""What `gatewayd check` asks of a Modbus device: its registers, its RS-485 line and the wire
time of its polls. Bus timing is a lower bound from the wire alone (Modbus RTU: 11 bits a
character, 3.5 character silences between frames); a slow device only makes things worse."""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from ..plugin import Checks, LineUse, RegisterSpan

RTU_BITS_PER_CHAR = 11  # start + 8 data + parity (or a 2nd stop) + stop
RTU_REQUEST_BYTES = 8  # unit, function, start (2), count (2), CRC (2)
RTU_REPLY_OVERHEAD = 5  # unit, function, byte count, CRC (2)


def rtu_char_s(baud: int) -> float:
    return RTU_BITS_PER_CHAR / baud


def rtu_silence_s(baud: int) -> float:
    """The 3.5-character gap between frames; fixed at 1.75 ms above 19200 baud (the spec)."""
    return 3.5 * rtu_char_s(baud) if baud <= 19200 else 0.00175


def rtu_exchange_s(table: str, count: int, baud: int) -> float:
    """Wire time of one read: request, silence, reply, silence."""
    data = 2 * count if table in ("holding", "input") else math.ceil(count / 8)
    chars = RTU_REQUEST_BYTES + RTU_REPLY_OVERHEAD + data
    return chars * rtu_char_s(baud) + 2 * rtu_silence_s(baud)


def rtu_cycle_s(dev: Any) -> float:
    """Least time one poll of a Modbus RTU device takes on the wire, reads coalesced as polled."""
    from .decode import plan_reads

    blocks = plan_reads(dev.points, dev.max_registers_per_read, dev.max_gap)
    return sum(rtu_exchange_s(b.table, b.count, dev.baudrate) for b in blocks)


def _rtu(dev: Any) -> bool:
    return bool(dev.transport == "rtu" and dev.enabled)


def warnings(dev: Any) -> Iterator[str]:
    """A device whose reads outlast its period; registers that look 1-based."""
    if _rtu(dev) and (cycle := rtu_cycle_s(dev)) * 1000 > dev.period_ms:
        yield (f"period_ms: polls every {dev.period_ms} ms but its reads take at least "
               f"{cycle * 1000:.0f} ms at {dev.baudrate} baud")
    yield from one_based_registers(dev)


MODICON_TABLES = {1: "discrete", 3: "input", 4: "holding"}


def one_based_registers(dev: Any) -> Iterator[str]:
    """`register = 30071` is a legal address, but far more often a manual's 1-based reference
    (input register 71, address 70) copied into the 0-based field."""
    for j, p in enumerate(dev.points):
        table = MODICON_TABLES.get(p.address // 10_000)
        if p.use is not None or table is None or p.address % 10_000 == 0:
            continue
        yield (f"points[{j}].register: {p.address} looks like a 1-based manual reference; "
               f'`register` is the 0-based address: table = "{table}", '
               f"register = {p.address % 10_000 - 1}")


def registers(dev: Any) -> Iterator[RegisterSpan]:
    for j, p in enumerate(dev.points):
        yield RegisterSpan(dev.bus_key, dev.unit, p.table, p.address, p.address + p.width, j,
                           p.bit if p.data_type == "bit" else None)


def line(dev: Any) -> LineUse | None:
    if dev.transport != "rtu":
        return None
    return LineUse(dev.serial_port, "modbus", (dev.baudrate, dev.parity, dev.stopbits),
                   rtu_cycle_s(dev) if dev.enabled else 0.0)


CHECKS = Checks(warnings=warnings, registers=registers, line=line)
