"""A Modbus TCP device on loopback: a real pymodbus 3.16 server (SimDevice) over a register
model we control, with the faults field devices show.

The model (`tables`) is the truth; the SimDevice `action` copies the requested range into the
server's registers on every request, and can answer with an exception code or not at all:

    sim = ModbusSim({1: RegisterModel(holding=200)}).start()
    sim.model(1).set("holding", 10, [0x4148, 0x0000])   # 12.5 as float32
    sim.fault(1, "busy")        # every request: exception 6 (device busy)
    sim.fault(1, "silent")      # no reply: the client times out
    sim.fault(1, None)          # healthy again
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import threading
import time
from dataclasses import dataclass, field
from functools import partial

from pymodbus import FramerType
from pymodbus.constants import ExcCodes
from pymodbus.server import ModbusSerialServer, ModbusTcpServer
from pymodbus.simulator import DataType, SimData, SimDevice

from .broker import free_port, wait_port

FAULTS = {"illegal_address": ExcCodes.ILLEGAL_ADDRESS, "busy": ExcCodes.DEVICE_BUSY,
          "failure": ExcCodes.DEVICE_FAILURE, "illegal_function": ExcCodes.ILLEGAL_FUNCTION}
_TABLE_OF_FC = {1: "coil", 2: "discrete", 3: "holding", 4: "input"}


@dataclass
class RegisterModel:
    """The four Modbus tables of one unit. Addresses past the end are illegal (exception 2)."""

    holding: int = 1000
    input: int = 1000
    bits: int = 256
    tables: dict[str, list[int]] = field(default_factory=dict)
    fault: str | None = None
    requests: int = 0

    def __post_init__(self) -> None:
        self.tables = {"holding": [0] * self.holding, "input": [0] * self.input,
                       "coil": [0] * self.bits, "discrete": [0] * self.bits}

    def set(self, table: str, address: int, values: list[int]) -> None:
        self.tables[table][address : address + len(values)] = [int(v) & 0xFFFF for v in values]


async def _action(model: RegisterModel, fc: int, start: int, address: int, count: int,
                  regs: list[int], set_values: object) -> ExcCodes | None:
    model.requests += 1
    if model.fault == "silent":
        await asyncio.sleep(3600)
    if model.fault in FAULTS:
        return FAULTS[model.fault]
    table = _TABLE_OF_FC.get(fc)
    if table in ("holding", "input"):
        regs[address - start : address - start + count] = model.tables[table][address : address + count]
    elif table is not None:  # bits travel packed 16 to a register in the SimDevice
        bits = model.tables[table]
        for i in range(min(len(regs), math.ceil(len(bits) / 16))):
            regs[i] = sum(1 << b for b in range(16) if i * 16 + b < len(bits) and bits[i * 16 + b])
    return None


def _device(unit: int, model: RegisterModel) -> SimDevice:
    return SimDevice(
        id=unit,
        simdata=(
            [SimData(0, count=model.bits, values=False, datatype=DataType.BITS)],
            [SimData(0, count=model.bits, values=False, datatype=DataType.BITS)],
            [SimData(0, count=model.holding, values=0, datatype=DataType.REGISTERS)],
            [SimData(0, count=model.input, values=0, datatype=DataType.REGISTERS)],
        ),
        action=partial(_action, model),
    )


class ModbusSim:
    """A pymodbus TCP server with several units, run on its own event loop thread."""

    def __init__(self, units: dict[int, RegisterModel], port: int = 0, host: str = "127.0.0.1",
                 serial_port: str | None = None, baudrate: int = 19200, parity: str = "N") -> None:
        """TCP on loopback, or RTU on `serial_port` (one end of a NullModem)."""
        self.units = units
        self.host = host
        self.serial_port = serial_port
        self.baudrate = baudrate
        self.parity = parity
        self.port = 0 if serial_port else port or free_port()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._server: ModbusTcpServer | ModbusSerialServer | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()

    def model(self, unit: int) -> RegisterModel:
        return self.units[unit]

    def fault(self, unit: int, kind: str | None) -> None:
        self.units[unit].fault = kind

    def start(self) -> ModbusSim:
        self._thread = threading.Thread(target=self._run, name=f"modbus-sim:{self.port}", daemon=True)
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("modbus simulator did not start")
        if self.serial_port is None:
            wait_port(self.port, host=self.host)
        else:
            time.sleep(0.2)  # the serial transport opens the port once the loop runs
        return self

    def _run(self) -> None:
        asyncio.run(self._serve())

    async def _serve(self) -> None:
        self._loop = asyncio.get_running_loop()
        devices = [_device(u, m) for u, m in self.units.items()]
        server: ModbusTcpServer | ModbusSerialServer
        if self.serial_port is None:
            server = ModbusTcpServer(devices, address=(self.host, self.port))
        else:
            server = ModbusSerialServer(devices, framer=FramerType.RTU, port=self.serial_port,
                                        baudrate=self.baudrate, parity=self.parity, stopbits=1)
        self._server = server
        self._ready.set()
        await server.serve_forever()

    def stop(self) -> None:
        if self._loop and self._server and self._thread:
            fut = asyncio.run_coroutine_threadsafe(
                self._server.shutdown(), self._loop)  # type: ignore[no-untyped-call]
            with contextlib.suppress(Exception):  # already stopping
                fut.result(10)
            self._thread.join(10)
        self._thread = None

    def __enter__(self) -> ModbusSim:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


def main() -> None:
    """`python -m gatewayd.testing.modbus_server --port N --registers 1000`: a bare device whose
    holding registers count up, for benchmarks that need the server in its own process."""
    ap = argparse.ArgumentParser()
    ap.add_argument("--port", type=int, required=True)
    ap.add_argument("--registers", type=int, default=1000)
    ap.add_argument("--seconds", type=float, default=600)
    args = ap.parse_args()
    model = RegisterModel(holding=max(args.registers, 1))
    sim = ModbusSim({1: model}, port=args.port).start()
    deadline = time.monotonic() + args.seconds
    tick = 0
    while time.monotonic() < deadline:
        tick += 1
        model.set("holding", 0, [(i + tick) % 1000 for i in range(args.registers)])
        time.sleep(0.05)
    sim.stop()


if __name__ == "__main__":
    main()
