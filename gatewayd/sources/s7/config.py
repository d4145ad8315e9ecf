"""Config of a Siemens S7 PLC read over S7comm (ISO-on-TCP, port 102): DB, M, I and Q areas."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from ...config import DeviceConfig, PointConfig
from .decode import DataType, parse_address, width

S7Type = Literal["bool", "byte", "word", "int", "dword", "dint", "real", "string"]


class S7Point(PointConfig):
    address: str = Field(description="absolute address as TIA Portal writes it: DB1.DBD0, MW10, I0.3")
    data_type: S7Type | None = Field(default=None, description="bool for a bit address, else required")
    string_length: int = Field(default=254, ge=1, le=254, description="declared length of a STRING")

    @model_validator(mode="after")
    def _consistent(self) -> S7Point:
        addr = parse_address(self.address)  # ValueError names the accepted forms
        dt = self.data_type or ("bool" if addr.bit is not None else None)
        if dt is None:
            raise ValueError(f"{self.address}: data_type is required (one of {', '.join(_TYPES)})")
        expected = addr.size_letter
        if (dt == "bool") != (addr.bit is not None):
            raise ValueError(f"{self.address}: data_type bool needs a bit address (DB1.DBX4.0, M10.1, I0.3)"
                             " and a bit address holds a bool")
        fits = {"X": ("bool",), "B": ("byte", "string"), "W": ("word", "int"),
                "D": ("dword", "dint", "real")}[expected]
        if (dt == "string") != (self.type == "string"):
            raise ValueError(f"{self.address}: a STRING point is type = 'string', and only a STRING is")
        if dt not in fits:
            raise ValueError(f"{self.address}: a {_LETTER[expected]} address holds {' or '.join(fits)},"
                             f" not {dt}")
        return self

    @property
    def s7_type(self) -> DataType:
        dt: DataType = self.data_type or "bool"
        return dt

    @property
    def width(self) -> int:
        return width(self.s7_type, self.string_length)


_TYPES = ("bool", "byte", "word", "int", "dword", "dint", "real", "string")
_LETTER = {"X": "bit", "B": "byte", "W": "word (2-byte)", "D": "double-word (4-byte)"}


class Config(DeviceConfig):
    kind: Literal["s7"]
    host: str = Field(description="the CPU's (or CP's) IP address")
    port: int = Field(default=102, ge=1, le=65535)
    rack: int = Field(default=0, ge=0, le=7)
    slot: int = Field(default=1, ge=0, le=31, description="1 for S7-1200/1500, 2 for S7-300")
    timeout_ms: int = Field(default=1000, ge=50, le=60_000, description="connect and each request")
    max_gap_bytes: int = Field(default=16, ge=0, le=200,
                               description="unused bytes a read may span rather than split")
    points: list[S7Point] = Field(default_factory=list)

    @property
    def bus_key(self) -> str:
        return f"s7:{self.host}:{self.port}"
