"""Config of a serial instrument: framing, how it talks (poll or free-running), how to parse."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from ...config import DeviceConfig, PointConfig
from .decode import FIELD_SIZES, FieldType


class SerialPoint(PointConfig):
    field: str | None = Field(default=None, description="named group of `pattern` (text format)")
    byte_offset: int | None = Field(default=None, ge=0, description="start in the frame (binary)")
    data_type: FieldType = "int16"
    byte_order: Literal["big", "little"] = "big"


class Config(DeviceConfig):
    kind: Literal["serial"]
    port: str = "/dev/ttyUSB0"
    baudrate: int = Field(default=9600, ge=50, le=4_000_000)
    bytesize: Literal[5, 6, 7, 8] = 8
    parity: Literal["N", "E", "O"] = "N"
    stopbits: Literal[1, 2] = 1
    mode: Literal["poll", "free_running"] = "poll"
    command: str = Field(default="", description="sent each poll (TOML escapes: \\r, \\u0005)")
    format: Literal["text", "binary"] = "text"
    terminator: str = Field(default="\r\n", min_length=1, description="end of a text line")
    pattern: str = Field(default="", description="regular expression with named groups")
    encoding: Literal["ascii", "latin-1", "utf-8"] = "ascii"
    checksum: Literal["none", "xor8", "sum8"] = "none"
    checksum_separator: str = Field(default="*", min_length=1, description="before 2 hex digits")
    frame_bytes: int = Field(default=0, ge=0, le=4096, description="binary frame, sync included")
    sync_hex: str = Field(default="", description="binary frame start, e.g. 'AA55'")
    uncertain_if: dict[str, list[str]] = Field(
        default_factory=dict, description="group -> values marking the line uncertain ('US')"
    )
    timeout_ms: int = Field(default=1000, ge=10, le=60_000)
    reopen_min_ms: int = Field(default=500, ge=10, le=600_000)
    reopen_max_ms: int = Field(default=30_000, ge=10, le=3_600_000)
    points: list[SerialPoint] = Field(default_factory=list)

    @property
    def bus_key(self) -> str:
        return self.port

    @field_validator("sync_hex")
    @classmethod
    def _hex(cls, value: str) -> str:
        try:
            bytes.fromhex(value)
        except ValueError:
            raise ValueError("hex digits in pairs, like 'AA55'") from None
        return value

    @field_validator("pattern")
    @classmethod
    def _regex(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as e:
            raise ValueError(f"a valid regular expression ({e})") from None
        return value

    @model_validator(mode="after")
    def _consistent(self) -> Config:
        if self.mode == "poll" and not self.command:
            raise ValueError("a `command` to send when mode = 'poll'")
        problem = self._text_problem() if self.format == "text" else self._binary_problem()
        if problem:
            raise ValueError(problem)
        return self

    def _text_problem(self) -> str:
        groups = set(re.compile(self.pattern).groupindex)
        if not groups:
            return "a `pattern` with named groups, like '(?P<weight>[-+]?\\d+\\.\\d+)'"
        wanted = {str(p.field) for p in self.points} | set(self.uncertain_if)
        missing = sorted(wanted - groups)
        return f"each point's `field` a group of `pattern`; not found {missing}" if missing else ""

    def _binary_problem(self) -> str:
        body = self.frame_bytes - (self.checksum != "none")
        if self.frame_bytes <= len(self.sync):
            return "`frame_bytes` longer than the sync bytes for format = 'binary'"
        for p in self.points:
            if p.byte_offset is None or p.byte_offset + FIELD_SIZES[p.data_type] > body:
                return f"point {p.name}: a `byte_offset` whose {p.data_type} fits the frame"
        return ""

    @property
    def sync(self) -> bytes:
        return bytes.fromhex(self.sync_hex)
