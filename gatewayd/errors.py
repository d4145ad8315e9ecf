"""The error tree. Library exceptions are translated at the bus boundary into these.

    GatewayError
    ├── ConfigError           the TOML file is refused (lists every problem)
    │   ├── BusConflict       two devices want one line with settings that cannot both hold
    │   └── Invalid           a table's own rule refuses one key (the validator adds its path)
    ├── DeviceError           one device failed this poll; carries the Quality to report
    │   ├── CommError         no answer, timeout, link gone          -> BAD_COMM / BAD_TIMEOUT
    │   ├── ProtocolError     garbage, short reply, CRC mismatch     -> BAD_MALFORMED
    │   └── DeviceException   the device answered "no" (exception)  -> BAD_DEVICE_EXCEPTION
    ├── StoreError            the durable queue cannot be used (the queue answers, never raises)
    │   ├── StoreDiskFault    full, read-only, I/O error, cannot open  -> memory, retry later
    │   └── StoreCorrupt      not a database, damaged pages            -> move aside, start anew
    ├── FormatError           a payload the codec must not read: unknown version, malformed
    ├── NoDaemon              no daemon answers on its live socket (the message says where)
    └── UpdateRefused         a release or command was refused (reason in the message)
        └── KeyRoleError      a key of the wrong role, or of none, where a role is required

An error joins the tree as soon as a module other than the one that raises it (or the one that
translates it) catches it. FormatError and KeyRoleError are also ValueErrors, as they were
before they joined; so is Invalid, which msgspec reports as a refusal when it decodes a table.
tests/test_errors.py holds this drawing and the list below to the code.

Kept out of the tree on purpose: the error of a pure decoder or of a single module, which the
one module that catches it turns into a tree error or an outcome, so it never goes further.

    BadFrame         sources/serial/decode -> sources/serial/source  ProtocolError, and counted
    S7Refused        buses/s7_pdu          -> buses/s7               DeviceException
    S7Malformed      buses/s7_pdu          -> buses/s7               ProtocolError
    RecordingError   recording/read        -> recording/cli          a message, exit 2
    Unsupported      userland              -> userland               a message, exit 1
    _Stop            toml_positions        -> toml_positions         stops the scan
"""

from __future__ import annotations

from .model import Quality


class GatewayError(Exception):
    """Base of every error gatewayd raises on purpose and lets out of the module that owns it."""


class ConfigError(GatewayError):
    def __init__(self, problems: list[str], path: str = "") -> None:
        self.problems = problems
        self.path = path
        head = f"{path}: " if path else ""
        super().__init__(head + f"{len(problems)} problem(s)\n" + "\n".join(problems))


class BusConflict(ConfigError):
    """Two devices want one physical line with settings that cannot both hold."""


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


class FormatError(GatewayError, ValueError):
    """A message the payload decoder must not read: unknown version, or not well formed."""


class NoDaemon(GatewayError):
    """No daemon answers on any of the places its socket can be (the message lists them)."""


class UpdateRefused(GatewayError):
    pass


class KeyRoleError(UpdateRefused, ValueError):
    """A key of the wrong role, or of none, where a role is required."""


class Invalid(ConfigError, ValueError):
    """Raised by a config table's `check` or `prepare` (gatewayd.validation) to blame one key
    rather than the whole table; the validator turns it into a problem at that key's path."""

    def __init__(self, key: str, message: str) -> None:
        Exception.__init__(self, message)  # str() is the message alone: it is quoted in others
        self.key = key
        self.message = message
        self.problems = [f"{key}: {message}"]
        self.path = ""
