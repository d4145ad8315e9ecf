"""Config of an Allen-Bradley Logix controller (ControlLogix, CompactLogix) over EtherNet/IP."""

from __future__ import annotations

from typing import Literal

from ...buses import keys
from ...config import DeviceConfig, PointConfig
from ...validation import Annotated, Invalid, Meta, field
from .decode import TAG_FORM, is_tag


class EnipPoint(PointConfig):
    tag: Annotated[str, Meta(description="controller tag (Tank1_Level, Levels[3], Motor.Speed) "
                                         "or program tag (Program:MainProgram.Speed)")]

    def check(self) -> None:
        if not is_tag(self.tag):
            raise Invalid("tag", TAG_FORM)


class Config(DeviceConfig):
    kind: Literal["enip"]
    host: Annotated[str, Meta(description="the controller's (or its Ethernet module's) IP "
                                          "address")]
    port: Annotated[int, Meta(ge=1, le=65535)] = 44818
    slot: Annotated[int, Meta(ge=0, le=31, description="the controller's slot in its "
                                                       "chassis")] = 0
    timeout_ms: Annotated[int, Meta(ge=50, le=60_000)] = 1000
    points: list[EnipPoint] = field(default_factory=list)

    @property
    def bus_key(self) -> str:
        return keys.tcp(self.host, self.port)
