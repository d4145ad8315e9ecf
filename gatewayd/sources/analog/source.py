"""The analog source: 4-20 mA loops read as raw values by the device that carries them.

An ADS1115 across a shunt is an i2c ADS1115 device giving volts; a Modbus analog input module
is a Modbus device giving its registers (microamps or counts), with the Modbus source's read
coalescing. What makes a loop a loop (to mA, NAMUR NE43, span, filter, alarms, report by
exception) is each point's 4-20 mA transform in the point stage (`Config.point_transforms`).
"""

from __future__ import annotations

import time
from typing import Any

from ...buses import Buses
from ...model import Reading
from ..base import Device, SourceContext, buses_of
from ..i2c import config as i2c_config
from ..i2c.drivers import Sleep
from ..i2c.source import I2CSensor
from ..modbus import config as modbus_config
from ..modbus.source import ModbusDevice
from .config import Config


def adc_config(c: Config) -> i2c_config.Config:
    """The ADS1115 carrying the loops, as an i2c device: one single-ended channel a loop."""
    points = [{"alias": p.alias, "name": p.name, "unit": "V", "channel": f"ain{p.channel}",
               "full_scale_v": c.full_scale_v} for p in c.points]
    return i2c_config.Config.load({
        "kind": "i2c", "name": c.name, "period_ms": c.period_ms, "chip": "ads1115",
        "bus": c.bus, "address": c.address, "data_rate_sps": c.data_rate_sps, "points": points})


def module_config(c: Config) -> modbus_config.Config:
    """The analog input module, as a Modbus TCP device: one register a loop (unsigned
    microamps, or signed counts)."""
    data_type = "uint16" if c.encoding == "ua" else "int16"
    points = [{"alias": p.alias, "name": p.name, "register": p.address, "table": c.table,
               "data_type": data_type, "type": "int"} for p in c.points]
    return modbus_config.Config.load({
        "kind": "modbus", "name": c.name, "period_ms": c.period_ms, "transport": "tcp",
        "host": c.host, "port": c.port, "unit": c.unit, "timeout_ms": c.timeout_ms,
        "retries": 0, "max_gap": 100, "points": points})


class AnalogLoops(Device):
    """A PolledDevice: the raw values of every loop, from the device that carries them."""

    cfg: Config

    def __init__(self, cfg: Config, bus: Any = None, sleep: Sleep = time.sleep,
                 buses: Buses | None = None) -> None:
        super().__init__(cfg, buses=buses)
        self.inner: I2CSensor | ModbusDevice = (
            I2CSensor(adc_config(cfg), bus, sleep, self.buses) if cfg.input == "ads1115"
            else ModbusDevice(module_config(cfg), self.buses))
        self.bus = self.inner.bus
        self.max_poll_s = self.inner.max_poll_s

    @property
    def counters(self) -> Any:
        return getattr(self.inner, "counters", {})

    def open(self) -> None:
        self.inner.open()

    def read(self, now_ms: int) -> list[Reading]:
        return self.inner.read(now_ms)

    def close(self) -> None:
        self.inner.close()
        self.release_bus()


def build(cfg: Config, ctx: SourceContext) -> AnalogLoops:
    return AnalogLoops(cfg, ctx.extras.get("i2c_bus"), ctx.extras.get("sleep", time.sleep),
                       buses_of(ctx))
