"""Config of an IO-Link master and the ports whose devices it reads (plain tables)."""

from __future__ import annotations

from typing import Literal

from ...buses import keys
from ...config import DeviceConfig, FilePath, Model, PointConfig
from ...validation import GIVEN, Annotated, Invalid, Meta, field

IolPort = Annotated[int, Meta(ge=1, le=16, description="IO-Link port number on the master (X01 = 1)")]


class PortConfig(Model):
    port: IolPort
    iodd: Annotated[FilePath, Meta(description="the IODD XML file of the device expected on "
                                               "this port")]
    process_data_in: Annotated[str, Meta(
        description="id of the ProcessDataIn to use when the IODD has several")] | None = None
    check_identity: bool = True


class IolinkPoint(PointConfig):
    """A process-data item (`item`) or an ISDU parameter (`index`/`subindex`) of one port."""

    port: IolPort
    item: Annotated[str, Meta(description="IODD record item: name or subindex")] | None = None
    index: Annotated[int, Meta(ge=0, le=65535, description="ISDU index")] | None = None
    subindex: Annotated[int, Meta(ge=0, le=255)] = 0
    data_type: Literal["uint", "int", "float32", "bool"] = "uint"  # of an ISDU parameter
    # The keys the config wrote (filled by `convert`): the point's unit, type and resolution
    # come from the IODD unless written, and a default cannot tell.
    given: frozenset[str] = field(default_factory=frozenset, name=GIVEN)

    def check(self) -> None:
        if (self.item is None) == (self.index is None):
            raise ValueError("either item = '<IODD item>' or index = <ISDU index>, not both")

    @property
    def is_parameter(self) -> bool:
        return self.index is not None


class Config(DeviceConfig):
    kind: Literal["iolink"]
    access: Literal["http", "modbus"] = "http"
    url: Annotated[str, Meta(pattern=r"^https?://",
                             description="http: base URL of a JSON (IoT Core style) master")] = (
        "http://192.168.0.250")
    host: str = "127.0.0.1"  # modbus
    port: Annotated[int, Meta(ge=1, le=65535, description="modbus: TCP port")] = 502
    unit: Annotated[int, Meta(ge=0, le=247)] = 1
    register_map: Annotated[str, Meta(description="modbus: a register map in hardware/")] = (
        "iolink/generic_8port")
    timeout_ms: Annotated[int, Meta(ge=10, le=60_000)] = 1000
    isdu_period_ms: Annotated[int, Meta(ge=100, le=86_400_000)] = 60_000
    ports: Annotated[list[PortConfig], Meta(min_length=1)]
    points: list[IolinkPoint] = field(default_factory=list)

    def check(self) -> None:
        if not self.ports:  # an array of tables is walked table by table: its length here
            raise Invalid("ports", "at least 1 item")
        declared = [p.port for p in self.ports]
        if len(set(declared)) != len(declared):
            raise ValueError("each IO-Link port listed once in ports")
        for p in self.points:
            if p.port not in declared:
                raise ValueError(f"point {p.name!r} on port {p.port}: a port listed in ports")
            if p.is_parameter and self.access != "http":
                raise ValueError(f"point {p.name!r}: ISDU parameters (index) need access = 'http'")

    @property
    def bus_key(self) -> str:
        return keys.url(self.url) if self.access == "http" else keys.tcp(self.host, self.port)
