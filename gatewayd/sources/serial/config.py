"""Config of a serial instrument: framing, how it talks (poll or free-running), how to parse."""

from __future__ import annotations

import re
from typing import Literal

from ...buses import keys
from ...config import DeviceConfig, PointConfig
from ...validation import Annotated, Invalid, Meta, field
from .decode import FIELD_SIZES, FieldType


class SerialPoint(PointConfig):
    # (this class body's `field` is the key; the tables below still see msgspec's field())
    field: Annotated[str, Meta(description="named group of `pattern` (text format)")] | None = None
    byte_offset: Annotated[int, Meta(ge=0, description="start in the frame (binary)")] | None = None
    data_type: FieldType = "int16"
    byte_order: Literal["big", "little"] = "big"


class Config(DeviceConfig):
    kind: Literal["serial"]
    port: str = "/dev/ttyUSB0"
    baudrate: Annotated[int, Meta(ge=50, le=4_000_000)] = 9600
    bytesize: Literal[5, 6, 7, 8] = 8
    parity: Literal["N", "E", "O"] = "N"
    stopbits: Literal[1, 2] = 1
    mode: Literal["poll", "free_running"] = "poll"
    command: Annotated[str, Meta(description="sent each poll (TOML escapes: \\r, \\u0005)")] = ""
    format: Literal["text", "binary"] = "text"
    terminator: Annotated[str, Meta(min_length=1, description="end of a text line")] = "\r\n"
    pattern: Annotated[str, Meta(description="regular expression with named groups")] = ""
    encoding: Literal["ascii", "latin-1", "utf-8"] = "ascii"
    checksum: Literal["none", "xor8", "sum8"] = "none"
    checksum_separator: Annotated[str, Meta(min_length=1, description="before 2 hex digits")] = "*"
    frame_bytes: Annotated[int, Meta(ge=0, le=4096, description="binary frame, sync included")] = 0
    sync_hex: Annotated[str, Meta(description="binary frame start, e.g. 'AA55'")] = ""
    uncertain_if: Annotated[dict[str, list[str]], Meta(
        description="group -> values marking the line uncertain ('US')")] = field(
        default_factory=dict)
    timeout_ms: Annotated[int, Meta(ge=10, le=60_000)] = 1000
    reopen_min_ms: Annotated[int, Meta(ge=10, le=600_000)] = 500
    reopen_max_ms: Annotated[int, Meta(ge=10, le=3_600_000)] = 30_000
    points: list[SerialPoint] = field(default_factory=list)

    @property
    def bus_key(self) -> str:
        return keys.tty(self.port)

    def check(self) -> None:
        try:
            bytes.fromhex(self.sync_hex)
        except ValueError:
            raise Invalid("sync_hex", "hex digits in pairs, like 'AA55'") from None
        try:
            re.compile(self.pattern)
        except re.error as e:
            raise Invalid("pattern", f"a valid regular expression ({e})") from None
        if self.mode == "poll" and not self.command:
            raise ValueError("a `command` to send when mode = 'poll'")
        problem = self._text_problem() if self.format == "text" else self._binary_problem()
        if problem:
            raise ValueError(problem)

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
