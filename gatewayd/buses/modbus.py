"""Modbus lines: the only module that talks to pymodbus.

A `ModbusBus` is one line (an RS-485 port or a TCP endpoint) with one pymodbus client, shared
by every device on it. A device reads through its `ModbusPort`, which carries its own unit,
timeout and retries: the bus applies them per transaction, under its lock. pymodbus's own
retries stay at 0 (they belong to the client, so the first device's would win); we retry here,
and set the client's response timeout before each request.

pymodbus's exceptions are translated here and only here, by type (never by message text):

    ConnectionException     -> CommError        "connection lost"      bad_comm
    ModbusIOException       -> CommError        "no response"          bad_timeout (retried)
    other ModbusException   -> ProtocolError    a garbled or odd reply bad_malformed
    OSError                 -> CommError        the port itself failed bad_comm
    an exception response   -> DeviceException  "illegal data address" bad_device_exception
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from ..errors import CommError, DeviceError, DeviceException, ProtocolError
from ..model import Quality
from . import Bus, keys
from .port_errors import diagnose

logging.getLogger("pymodbus").setLevel(logging.CRITICAL)  # we report failures ourselves, once

EXCEPTION_NAMES = {
    1: "illegal function", 2: "illegal data address", 3: "illegal data value",
    4: "device failure", 5: "acknowledge", 6: "device busy", 8: "memory parity error",
    10: "gateway path unavailable", 11: "gateway target failed to respond",
}
_READ = {"holding": "read_holding_registers", "input": "read_input_registers",
         "coil": "read_coils", "discrete": "read_discrete_inputs"}


@dataclass(frozen=True)
class LineSettings:
    """What every device on one RS-485 line must agree on."""

    baudrate: int = 9600
    parity: str = "E"
    stopbits: int = 1
    bytesize: int = 8

    @property
    def text(self) -> str:
        return f"{self.baudrate} {self.bytesize}{self.parity}{self.stopbits}"


@dataclass(frozen=True)
class Endpoint:
    """Where a Modbus line is: a TCP endpoint, or a serial port with its line settings."""

    transport: str = "tcp"  # "tcp" or "rtu"
    host: str = "127.0.0.1"
    port: int = 502
    serial_port: str = "/dev/ttyUSB0"
    baudrate: int = 9600
    parity: str = "E"
    stopbits: int = 1

    @property
    def label(self) -> str:
        return f"{self.host}:{self.port}" if self.transport == "tcp" else self.serial_port

    @property
    def key(self) -> str:
        if self.transport == "tcp":
            return keys.tcp(self.host, self.port)
        return f"serial:{keys.tty(self.serial_port)}"

    @property
    def line(self) -> LineSettings | None:
        if self.transport == "tcp":
            return None
        return LineSettings(self.baudrate, self.parity, self.stopbits)


class ModbusBus(Bus):
    """One line and its one pymodbus client, made on first use and remade after a failure."""

    kind = "Modbus"

    def __init__(self, endpoint: Endpoint) -> None:
        super().__init__(endpoint.key, endpoint.line)
        self.endpoint = endpoint
        self._client: Any = None
        self.clients_made = 0  # how many clients this line has had (tests: one for many devices)

    @property
    def label(self) -> str:
        return self.endpoint.label

    def port(self, unit: int, timeout_s: float, retries: int = 0) -> ModbusPort:
        return ModbusPort(self, unit, timeout_s, retries)

    def _make_client(self, timeout_s: float) -> Any:
        from pymodbus.client import ModbusSerialClient, ModbusTcpClient

        ep = self.endpoint
        self.clients_made += 1
        if ep.transport == "tcp":
            return ModbusTcpClient(ep.host, port=ep.port, timeout=timeout_s, retries=0,
                                   reconnect_delay=0)
        return ModbusSerialClient(ep.serial_port, baudrate=ep.baudrate, parity=ep.parity,
                                  stopbits=ep.stopbits, timeout=timeout_s, retries=0,
                                  reconnect_delay=0)

    def _connected(self, timeout_s: float) -> Any:
        if self._client is None:
            self._client = self._make_client(timeout_s)
        client = self._client
        client.comm_params.timeout_connect = timeout_s  # the reply deadline pymodbus waits for
        sock = getattr(client, "socket", None)
        if self.endpoint.transport == "rtu" and sock is not None and sock.timeout != timeout_s:
            sock.timeout = timeout_s  # pyserial's read timeout is the port's, set at open
        if not client.connected and not client.connect():
            if self.endpoint.transport != "tcp":  # pymodbus hides why: find out ourselves
                raise CommError(diagnose(self.endpoint.serial_port)
                                or f"{self.label}: cannot connect")
            raise CommError(f"{self.label}: cannot connect")
        return client

    def connect(self, timeout_s: float) -> None:
        with self.lock:
            self._connected(timeout_s)

    def transact(self, port: ModbusPort, table: str, address: int, count: int) -> Any:
        """One read for `port`, retried on no response as often as the port says."""
        who = f"unit {port.unit} on {self.label}"
        with self.lock:
            error: DeviceError = CommError(f"{who}: no response", Quality.BAD_TIMEOUT)
            for _ in range(port.retries + 1):
                try:
                    client = self._connected(port.timeout_s)
                    return getattr(client, _READ[table])(address, count=count,
                                                        device_id=port.unit)
                except Exception as e:
                    error = self._translate(e, who)
                    timeout = error.quality == Quality.BAD_TIMEOUT
                    # A silent unit is no reason to reopen a shared serial line (pymodbus
                    # discards stale bytes before each request); a TCP stream that missed a
                    # reply is reopened so a late reply cannot answer the next request.
                    if not timeout or self.endpoint.transport == "tcp":
                        self._drop()
                    if not timeout:
                        raise error from None
            raise error

    @staticmethod
    def _translate(e: Exception, who: str) -> DeviceError:
        """The one place where pymodbus's and the port's errors become gatewayd's."""
        from pymodbus.exceptions import ConnectionException, ModbusException, ModbusIOException

        if isinstance(e, ConnectionException):
            return CommError(f"{who}: connection lost")
        if isinstance(e, ModbusIOException):
            return CommError(f"{who}: no response", Quality.BAD_TIMEOUT)
        if isinstance(e, ModbusException):
            return ProtocolError(f"{who}: {e}")
        if isinstance(e, CommError):
            return e
        if isinstance(e, OSError):
            return CommError(f"{who}: {e.strerror or e}")
        raise e

    def _drop(self) -> None:
        if self._client is not None:
            self._client.close()

    def close(self) -> None:
        with self.lock:
            self._drop()
            self._client = None


