"""Config of a Modbus device (TCP, or RTU on an RS-485 line)."""

from __future__ import annotations

from typing import Any, Literal

from ... import profiles
from ...buses import keys
from ...config import DeviceConfig, PointConfig
from ...validation import Annotated, Invalid, Meta, field

RegisterType = Literal[
    "int16", "uint16", "int32", "uint32", "int64", "uint64", "float16", "float32", "float64",
    "int8l", "int8h", "uint8l", "uint8h", "string", "bool", "bit"
]
# int8l/uint8l: the low byte of a register, int8h/uint8h the high byte (after byte_order);
# float16: an IEEE 754 half float in one register; string: `registers` registers of text.
WIDTH = {"int16": 1, "uint16": 1, "int32": 2, "uint32": 2, "int64": 4, "uint64": 4,
         "float16": 1, "float32": 2, "float64": 4, "int8l": 1, "int8h": 1, "uint8l": 1,
         "uint8h": 1, "bool": 1, "bit": 1}


class ModbusPoint(PointConfig):
    use: Annotated[str, Meta(description="register name from the profile")] | None = None
    table: Literal["holding", "input", "coil", "discrete"] = "holding"
    # `register` in the TOML; `address` in Python, the name the decoding and checks use
    address: Annotated[int, Meta(ge=0, le=65535, description="0-based protocol address")] = (
        field(name="register"))
    data_type: RegisterType = "uint16"
    bit: Annotated[int, Meta(ge=0, le=15, description="for data_type = 'bit'")] | None = None
    byte_order: Literal["big", "little"] = "big"
    word_order: Literal["big", "little"] = "big"
    registers: Annotated[int, Meta(
        ge=1, le=123, description="for data_type = 'string': its length in registers")] | None = None
    output: Annotated[Literal["int64", "uint64", "float64"], Meta(
        description="convert the register's number: uint64 takes a negative value as its "
                    "64-bit two's complement, int64 the other way")] | None = None

    @classmethod
    def prepare(cls, data: dict[str, Any]) -> dict[str, Any]:
        """A string register is a string point unless the config says otherwise."""
        if data.get("data_type") == "string" and "type" not in data:
            return {**data, "type": "string"}
        return data

    def check(self) -> None:
        # each message completes "expected ..." (gatewayd.validation prefixes it)
        if self.table in ("coil", "discrete") and self.data_type not in ("bool", "bit"):
            raise ValueError(f"data_type 'bool': a {self.table} holds one bit")
        if self.data_type == "bit" and self.bit is None:
            raise ValueError("bit = 0..15 with data_type 'bit'")
        if (self.data_type == "string") != (self.registers is not None):
            raise ValueError("registers = <its length> with data_type 'string', and only with it")
        if (self.data_type == "string") != (self.type == "string"):
            raise ValueError("type 'string' for a string register, and only for it")
        if self.address + self.width > 65536:
            raise ValueError("a value that ends by register 65535 (this one runs past it)")

    @property
    def width(self) -> int:
        if self.table in ("coil", "discrete"):
            return 1
        return self.registers or WIDTH[self.data_type]


class Config(DeviceConfig):
    kind: Literal["modbus"]
    transport: Literal["tcp", "rtu"] = "tcp"
    host: str = "127.0.0.1"
    port: Annotated[int, Meta(ge=1, le=65535)] = 502
    serial_port: str = "/dev/ttyUSB0"
    baudrate: Annotated[int, Meta(ge=300, le=1_000_000)] = 9600
    parity: Literal["N", "E", "O"] = "E"
    stopbits: Literal[1, 2] = 1
    unit: Annotated[int, Meta(ge=0, le=247)] = 1
    timeout_ms: Annotated[int, Meta(ge=10, le=60_000)] = 1000
    retries: Annotated[int, Meta(ge=0, le=10)] = 1
    max_registers_per_read: Annotated[int, Meta(ge=1, le=125)] = 125
    max_gap: Annotated[int, Meta(ge=0, le=100, description="unused registers a read may span")] = 0
    profile: str | None = None
    points: list[ModbusPoint] = field(default_factory=list)

    @classmethod
    def prepare(cls, data: dict[str, Any]) -> dict[str, Any]:
        """`profile = "sdm120"` supplies device defaults and a register map that points name
        with `use = "voltage"`; whatever the config sets itself wins. Then: a serial port
        without `transport` would quietly poll TCP 127.0.0.1:502 instead (decided here, where
        the keys the config wrote are still visible)."""
        data = _with_profile(data)
        if "serial_port" in data and "transport" not in data:
            raise ValueError(f'transport = "rtu" with serial_port = {data["serial_port"]!r} '
                             "(without it the device is polled over TCP)")
        return data

    @property
    def bus_key(self) -> str:
        return keys.tcp(self.host, self.port) if self.transport == "tcp" else keys.tty(
            self.serial_port)


def _with_profile(data: dict[str, Any]) -> dict[str, Any]:
    if not isinstance(data.get("profile"), str):
        return data
    name: str = data["profile"]
    try:
        profiles.check(name, "modbus")
    except ValueError as e:
        raise Invalid("profile", str(e)) from None
    prof = profiles.load(name)
    regs = prof.get("registers", {})
    points = []
    raw_points = data.get("points", [])
    for p in raw_points if isinstance(raw_points, list) else []:
        use = p.get("use") if isinstance(p, dict) else None
        if use is not None and use not in regs:
            raise ValueError(f"`use = {use!r}`: a register of profile {name}: {', '.join(regs)}")
        points.append({**regs.get(use, {}), **{k: v for k, v in p.items() if k != "use"}}
                      if use is not None else p)
    return {**prof.get("device", {}), **data, "points": points}
