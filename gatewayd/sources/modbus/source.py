"""Modbus device: coalesced block reads each poll, decoded into readings."""

from __future__ import annotations

from collections import Counter

from ...buses import Buses
from ...buses.modbus import Endpoint, ModbusBus, ModbusPort
from ...errors import DeviceException, ProtocolError
from ...model import Reading
from ..base import Device, SourceContext, buses_of
from .config import Config
from .decode import Block, decode_registers, plan_reads


class ModbusDevice(Device):
    cfg: Config

    def __init__(self, cfg: Config, buses: Buses | None = None) -> None:
        super().__init__(cfg, buses=buses)
        self.blocks = plan_reads(cfg.points, cfg.max_registers_per_read, cfg.max_gap)
        self.counters: Counter[str] = Counter()
        self.endpoint = Endpoint(cfg.transport, cfg.host, cfg.port, cfg.serial_port,
                                 cfg.baudrate, cfg.parity, cfg.stopbits)
        self.bus: ModbusBus = self.buses.modbus(self.endpoint, cfg.name)
        self.link: ModbusPort = self.bus.port(cfg.unit, cfg.timeout_ms / 1000, cfg.retries)
        # The longest a healthy poll can take: every request may wait out its retries.
        self.max_poll_s = self.link.max_transaction_s * max(1, len(self.blocks)) + 1

    def open(self) -> None:
        self.link.connect()

    def read(self, now_ms: int) -> list[Reading]:
        """One poll. A block refused by the device is bad for its points only; a dead link raises."""
        out: list[Reading] = []
        for block in self.blocks:
            self.counters["requests"] += 1
            try:
                values = self.link.read(block.table, block.start, block.count)
            except (DeviceException, ProtocolError) as e:
                self.counters[e.quality.label] += 1
                out += [Reading(p.alias, now_ms, None, e.quality) for p in block.points]
                continue
            out += self._decode(block, values, now_ms)
        return out

    @staticmethod
    def _decode(block: Block, values: list[int] | list[bool], now_ms: int) -> list[Reading]:
        out = []
        for p in block.points:
            i = p.address - block.start
            out.append(Reading(p.alias, now_ms, decode_registers(p, values[i : i + p.width])))
        return out

    def close(self) -> None:
        """The line closes when no other device is on it (the bus layer decides)."""
        self.release_bus()


def build(cfg: Config, ctx: SourceContext | None) -> ModbusDevice:
    return ModbusDevice(cfg, buses_of(ctx))
