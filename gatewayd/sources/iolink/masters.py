"""The two ways to reach an IO-Link master: each turns one poll into a `PortRead` per port."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

from ...buses.iolink_http import HttpBus, IotCoreClient
from ...buses.modbus import ModbusBus, ModbusPort
from ...errors import ProtocolError
from .decode import IOT_CODES, IOT_STATUS, PortState, parse_hex, registers_to_octets
from .regmap import RegisterMap


@dataclass(frozen=True)
class PortRead:
    """What the master says about one port this poll. Identity is None when not known."""

    state: PortState
    pd: bytes = b""
    vendor_id: int | None = None
    device_id: int | None = None


class Master(Protocol):
    def open(self) -> None: ...
    def read_ports(self, ports: dict[int, int]) -> dict[int, PortRead]:
        """`ports` maps port number -> process-data octets expected there."""
    def read_isdu(self, port: int, index: int, subindex: int) -> bytes: ...
    def close(self) -> None: ...


def _port_adr(port: int, leaf: str) -> str:
    return f"/iolinkmaster/port[{port}]/iolinkdevice/{leaf}"


class HttpMaster:
    """A JSON master: one `getdatamulti` per poll for status, identity and pdin of every port."""

    LEAVES = ("status", "vendorid", "deviceid", "pdin")

    def __init__(self, bus: HttpBus, url: str, timeout_s: float) -> None:
        self.bus = bus
        self.url = url
        self.timeout_s = timeout_s
        self.client: IotCoreClient | None = None

    def open(self) -> None:
        if self.client is None:
            self.client = self.bus.port(self.url, self.timeout_s)

    def read_ports(self, ports: dict[int, int]) -> dict[int, PortRead]:
        assert self.client is not None, "open() first"
        wanted = [_port_adr(p, leaf) for p in ports for leaf in self.LEAVES]
        got = self.client.getdatamulti(wanted)
        return {p: self._port(p, got) for p in ports}

    def _port(self, port: int, got: dict[str, tuple[int, Any]]) -> PortRead:
        status, pdin, vendor, device = (got[_port_adr(port, leaf)] for leaf in
                                        ("status", "pdin", "vendorid", "deviceid"))
        state = self._state(status, pdin)
        if state is not PortState.OPERATE:
            return PortRead(state)
        try:
            pd = parse_hex(str(pdin[1]))
        except ValueError:
            raise ProtocolError(f"{self.url}: port {port}: pdin {pdin[1]!r} is not hex") from None
        return PortRead(state, pd, _number(vendor), _number(device))

    @staticmethod
    def _state(status: tuple[int, Any], pdin: tuple[int, Any]) -> PortState:
        if status[0] != 200:
            return IOT_CODES.get(status[0], PortState.REFUSED)
        state = IOT_STATUS.get(_number(status) or 0, PortState.REFUSED)
        if state is PortState.OPERATE and pdin[0] != 200:
            return IOT_CODES.get(pdin[0], PortState.REFUSED)
        return state

    def read_isdu(self, port: int, index: int, subindex: int) -> bytes:
        assert self.client is not None, "open() first"
        return self.client.read_isdu(port, index, subindex)

    def close(self) -> None:
        self.client = None  # the connection pool is the bus's


def _number(answer: tuple[int, Any]) -> int | None:
    code, value = answer
    if code != 200:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class ModbusMaster:
    """A Modbus TCP master: per port, one read of status + process data, one of the identity."""

    def __init__(self, bus: ModbusBus, unit: int, timeout_s: float, regmap: RegisterMap) -> None:
        self.bus = bus
        self.unit = unit
        self.map = regmap
        self.link: ModbusPort = bus.port(unit, timeout_s)

    def open(self) -> None:
        self.link.connect()

    def read_ports(self, ports: dict[int, int]) -> dict[int, PortRead]:
        return {p: self._port(p, octets) for p, octets in ports.items()}

    def _read(self, address: int, count: int) -> list[int]:
        return [int(r) for r in self.link.read(self.map.table, address, count)]

    def _port(self, port: int, octets: int) -> PortRead:
        m = self.map
        regs = self._read(m.status_address(port), m.pdin_registers(octets))
        state = m.pqi_bits.state(regs[0] & 0xFF)
        if state is not PortState.OPERATE:
            return PortRead(state)
        skip = m.port_block.pdin_offset - m.port_block.status_offset
        pd = registers_to_octets(regs[skip:], m.octet_order == "high_first")[:octets]
        ident = self._read(m.identity_address(port) + m.identity.vendor_offset,
                           m.identity.device_offset - m.identity.vendor_offset + 2)
        dev = ident[-2] & 0xFF
        return PortRead(state, pd, ident[0], dev << 16 | ident[-1])

    def read_isdu(self, port: int, index: int, subindex: int) -> bytes:
        raise ProtocolError(f"{self.bus.label}: ISDU reads need access = 'http'")

    def close(self) -> None:
        """The connection is the bus's: it stays for the other devices on the line."""
