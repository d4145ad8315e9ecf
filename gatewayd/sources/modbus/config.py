"""Config of a Modbus device (TCP, or RTU on an RS-485 line)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, model_validator

from ... import profiles
from ...config import DeviceConfig, PointConfig

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
    use: str | None = Field(default=None, description="register name from the profile")
    table: Literal["holding", "input", "coil", "discrete"] = "holding"
    # `register` in the TOML; a different attribute name because pydantic's metaclass has one
    address: int = Field(alias="register", ge=0, le=65535, description="0-based protocol address")
    data_type: RegisterType = "uint16"
    bit: int | None = Field(default=None, ge=0, le=15, description="for data_type = 'bit'")
    byte_order: Literal["big", "little"] = "big"
    word_order: Literal["big", "little"] = "big"
    registers: int | None = Field(default=None, ge=1, le=123,
                                  description="for data_type = 'string': its length in registers")
    output: Literal["int64", "uint64", "float64"] | None = Field(
        default=None, description="convert the register's number: uint64 takes a negative value "
                                  "as its 64-bit two's complement, int64 the other way")

    @model_validator(mode="before")
    @classmethod
    def _text_is_a_string_point(cls, data: Any) -> Any:
        """A string register is a string point unless the config says otherwise."""
        if isinstance(data, dict) and data.get("data_type") == "string" and "type" not in data:
            return {**data, "type": "string"}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> ModbusPoint:
        if self.table in ("coil", "discrete") and self.data_type not in ("bool", "bit"):
            raise ValueError(f"a {self.table} holds one bit: data_type must be 'bool'")
        if self.data_type == "bit" and self.bit is None:
            raise ValueError("data_type 'bit' needs bit = 0..15")
        if (self.data_type == "string") != (self.registers is not None):
            raise ValueError("data_type 'string' needs registers = <its length>, and only it")
        if (self.data_type == "string") != (self.type == "string"):
            raise ValueError("a string register is a point of type 'string', and only it")
        if self.address + self.width > 65536:
            raise ValueError("the value runs past register 65535")
        return self

    @property
    def width(self) -> int:
        if self.table in ("coil", "discrete"):
            return 1
        return self.registers or WIDTH[self.data_type]


class Config(DeviceConfig):
    kind: Literal["modbus"]
    transport: Literal["tcp", "rtu"] = "tcp"
    host: str = "127.0.0.1"
    port: int = Field(default=502, ge=1, le=65535)
    serial_port: str = "/dev/ttyUSB0"
    baudrate: int = Field(default=9600, ge=300, le=1_000_000)
    parity: Literal["N", "E", "O"] = "E"
    stopbits: Literal[1, 2] = 1
    unit: int = Field(default=1, ge=0, le=247)
    timeout_ms: int = Field(default=1000, ge=10, le=60_000)
    retries: int = Field(default=1, ge=0, le=10)
    max_registers_per_read: int = Field(default=125, ge=1, le=125)
    max_gap: int = Field(default=0, ge=0, le=100, description="unused registers a read may span")
    profile: str | None = None
    points: list[ModbusPoint] = Field(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _profile(cls, data: Any) -> Any:
        """`profile = "sdm120"` supplies device defaults and a register map that points name
        with `use = "voltage"`; whatever the config sets itself wins."""
        if not isinstance(data, dict) or not isinstance(data.get("profile"), str):
            return data
        name: str = data["profile"]
        profiles.check(name, "modbus")
        prof = profiles.load(name)
        regs = prof.get("registers", {})
        points = []
        for p in data.get("points", []):
            use = p.get("use") if isinstance(p, dict) else None
            if use is not None and use not in regs:
                raise ValueError(f"`use = {use!r}`: a register of profile {name}: {', '.join(regs)}")
            points.append({**regs.get(use, {}), **{k: v for k, v in p.items() if k != "use"}}
                          if use is not None else p)
        return {**prof.get("device", {}), **data, "points": points}

    @model_validator(mode="after")
    def _transport_said(self) -> Config:
        """A serial port without `transport` would quietly poll TCP 127.0.0.1:502 instead."""
        if "serial_port" in self.model_fields_set and "transport" not in self.model_fields_set:
            raise ValueError(f'transport = "rtu" with serial_port = {self.serial_port!r} '
                             "(without it the device is polled over TCP)")
        return self

    @property
    def bus_key(self) -> str:
        return f"tcp:{self.host}:{self.port}" if self.transport == "tcp" else self.serial_port
