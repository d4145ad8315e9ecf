"""Config of an OPC UA server (a PLC's or an edge server's), read by subscription or by polling."""

from __future__ import annotations

from typing import Literal
from urllib.parse import urlsplit

from ...buses import keys
from ...config import DeviceConfig, FilePath, PointConfig
from ...validation import Annotated, Invalid, Meta, field
from .decode import NODE_ID_FORM, is_node_id

DEFAULT_PORT = 4840  # an opc.tcp endpoint without a port


class OpcUaPoint(PointConfig):
    node_id: Annotated[str, Meta(description="ns=2;s=Line1.Temperature, ns=3;i=1001 or "
                                             "nsu=<uri>;s=<name>")]
    sampling_interval_ms: Annotated[int, Meta(
        ge=0, le=3_600_000, description="subscriptions: how often the server samples this node "
        "(default: the device's sampling_interval_ms)")] | None = None
    server_deadband: Annotated[float, Meta(
        ge=0, description="subscriptions: the server reports a change only past this (OPC UA "
        "DataChangeFilter); 0 = every change")] = 0.0
    server_deadband_type: Annotated[Literal["absolute", "percent"], Meta(
        description="percent is of the node's EURange (not every server has it)")] = "absolute"

    def check(self) -> None:
        if not is_node_id(self.node_id):
            raise Invalid("node_id", NODE_ID_FORM)


class Config(DeviceConfig):
    kind: Literal["opcua"]
    endpoint: Annotated[str, Meta(pattern=r"^opc\.tcp://[^/\s]+(/\S*)?$",
                                  description="opc.tcp://host:4840/path")]
    mode: Annotated[Literal["subscription", "poll"], Meta(
        description="subscription: the server reports changes (monitored items); poll: one "
        "Read of every node each period_ms")] = "subscription"
    publishing_interval_ms: Annotated[int, Meta(
        ge=10, le=3_600_000, description="subscriptions: how often the server sends "
                                         "changes")] = 1000
    sampling_interval_ms: Annotated[int, Meta(ge=0, le=3_600_000)] = 500
    queue_size: Annotated[int, Meta(ge=1, le=10_000, description="changes the server keeps per "
                                                                 "node between two publishes")] = 10
    timeout_ms: Annotated[int, Meta(ge=100, le=60_000,
                                    description="connect and each request")] = 2000
    security_policy: Literal["None", "Basic256Sha256"] = "None"
    security_mode: Literal["None", "Sign", "SignAndEncrypt"] = "None"
    certificate_file: Annotated[FilePath, Meta(
        description="this gateway's certificate (DER or PEM); the server must trust "
                    "it")] | None = None
    private_key_file: FilePath | None = None
    server_certificate_file: Annotated[FilePath, Meta(
        description="pin the server's certificate; unset: taken from its endpoints")] | None = None
    application_uri: Annotated[str, Meta(
        description="must equal the URI in certificate_file")] = "urn:gatewayd:client"
    username: str | None = None
    password_file: Annotated[FilePath, Meta(description="file holding the password")] | None = None
    points: list[OpcUaPoint] = field(default_factory=list)

    def check(self) -> None:
        try:
            _port(self.endpoint)
        except ValueError:  # the pattern lets `host:junk` through; the bus key needs the port
            raise Invalid("endpoint", "a port from 0 to 65535 after the host, as in "
                                      "opc.tcp://host:4840/path") from None
        if (self.security_policy == "None") != (self.security_mode == "None"):
            raise ValueError("security_policy Basic256Sha256 goes with security_mode Sign or "
                             "SignAndEncrypt, and policy None with mode None")
        if self.security_policy != "None" and not (self.certificate_file and self.private_key_file):
            raise ValueError("security_policy Basic256Sha256 needs certificate_file and "
                             "private_key_file")
        if (self.username is None) != (self.password_file is None):
            raise ValueError("a username login needs both username and password_file")

    @property
    def bus_key(self) -> str:
        """One line a server: the endpoint's host and port (its path names no other line)."""
        return keys.tcp(urlsplit(self.endpoint).hostname or "", _port(self.endpoint))


def _port(endpoint: str) -> int:
    """The endpoint's port (4840 when it has none); ValueError when it is not a port."""
    return urlsplit(endpoint).port or DEFAULT_PORT
