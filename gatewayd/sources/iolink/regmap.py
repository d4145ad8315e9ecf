"""A Modbus IO-Link master's register map, read from a profile in hardware/iolink/."""

from __future__ import annotations

from typing import Literal

from ... import profiles
from ...errors import ConfigError
from ...validation import Annotated, Meta, Model, convert
from .decode import Pqi

Address = Annotated[int, Meta(ge=0, le=65535)]
Stride = Annotated[int, Meta(ge=1)]
Offset = Annotated[int, Meta(ge=0)]
Bit = Annotated[int, Meta(ge=0, le=7)]


class PortBlock(Model):
    base: Address
    stride: Stride
    status_offset: Offset
    pdin_offset: Offset


class IdentityBlock(Model):
    base: Address
    stride: Stride
    vendor_offset: Offset
    device_offset: Offset


class PqiBits(Model):
    present_bit: Bit
    valid_bit: Bit


class RegisterMap(Model):
    ports: Annotated[int, Meta(ge=1, le=16)]
    table: Literal["holding", "input"] = "holding"
    pd_max_octets: Annotated[int, Meta(ge=1, le=32)]
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
    got, problems = convert(RegisterMap, data.get("map", {}))
    if got is None:
        detail = "; ".join(f"{p.where}: {p.message}" for p in problems)
        raise ConfigError([f"hardware/{name}.toml: not a valid IO-Link register map: {detail}"])
    return got
