"""A Modbus IO-Link master's register map, read from a profile in hardware/iolink/."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from ... import profiles
from ...errors import ConfigError
from .decode import Pqi


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PortBlock(_Strict):
    base: int = Field(ge=0, le=65535)
    stride: int = Field(ge=1)
    status_offset: int = Field(ge=0)
    pdin_offset: int = Field(ge=0)


class IdentityBlock(_Strict):
    base: int = Field(ge=0, le=65535)
    stride: int = Field(ge=1)
    vendor_offset: int = Field(ge=0)
    device_offset: int = Field(ge=0)


class PqiBits(_Strict):
    present_bit: int = Field(ge=0, le=7)
    valid_bit: int = Field(ge=0, le=7)


class RegisterMap(_Strict):
    ports: int = Field(ge=1, le=16)
    table: Literal["holding", "input"] = "holding"
    pd_max_octets: int = Field(ge=1, le=32)
    octet_order: Literal["high_first", "low_first"] = "high_first"
    port_block: PortBlock
    identity: IdentityBlock
    pqi: PqiBits

    def status_address(self, port: int) -> int:
        block = self.port_block
        return block.base + (port - 1) * block.stride + block.status_offset

    def pdin_registers(self, pd_octets: int) -> int:
        """Registers to read from the status register through the end of the process data."""
        block = self.port_block
        return block.pdin_offset - block.status_offset + (pd_octets + 1) // 2

    def identity_address(self, port: int) -> int:
        return self.identity.base + (port - 1) * self.identity.stride

    @property
    def pqi_bits(self) -> Pqi:
        return Pqi(self.pqi.present_bit, self.pqi.valid_bit)


def load_map(name: str) -> RegisterMap:
    """The map of profile `name`; ConfigError naming it if absent or not a valid map."""
    try:
        data = profiles.load(name)
    except ValueError as e:
        raise ConfigError([f"register_map: found {name!r}, expected {e}"]) from None
    try:
        return RegisterMap.model_validate(data.get("map", {}))
    except ValidationError as e:
        detail = "; ".join(f"{'.'.join(map(str, err['loc']))}: {err['msg']}" for err in e.errors())
        why = f"hardware/{name}.toml: not a valid IO-Link register map: {detail}"
        raise ConfigError([why]) from None
