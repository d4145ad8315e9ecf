"""Config of an IO-Link master and the ports whose devices it reads (pure pydantic)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from ...config import DeviceConfig, FilePath, Model, PointConfig

IolPort = Field(ge=1, le=16, description="IO-Link port number on the master (X01 = 1)")


class PortConfig(Model):
    port: int = IolPort
    iodd: FilePath = Field(description="the IODD XML file of the device expected on this port")
    process_data_in: str | None = Field(
        default=None, description="id of the ProcessDataIn to use when the IODD has several"
    )
    check_identity: bool = True


class IolinkPoint(PointConfig):
    """A process-data item (`item`) or an ISDU parameter (`index`/`subindex`) of one port."""

    port: int = IolPort
    item: str | None = Field(default=None, description="IODD record item: name or subindex")
    index: int | None = Field(default=None, ge=0, le=65535, description="ISDU index")
    subindex: int = Field(default=0, ge=0, le=255)
    data_type: Literal["uint", "int", "float32", "bool"] = "uint"  # of an ISDU parameter

    @model_validator(mode="after")
    def _one_source(self) -> IolinkPoint:
        if (self.item is None) == (self.index is None):
            raise ValueError("either item = '<IODD item>' or index = <ISDU index>, not both")
        return self

    @property
    def is_parameter(self) -> bool:
        return self.index is not None


class Config(DeviceConfig):
    kind: Literal["iolink"]
    access: Literal["http", "modbus"] = "http"
    url: str = Field(default="http://192.168.0.250", pattern=r"^https?://",
                     description="http: base URL of a JSON (IoT Core style) master")
    host: str = "127.0.0.1"  # modbus
    port: int = Field(default=502, ge=1, le=65535, description="modbus: TCP port")
    unit: int = Field(default=1, ge=0, le=247)
    register_map: str = Field(default="iolink/generic_8port",
                              description="modbus: a register map in hardware/")
    timeout_ms: int = Field(default=1000, ge=10, le=60_000)
    isdu_period_ms: int = Field(default=60_000, ge=100, le=86_400_000)
    ports: list[PortConfig] = Field(min_length=1)
    points: list[IolinkPoint] = Field(default_factory=list)

    @model_validator(mode="after")
    def _consistent(self) -> Config:
        declared = [p.port for p in self.ports]
        if len(set(declared)) != len(declared):
            raise ValueError("each IO-Link port listed once in ports")
        for p in self.points:
            if p.port not in declared:
                raise ValueError(f"point {p.name!r} on port {p.port}: a port listed in ports")
            if p.is_parameter and self.access != "http":
                raise ValueError(f"point {p.name!r}: ISDU parameters (index) need access = 'http'")
        return self

    @property
    def bus_key(self) -> str:
        return self.url if self.access == "http" else f"tcp:{self.host}:{self.port}"
