"""The only code that talks to pymodbus. One `ModbusLink` per physical bus (TCP endpoint or
serial port), shared by every device on it under a lock; pymodbus's exceptions and exception
responses are translated into gatewayd's error tree here, naming the device.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any, ClassVar

from ..errors import CommError, DeviceException, ProtocolError
from ..model import Quality
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
class Endpoint:
    transport: str = "tcp"  # "tcp" or "rtu"
    host: str = "127.0.0.1"
    port: int = 502
    serial_port: str = "/dev/ttyUSB0"
    baudrate: int = 9600
    parity: str = "E"
    stopbits: int = 1
    timeout_s: float = 1.0

    @property
    def label(self) -> str:
        return f"{self.host}:{self.port}" if self.transport == "tcp" else self.serial_port


class ModbusLink:
    """A client for one bus. `read` is safe to call from any thread: it holds the bus lock."""

    _shared: ClassVar[dict[Endpoint, tuple[ModbusLink, int]]] = {}
    _shared_lock: ClassVar[threading.Lock] = threading.Lock()

    def __init__(self, endpoint: Endpoint, retries: int = 0) -> None:
        self.endpoint = endpoint
        self.retries = retries
        self.lock = threading.Lock()
        self._client: Any = None

    @classmethod
    def acquire(cls, endpoint: Endpoint, retries: int = 0) -> ModbusLink:
        """The link of this bus, made on first use; release() it when the device closes."""
        with cls._shared_lock:
            link, users = cls._shared.get(endpoint, (None, 0))
            if link is None:
                link = cls(endpoint, retries)
            cls._shared[endpoint] = (link, users + 1)
            return link

    def release(self) -> None:
        with self._shared_lock:
            link, users = self._shared.get(self.endpoint, (self, 1))
            if users <= 1:
                self._shared.pop(self.endpoint, None)
                self.close()
            else:
                self._shared[self.endpoint] = (link, users - 1)

    def _make_client(self) -> Any:
        from pymodbus.client import ModbusSerialClient, ModbusTcpClient

        ep = self.endpoint
        if ep.transport == "tcp":
            return ModbusTcpClient(ep.host, port=ep.port, timeout=ep.timeout_s,
                                   retries=self.retries, reconnect_delay=0)
        return ModbusSerialClient(ep.serial_port, baudrate=ep.baudrate, parity=ep.parity,
                                  stopbits=ep.stopbits, timeout=ep.timeout_s,
                                  retries=self.retries, reconnect_delay=0)

    def connect(self) -> None:
        with self.lock:
            self._connect_locked()

    def _connect_locked(self) -> None:
        if self._client is None:
            self._client = self._make_client()
        if not self._client.connected and not self._client.connect():
            if self.endpoint.transport != "tcp":  # pymodbus hides why: find out ourselves
                raise CommError(diagnose(self.endpoint.serial_port)
                                or f"{self.endpoint.label}: cannot connect")
            raise CommError(f"{self.endpoint.label}: cannot connect")

    def read(self, table: str, address: int, count: int, unit: int) -> list[int] | list[bool]:
        """Read `count` registers or bits of `table` starting at `address` from device `unit`."""
        from pymodbus.exceptions import ConnectionException, ModbusException

        who = f"unit {unit} on {self.endpoint.label}"
        with self.lock:
            try:
                self._connect_locked()
                rr = getattr(self._client, _READ[table])(address, count=count, device_id=unit)
            except ConnectionException as e:
                self._drop()
                raise CommError(f"{who}: connection lost ({e})") from None
            except ModbusException as e:
                self._drop()
                text = str(e).lower()
                if "no response" in text or "timeout" in text or "timed out" in text:
                    raise CommError(f"{who}: no response", Quality.BAD_TIMEOUT) from None
                raise ProtocolError(f"{who}: {e}") from None
            except OSError as e:
                self._drop()
                raise CommError(f"{who}: {e.strerror or e}") from None
        if rr.isError():
            code = getattr(rr, "exception_code", 0)
            name = EXCEPTION_NAMES.get(code, f"exception {code}")
            raise DeviceException(f"{who}: {name} reading {table} {address}+{count}")
        values: list[int] | list[bool] = (rr.bits[:count] if table in ("coil", "discrete")
                                          else rr.registers)
        if len(values) < count:
            raise ProtocolError(f"{who}: short reply, {len(values)} of {count} {table} values")
        return values

    def _drop(self) -> None:
        if self._client is not None:
            self._client.close()

    def close(self) -> None:
        with self.lock:
            self._drop()
            self._client = None
