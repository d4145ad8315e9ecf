"""Config of a Siemens S7 PLC read over S7comm (ISO-on-TCP, port 102): DB, M, I and Q areas."""

from __future__ import annotations

from typing import Literal

from ...buses import keys
from ...config import DeviceConfig, PointConfig
from ...validation import Annotated, Invalid, Meta, field
from .decode import Address, DataType, parse_address, width

S7Type = Literal["bool", "byte", "word", "int", "dword", "dint", "real", "string"]


class S7Point(PointConfig):
    address: Annotated[str, Meta(description="absolute address as TIA Portal writes it: "
                                             "DB1.DBD0, MW10, I0.3")]
    data_type: Annotated[S7Type, Meta(description="bool for a bit address, else "
                                                  "required")] | None = None
    string_length: Annotated[int, Meta(ge=1, le=254, description="declared length of a "
                                                                 "STRING")] = 254

    def check(self) -> None:
        addr = _parsed(self.address)
        dt = self.data_type or ("bool" if addr.bit is not None else None)
        if dt is None:
            raise Invalid("data_type", f"one of {', '.join(_TYPES)} for {self.address}: "
                                       "data_type is required but for a bit address")
        expected = addr.size_letter
        fits = _FITS[expected]
        if (dt == "bool") != (addr.bit is not None):
            raise Invalid("data_type", f"bool for {self.address}: a bit address holds a bool"
                          if addr.bit is not None else
                          f"{' or '.join(fits)} for {self.address}: data_type bool needs a "
                          "bit address (DB1.DBX4.0, M10.1, I0.3)")
        if (dt == "string") != (self.type == "string"):
            raise Invalid("type", f"{_POINT_TYPE if dt == 'string' else _NOT_STRING} for "
                                  f"{self.address}: a STRING point is type = 'string', and "
                                  "only a STRING is")
        if dt not in fits:
            raise Invalid("data_type", f"{' or '.join(fits)}: {self.address} is a "
                                       f"{_LETTER[expected]} address")

    @property
    def s7_type(self) -> DataType:
        dt: DataType = self.data_type or "bool"
        return dt

    @property
    def width(self) -> int:
        return width(self.s7_type, self.string_length)


_POINT_TYPE, _NOT_STRING = "'string'", "'float', 'int' or 'bool'"
_TYPES = ("bool", "byte", "word", "int", "dword", "dint", "real", "string")
_LETTER = {"X": "bit", "B": "byte", "W": "word (2-byte)", "D": "double-word (4-byte)"}
_FITS = {"X": ("bool",), "B": ("byte", "string"), "W": ("word", "int"),
         "D": ("dword", "dint", "real")}


def _parsed(text: str) -> Address:
    """The address, or Invalid saying what is expected (parse_address names the forms)."""
    try:
        return parse_address(text)
    except ValueError as e:
        raise Invalid("address", str(e)) from None


class Config(DeviceConfig):
    kind: Literal["s7"]
    host: Annotated[str, Meta(description="the CPU's (or CP's) IP address")]
    port: Annotated[int, Meta(ge=1, le=65535)] = 102
    rack: Annotated[int, Meta(ge=0, le=7)] = 0
    slot: Annotated[int, Meta(ge=0, le=31, description="1 for S7-1200/1500, 2 for S7-300")] = 1
    timeout_ms: Annotated[int, Meta(ge=50, le=60_000, description="connect and each "
                                                                  "request")] = 1000
    max_gap_bytes: Annotated[int, Meta(ge=0, le=200, description="unused bytes a read may span "
                                                                 "rather than split")] = 16
    points: list[S7Point] = field(default_factory=list)

    @property
    def bus_key(self) -> str:
        return keys.tcp(self.host, self.port)
