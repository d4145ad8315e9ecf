"""The analog source: 4-20 mA loops from an ADS1115 across a shunt or from a Modbus module,
each loop run through the pure chain in loop.py; alarm changes go out as events."""

from __future__ import annotations

import time
from typing import Any

from ...buses.i2c import I2CDevice, open_bus
from ...model import Event, Reading
from ..base import Device, SourceContext
from ..i2c.ads1115_codec import CHANNELS, code_to_volts
from ..i2c.drivers import Ads1115, Sleep
from .config import AnalogPoint, Config
from .loop import LimitAlarms, LoopPoint, ReportByException, Smoother, counts_ma, shunt_ma


def loop_of(p: AnalogPoint) -> LoopPoint:
    alarms = LimitAlarms.of(**p.alarms.model_dump()) if p.alarms else LimitAlarms([])
    return LoopPoint(p.low, p.high, p.sqrt, p.sqrt_cutoff_pct, Smoother(p.filter, p.filter_n),
                     ReportByException(p.deadband, p.max_silence_ms), alarms)


class AnalogLoops(Device):
    """A PolledDevice: each poll reads every loop's current and emits what is due."""

    cfg: Config


    def __init__(self, cfg: Config, ctx: SourceContext, bus: Any = None,
                 sleep: Sleep = time.sleep) -> None:
        super().__init__(cfg)
        self.ctx = ctx
        self.loops = [loop_of(p) for p in cfg.points]  # state survives a reopen
        self._bus, self._sleep = bus, sleep
        self._adc: Ads1115 | None = None
        self._link: Any = None
        self._opened: Any = None

    def open(self) -> None:
        self.close()
        c = self.cfg
        if c.input == "ads1115":
            bus = self._bus if self._bus is not None else open_bus(c.bus, self.ctx.backend)
            self._opened = bus if self._bus is None else None  # ours to close
            self._adc = Ads1115(I2CDevice(bus, c.bus, c.address, "ads1115"), c.data_rate_sps,
                                self._sleep)
            self._adc.open()
        else:
            from ...buses.modbus import Endpoint, ModbusLink

            self._link = ModbusLink.acquire(Endpoint(host=c.host, port=c.port,
                                                     timeout_s=c.timeout_ms / 1000))

    def currents_ma(self) -> list[float]:
        """One loop current per point, in mA."""
        c = self.cfg
        if self._adc is not None:
            adc = self._adc
            return [shunt_ma(code_to_volts(adc.convert(CHANNELS[f"ain{p.channel}"], c.full_scale_v),
                                           c.full_scale_v), c.shunt_ohms) for p in c.points]
        regs = self._registers()
        raw = [regs[p.address] for p in c.points if p.address is not None]
        if c.encoding == "ua":
            return [r / 1000 for r in raw]
        return [counts_ma(_int16(r), c.counts_4ma, c.counts_20ma) for r in raw]

    def _registers(self) -> dict[int, int]:
        """The points' registers, in one read when they lie within 125 of each other."""
        addrs = sorted({p.address for p in self.cfg.points if p.address is not None})
        spans = [(addrs[0], addrs[-1])] if addrs and addrs[-1] - addrs[0] < 125 else [
            (a, a) for a in addrs]
        out: dict[int, int] = {}
        for lo, hi in spans:
            values = self._link.read(self.cfg.table, lo, hi - lo + 1, self.cfg.unit)
            out.update(zip(range(lo, hi + 1), values, strict=True))
        return out

    def read(self, now_ms: int) -> list[Reading]:
        if self._adc is None and self._link is None:
            self.open()
        out = []
        for point, loop, ma in zip(self.points, self.loops, self.currents_ma(), strict=True):
            emit, changes = loop.process(ma, now_ms)
            if emit is not None:
                out.append(Reading(point.alias, now_ms, emit[0], emit[1]))
            for ch in changes:
                self.ctx.event(Event(now_ms, "alarm", {
                    "device": self.name, "point": point.name, "alias": point.alias,
                    "level": ch.level, "state": "active" if ch.active else "cleared",
                    "value": ch.value, "limit": ch.limit, "unit": point.unit}))
        return out

    def close(self) -> None:
        self._adc = None
        if self._opened is not None:
            self._opened.close()  # a real bus's file descriptor; a SimBus ignores it
            self._opened = None
        if self._link is not None:
            self._link.release()
            self._link = None


def _int16(word: int) -> int:
    return word - 0x10000 if word & 0x8000 else word


def build(cfg: Config, ctx: SourceContext) -> AnalogLoops:
    return AnalogLoops(cfg, ctx, ctx.extras.get("i2c_bus"), ctx.extras.get("sleep", time.sleep))
