"""IO-Link device: the ports of one master, each decoded from its IODD, as one polled device.

Port status is data: a port with no device, the wrong device, invalid process data or lost
communication gives bad-quality readings for its points with that reason; only a master that
cannot be reached at all fails the whole poll (raised, for the supervisor to handle).
"""

from __future__ import annotations

import dataclasses
import struct
from collections.abc import Iterable
from dataclasses import dataclass, field

from ...buses import Buses
from ...buses.modbus import Endpoint
from ...errors import ConfigError, DeviceError
from ...model import Point, Quality, Reading
from ..base import Device, SourceContext, buses_of
from . import iodd as iodd_mod
from .config import Config, IolinkPoint, PortConfig
from .decode import STATE_QUALITY, PortState, decode_pd, identity_state, signed, vanished
from .masters import HttpMaster, ModbusMaster, PortRead
from .regmap import load_map


@dataclass
class PortPlan:
    """One port: its IODD, the items picked for publishing and their aliases."""

    cfg: PortConfig
    iodd: iodd_mod.Iodd
    items: list[iodd_mod.Item] = field(default_factory=list)
    aliases: list[int] = field(default_factory=list)
    seen: bool = False  # a device answered on this port since open()


def _point_type(kind: str, gradient: float, offset: float) -> str:
    if kind == "bool":
        return "bool"
    if kind in ("string", "octets"):  # text as read; octets as hex text
        return "string"
    plain = kind != "float32" and gradient == 1.0 and offset == 0.0
    return "int" if plain else "float"


def make_point(p: IolinkPoint, item: iodd_mod.Item | None, device: str) -> Point:
    """The birth description: what the installer set, else what the IODD says."""
    point = p.point(device, port=p.port, item=item.name if item else None, index=p.index)
    given = p.given
    source = ((item.kind, item.gradient, item.offset) if item
              else (p.data_type, p.scale, p.offset))
    kind = p.type if "type" in given else _point_type(*source)
    resolution = point.resolution
    if kind == "float" and "resolution" not in given and source[1] not in (0.0, 1.0):
        resolution = abs(source[1])
    unit = p.unit if "unit" in given or item is None else item.unit
    return dataclasses.replace(point, unit=unit, type=kind,
                               resolution=resolution if kind == "float" else None)


def decode_parameter(p: IolinkPoint, octets: bytes) -> tuple[float | int | None, Quality]:
    """An ISDU parameter's value from its octets, as the point's data_type says."""
    if not octets or (p.data_type == "float32" and len(octets) != 4):
        return None, Quality.BAD_MALFORMED
    raw = int.from_bytes(octets, "big")
    if p.data_type == "bool":
        return int(raw != 0), Quality.GOOD
    number: float = (struct.unpack(">f", octets)[0] if p.data_type == "float32"
                     else signed(raw, 8 * len(octets)) if p.data_type == "int" else raw)
    return number, Quality.GOOD  # the point stage applies its scale and offset


class IolinkDevice(Device):
    cfg: Config

    def __init__(self, cfg: Config, plans: list[PortPlan], points: list[Point],
                 buses: Buses | None = None) -> None:
        super().__init__(cfg, points, buses)
        self.master = _master(cfg, self.buses)
        self.bus = self.master.bus
        self.plans = plans
        self.parameters = [p for p in cfg.points if p.is_parameter]
        # The poll's deadline: one exchange for the ports, one per ISDU parameter, each ended by
        # the HTTP bus at its timeout however slowly the master answers.
        self.max_poll_s = cfg.timeout_ms / 1000 * (1 + len(self.parameters)) + 1
        self.next_isdu_ms = 0

    def open(self) -> None:
        for plan in self.plans:
            plan.seen = False
        self.next_isdu_ms = 0
        self.master.open()

    def read(self, now_ms: int) -> Iterable[Reading]:
        """One poll of every port; ISDU parameters too when their slower interval is due."""
        wanted = {plan.cfg.port: plan.iodd.pd_octets for plan in self.plans}
        reads = self.master.read_ports(wanted)
        out: list[Reading] = []
        for plan in self.plans:
            out += self._port_readings(plan, reads[plan.cfg.port], now_ms)
        if self.parameters and now_ms >= self.next_isdu_ms:
            self.next_isdu_ms = now_ms + self.cfg.isdu_period_ms
            out += self._parameters(now_ms)
        return out

    def _port_readings(self, plan: PortPlan, got: PortRead, now_ms: int) -> list[Reading]:
        state = self._checked(plan, got)
        if state is not PortState.OPERATE:
            quality = STATE_QUALITY[state]
            return [Reading(a, now_ms, None, quality) for a in plan.aliases]
        values = decode_pd(got.pd, plan.items, plan.iodd.pd_octets)
        return [Reading(a, now_ms, v if q.is_good else None, q)  # type: ignore[arg-type]
                for a, (v, q) in zip(plan.aliases, values, strict=True)]

    @staticmethod
    def _checked(plan: PortPlan, got: PortRead) -> PortState:
        state = vanished(got.state, plan.seen)
        if state is PortState.OPERATE and plan.cfg.check_identity and got.vendor_id is not None:
            want = plan.iodd
            state = identity_state(got.vendor_id, got.device_id or 0,
                                   want.vendor_id, want.device_id)
        if got.state not in (PortState.NO_DEVICE, PortState.COMM_LOST):
            plan.seen = True
        return state

    def _parameters(self, now_ms: int) -> list[Reading]:
        out = []
        for p in self.parameters:
            try:
                octets = self.master.read_isdu(p.port, p.index or 0, p.subindex)
            except DeviceError as e:
                out.append(Reading(p.alias, now_ms, None, e.quality))
                continue
            value, quality = decode_parameter(p, octets)
            out.append(Reading(p.alias, now_ms, value, quality))
        return out

    def close(self) -> None:
        self.master.close()
        self.release_bus()


def _plans(cfg: Config) -> list[PortPlan]:
    plans = []
    for port in cfg.ports:
        plan = PortPlan(port, iodd_mod.load(port.iodd, port.process_data_in))
        for p in cfg.points:
            if p.port == port.port and p.item is not None:
                plan.items.append(_item(plan.iodd, p, cfg.name))
                plan.aliases.append(p.alias)
        plans.append(plan)
    return plans


def _item(iodd: iodd_mod.Iodd, p: IolinkPoint, device: str) -> iodd_mod.Item:
    where = f"{device}: point {p.name!r}: item"
    try:
        item = iodd.item(str(p.item))
    except ValueError as e:
        raise ConfigError([f"{where}: found {p.item!r}, expected {e}"]) from None
    return item  # text items (StringT, OctetStringT) are published as string points


def _master(cfg: Config, buses: Buses) -> HttpMaster | ModbusMaster:
    timeout_s = cfg.timeout_ms / 1000
    if cfg.access == "http":
        return HttpMaster(buses.http(cfg.url, cfg.name), cfg.url, timeout_s)
    bus = buses.modbus(Endpoint("tcp", cfg.host, cfg.port), cfg.name)
    return ModbusMaster(bus, cfg.unit, timeout_s, load_map(cfg.register_map))


def build(cfg: Config, ctx: SourceContext | None = None) -> IolinkDevice:
    """The device for `cfg`; ConfigError if an IODD, an item or the register map is wrong."""
    plans = _plans(cfg)
    by_port = {plan.cfg.port: plan for plan in plans}
    points = []
    for p in cfg.points:
        item = by_port[p.port].iodd.item(str(p.item)) if p.item is not None else None
        points.append(make_point(p, item, cfg.name))
    return IolinkDevice(cfg, plans, points, buses_of(ctx))
