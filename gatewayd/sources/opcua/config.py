"""Config of an OPC UA server (a PLC's or an edge server's), read by subscription or by polling."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from ...config import DeviceConfig, FilePath, PointConfig
from .decode import check_node_id


class OpcUaPoint(PointConfig):
    node_id: str = Field(description="ns=2;s=Line1.Temperature, ns=3;i=1001 or nsu=<uri>;s=<name>")
    sampling_interval_ms: int | None = Field(
        default=None, ge=0, le=3_600_000, description="subscriptions: how often the server samples "
        "this node (default: the device's sampling_interval_ms)")
    server_deadband: float = Field(default=0.0, ge=0, description="subscriptions: the server reports a "
                                   "change only past this (OPC UA DataChangeFilter); 0 = every change")
    server_deadband_type: Literal["absolute", "percent"] = Field(
        default="absolute", description="percent is of the node's EURange (not every server has it)")

    @field_validator("node_id")
    @classmethod
    def _node_id(cls, v: str) -> str:
        check_node_id(v)
        return v


class Config(DeviceConfig):
    kind: Literal["opcua"]
    endpoint: str = Field(pattern=r"^opc\.tcp://[^/\s]+(/\S*)?$", description="opc.tcp://host:4840/path")
    mode: Literal["subscription", "poll"] = Field(
        default="subscription", description="subscription: the server reports changes (monitored "
        "items); poll: one Read of every node each period_ms")
    publishing_interval_ms: int = Field(default=1000, ge=10, le=3_600_000,
                                        description="subscriptions: how often the server sends changes")
    sampling_interval_ms: int = Field(default=500, ge=0, le=3_600_000)
    queue_size: int = Field(default=10, ge=1, le=10_000, description="changes the server keeps per "
                            "node between two publishes")
    timeout_ms: int = Field(default=2000, ge=100, le=60_000, description="connect and each request")
    security_policy: Literal["None", "Basic256Sha256"] = "None"
    security_mode: Literal["None", "Sign", "SignAndEncrypt"] = "None"
    certificate_file: FilePath | None = Field(default=None, description="this gateway's certificate (DER or "
                                          "PEM); the server must trust it")
    private_key_file: FilePath | None = None
    server_certificate_file: FilePath | None = Field(
        default=None, description="pin the server's certificate; unset: taken from its endpoints")
    application_uri: str = Field(default="urn:gatewayd:client",
                                 description="must equal the URI in certificate_file")
    username: str | None = None
    password_file: FilePath | None = Field(default=None, description="file holding the password")
    points: list[OpcUaPoint] = Field(default_factory=list)

    @model_validator(mode="after")
    def _security(self) -> Config:
        if (self.security_policy == "None") != (self.security_mode == "None"):
            raise ValueError("security_policy Basic256Sha256 goes with security_mode Sign or "
                             "SignAndEncrypt, and policy None with mode None")
        if self.security_policy != "None" and not (self.certificate_file and self.private_key_file):
            raise ValueError("security_policy Basic256Sha256 needs certificate_file and private_key_file")
        if (self.username is None) != (self.password_file is None):
            raise ValueError("a username login needs both username and password_file")
        return self

    @property
    def bus_key(self) -> str:
        return f"opcua:{self.endpoint}"
