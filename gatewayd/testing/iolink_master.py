"""IO-Link masters on loopback, driven by simulated devices whose process data follow IODDs.

    master = SimMaster({1: SimPort(iodd.load("TS14.xml"), {"Temperature": 21.5, "OUT1": True})})
    with HttpMasterSim(master) as http:     # JSON master in the style of ifm's IoT Core
        ...http.url...
    with ModbusMasterSim(master, load_map("iolink/generic_8port")) as mb:   # Modbus TCP master
        ...mb.port...
    master.set(1, Temperature=30.0)          # the device measures something else
    master.set_state(1, PortState.PD_INVALID)

Both servers read the same `SimMaster` on every request, so a test changes the devices and
both access paths see it.
"""

from __future__ import annotations

import asyncio
import json
import math
import struct
import threading
from dataclasses import dataclass, field
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Literal

from pymodbus.server import ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from ..sources.iolink.decode import PortState
from ..sources.iolink.iodd import Iodd, Item
from ..sources.iolink.regmap import RegisterMap
from .broker import free_port


def encode_item(item: Item, value: float | int | bool | str | bytes) -> int:
    """The raw bits of `item` for an engineering value (inverse of the IODD's scaling)."""
    if item.kind in ("string", "octets"):  # text or octets, NUL-padded to the item's length
        text = value.encode() if isinstance(value, str) else bytes(value)  # type: ignore[arg-type]
        return int.from_bytes(text.ljust(item.bit_length // 8, b"\0"), "big")
    assert not isinstance(value, (str, bytes))
    if item.kind == "bool":
        return int(bool(value))
    if item.kind == "float32":
        return int.from_bytes(struct.pack(">f", float(value)), "big")
    raw = round((float(value) - item.offset) / item.gradient)
    return raw & ((1 << item.bit_length) - 1)


def encode_pd(iodd: Iodd, values: dict[str, Any]) -> bytes:
    """Process data octets carrying `values` (by item name) where the IODD places them."""
    whole = 0
    for item in iodd.items:
        if item.name in values:
            whole |= encode_item(item, values[item.name]) << item.bit_offset
    return whole.to_bytes(iodd.pd_octets, "big")


IODD_DIR = Path(__file__).resolve().with_name("iodd")  # the simulated devices' descriptions


@dataclass
class SimPort:
    """The device on one port: its IODD, its current values, what the master says of it."""

    iodd: Iodd
    values: dict[str, Any] = field(default_factory=dict)
    state: PortState = PortState.OPERATE
    vendor_id: int | None = None  # None: the IODD's (set another to plug in a wrong device)
    device_id: int | None = None
    isdu: dict[tuple[int, int], bytes] = field(default_factory=dict)
    raw_pd: bytes | None = None  # overrides the encoded values (short or garbled data)

    @property
    def ids(self) -> tuple[int, int]:
        return (self.vendor_id if self.vendor_id is not None else self.iodd.vendor_id,
                self.device_id if self.device_id is not None else self.iodd.device_id)

    def pdin(self) -> bytes:
        return self.raw_pd if self.raw_pd is not None else encode_pd(self.iodd, self.values)


class SimMaster:
    """The master's view of its ports. Thread-safe: servers read it from their own threads."""

    def __init__(self, ports: dict[int, SimPort], port_count: int = 8) -> None:
        self.ports = ports
        self.port_count = port_count
        self.requests = 0
        self.lock = threading.Lock()

    def set(self, port: int, **values: Any) -> None:
        with self.lock:
            self.ports[port].values.update(values)

    def set_state(self, port: int, state: PortState) -> None:
        with self.lock:
            self.ports[port].state = state

    def unplug(self, port: int) -> None:
        self.set_state(port, PortState.NO_DEVICE)

    # -- the JSON (IoT Core style) protocol ------------------------------------------------
    def iot_request(self, body: dict[str, Any]) -> dict[str, Any]:
        with self.lock:
            self.requests += 1
            code, data = self._iot_service(str(body.get("adr", "")), body.get("data"))
        out: dict[str, Any] = {"cid": body.get("cid", -1), "code": code}
        if data is not None:
            out["data"] = data
        return out

    def _iot_service(self, adr: str, data: Any) -> tuple[int, Any]:
        point, _, service = adr.rpartition("/")
        if service == "getdata":
            code, value = self._iot_point(point)
            return code, {"value": value} if code == 200 else None
        if service == "getdatamulti" and isinstance(data, dict):
            return 200, {p: dict(zip(("code", "data"), self._iot_point(p), strict=True))
                         for p in data.get("datatosend", [])}
        if service == "iolreadacyclic" and isinstance(data, dict):
            return self._iot_isdu(point, data)
        return 400, None

    def _iot_port(self, point: str) -> tuple[SimPort | None, str]:
        head = "/iolinkmaster/port["
        if not point.startswith(head) or "]" not in point:
            return None, ""
        number, _, rest = point[len(head):].partition("]")
        port = self.ports.get(int(number)) if number.isdigit() else None
        return port, rest.removeprefix("/iolinkdevice/")

    def _iot_point(self, point: str) -> tuple[int, Any]:
        port, leaf = self._iot_port(point)
        state = port.state if port else PortState.NO_DEVICE
        if state is PortState.COMM_LOST:
            return 531, None
        if leaf == "status":
            return 200, {PortState.NO_DEVICE: 0, PortState.PREOPERATE: 1,
                         PortState.WRONG_DEVICE: 3}.get(state, 2)
        if port is None or state is PortState.NO_DEVICE:
            return 503, None
        if leaf in ("vendorid", "deviceid"):
            return 200, port.ids[leaf == "deviceid"]
        if leaf == "pdin":
            if state is PortState.PD_INVALID:
                return 530, None
            return 200, port.pdin().hex().upper()
        return 503, None

    def _iot_isdu(self, point: str, data: dict[str, Any]) -> tuple[int, Any]:
        port, _ = self._iot_port(point + "/")
        if port is None or port.state is not PortState.OPERATE:
            return 503, None
        octets = port.isdu.get((int(data.get("index", -1)), int(data.get("subindex", 0))))
        return (531, None) if octets is None else (200, {"value": octets.hex().upper()})

    # -- the Modbus register image -----------------------------------------------------------
    def render(self, m: RegisterMap, regs: list[int], start: int) -> None:
        """Write every port's PQI, process data and identity into `regs` (starting at `start`)."""
        with self.lock:
            self.requests += 1
            for number in range(1, m.ports + 1):
                self._render_port(m, number, self.ports.get(number), regs, start)

    def _render_port(self, m: RegisterMap, number: int, port: SimPort | None,
                     regs: list[int], start: int) -> None:
        state = port.state if port else PortState.NO_DEVICE
        present = state not in (PortState.NO_DEVICE, PortState.COMM_LOST)
        valid = state is PortState.OPERATE or state is PortState.WRONG_DEVICE
        pqi = present << m.pqi.present_bit | (valid and present) << m.pqi.valid_bit
        at = m.status_address(number) - start
        regs[at] = pqi
        pd = (port.pdin() if port and present else b"").ljust(m.pd_max_octets, b"\0")
        pd = pd[: m.pd_max_octets]
        order: Literal["big", "little"] = "big" if m.octet_order == "high_first" else "little"
        first = at + m.port_block.pdin_offset - m.port_block.status_offset
        for i in range(0, len(pd), 2):
            regs[first + i // 2] = int.from_bytes(pd[i : i + 2], order)
        vendor, device = port.ids if port and present else (0, 0)
        ident = m.identity_address(number) - start
        regs[ident + m.identity.vendor_offset] = vendor
        regs[ident + m.identity.device_offset] = device >> 16 & 0xFF
        regs[ident + m.identity.device_offset + 1] = device & 0xFFFF


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 5  # an idle keep-alive connection ends, so stopping the server never hangs
    disable_nagle_algorithm = True  # headers and body go in two writes: no 40 ms ACK stall
    master: SimMaster

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length", 0))
        try:
            body = json.loads(self.rfile.read(length))
            answer = self.master.iot_request(body if isinstance(body, dict) else {})
        except ValueError:
            answer = {"cid": -1, "code": 400}
        self._send(answer)

    def do_GET(self) -> None:
        self._send(self.master.iot_request({"cid": -1, "adr": self.path}))

    def _send(self, answer: dict[str, Any]) -> None:
        raw = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: tests and benchmarks make thousands of requests


class HttpMasterSim:
    """A JSON master on 127.0.0.1 and an ephemeral port, served from a thread we own."""

    def __init__(self, master: SimMaster) -> None:
        handler = type("Handler", (_Handler,), {"master": master})
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = False
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self._thread = threading.Thread(target=self.server.serve_forever,
                                        kwargs={"poll_interval": 0.05}, name="iolink-http-sim")

    def start(self) -> HttpMasterSim:
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()  # joins the connection threads
        self._thread.join(10)

    def __enter__(self) -> HttpMasterSim:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


async def _modbus_action(master: SimMaster, regmap: RegisterMap, fc: int, start: int,
                         address: int, count: int, regs: list[int], values: object) -> None:
    master.render(regmap, regs, start)


class ModbusMasterSim:
    """A pymodbus 3.16 server laid out as `regmap`, on its own event loop thread."""

    def __init__(self, master: SimMaster, regmap: RegisterMap, unit: int = 1) -> None:
        self.master = master
        self.map = regmap
        self.unit = unit
        self.port = free_port()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopping: asyncio.Event
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="iolink-modbus-sim")

    def _run(self) -> None:
        asyncio.run(self._serve())

    def _blocks(self) -> list[SimData]:
        m = self.map
        ident = SimData(m.identity.base, count=m.ports * m.identity.stride,
                        datatype=DataType.REGISTERS)
        size = m.port_block.pdin_offset + math.ceil(m.pd_max_octets / 2)
        return [ident] + [SimData(m.port_block.base + i * m.port_block.stride, count=size,
                                  datatype=DataType.REGISTERS) for i in range(m.ports)]

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopping = asyncio.Event()
        device = SimDevice(id=self.unit, simdata=self._blocks(),
                           action=partial(_modbus_action, self.master, self.map))
        server = ModbusTcpServer(device, address=("127.0.0.1", self.port))
        await server.serve_forever(background=True)
        self._ready.set()
        await self._stopping.wait()
        await server.shutdown()  # type: ignore[no-untyped-call]

    def start(self) -> ModbusMasterSim:
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the Modbus IO-Link master simulator did not start")
        return self

    def stop(self) -> None:
        if self._loop is not None:
            self._loop.call_soon_threadsafe(self._stopping.set)
        self._thread.join(10)

    def __enter__(self) -> ModbusMasterSim:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
