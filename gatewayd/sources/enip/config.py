"""Config of an Allen-Bradley Logix controller (ControlLogix, CompactLogix) over EtherNet/IP."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from ...config import DeviceConfig, PointConfig
from .decode import check_tag


class EnipPoint(PointConfig):
    tag: str = Field(description="controller tag (Tank1_Level, Levels[3], Motor.Speed) or "
                                 "program tag (Program:MainProgram.Speed)")

    @field_validator("tag")
    @classmethod
    def _tag(cls, v: str) -> str:
        check_tag(v)
        return v


class Config(DeviceConfig):
    kind: Literal["enip"]
    host: str = Field(description="the controller's (or its Ethernet module's) IP address")
    port: int = Field(default=44818, ge=1, le=65535)
    slot: int = Field(default=0, ge=0, le=31, description="the controller's slot in its chassis")
    timeout_ms: int = Field(default=1000, ge=50, le=60_000)
    points: list[EnipPoint] = Field(default_factory=list)

    @property
    def bus_key(self) -> str:
        return f"enip:{self.host}:{self.port}"