class ModbusPort:
    """One device's view of a line: its unit, timeout and retries."""

    def __init__(self, bus: ModbusBus, unit: int, timeout_s: float, retries: int) -> None:
        self.bus, self.unit, self.timeout_s, self.retries = bus, unit, timeout_s, retries

    @property
    def label(self) -> str:
        return f"unit {self.unit} on {self.bus.label}"

    @property
    def max_transaction_s(self) -> float:
        """The longest one healthy read may take: every try waits out the timeout."""
        return self.timeout_s * (self.retries + 1)

    def connect(self) -> None:
        self.bus.connect(self.timeout_s)

    def read(self, table: str, address: int, count: int) -> list[int] | list[bool]:
        """`count` registers or bits of `table` from `address`; raises a DeviceError."""
        rr = self.bus.transact(self, table, address, count)
        if rr.isError():
            code = getattr(rr, "exception_code", 0)
            name = EXCEPTION_NAMES.get(code, f"exception {code}")
            raise DeviceException(f"{self.label}: {name} reading {table} {address}+{count}")
        values: list[int] | list[bool] = (rr.bits[:count] if table in ("coil", "discrete")
                                          else rr.registers)
        if len(values) < count:
            raise ProtocolError(f"{self.label}: short reply, {len(values)} of {count} {table} "
                                "values")
        return values
