"""The error tree. Library exceptions are translated at the bus boundary into these.

    GatewayError
    ├── ConfigError           the TOML file is refused (lists every problem)
    ├── DeviceError           one device failed this poll; carries the Quality to report
    │   ├── CommError         no answer, timeout, link gone          -> BAD_COMM / BAD_TIMEOUT
    │   ├── ProtocolError     garbage, short reply, CRC mismatch     -> BAD_MALFORMED
    │   └── DeviceException   the device answered "no" (exception)  -> BAD_DEVICE_EXCEPTION
    ├── StoreError            the durable queue cannot be used (the queue answers, never raises)
    │   ├── StoreDiskFault    full, read-only, I/O error, cannot open  -> memory, retry later
    │   └── StoreCorrupt      not a database, damaged pages            -> move aside, start anew
    └── UpdateRefused         a release or command was refused (reason in the message)
"""

from __future__ import annotations

from .model import Quality


class GatewayError(Exception):
    """Base of every error gatewayd raises on purpose."""


class ConfigError(GatewayError):
    def __init__(self, problems: list[str], path: str = "") -> None:
        self.problems = problems
        self.path = path
        head = f"{path}: " if path else ""
        super().__init__(head + f"{len(problems)} problem(s)\n" + "\n".join(problems))


class DeviceError(GatewayError):
    """A device failed; the message names the device (`unit 3 on /dev/ttyAMA0: CRC mismatch`)."""

    quality: Quality = Quality.BAD_COMM

    def __init__(self, message: str, quality: Quality | None = None) -> None:
        super().__init__(message)
        if quality is not None:
            self.quality = quality


class CommError(DeviceError):
    quality = Quality.BAD_COMM


class ProtocolError(DeviceError):
    quality = Quality.BAD_MALFORMED


class DeviceException(DeviceError):
    quality = Quality.BAD_DEVICE_EXCEPTION


class StoreError(GatewayError):
    pass


class StoreDiskFault(StoreError):
    """The disk refuses to read or write the store; the file is presumed intact."""


class StoreCorrupt(StoreError):
    """The store file is damaged or not a database at all."""


class UpdateRefused(GatewayError):
    pass
