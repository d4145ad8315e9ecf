"""Talking to systemd: readiness and watchdog notifications, and structured logs to journald.

The notify protocol is one AF_UNIX datagram of `KEY=value` lines sent to $NOTIFY_SOCKET (an
abstract address when it starts with '@'). It is implemented here directly rather than through
systemd-python: ten lines, no compiled dependency, and the daemon behaves the same on a laptop,
in CI and on a gateway. systemd-python's JournalHandler is used for logs when it is installed;
otherwise the journal's native datagram protocol is spoken directly, and off systemd the caller
logs to stderr.

`Watchdog` turns proof of progress into pings: WATCHDOG=1 is due only when every registered
loop (each bus thread, the publisher) has beaten since the last ping, so a hung bus thread
silences the pings and systemd restarts the daemon.
"""

from __future__ import annotations

import logging
import os
import socket
import struct
import sys
import threading
import time
from collections.abc import Callable, Iterable, Mapping

JOURNAL_SOCKET = "/run/systemd/journal/socket"
# LogRecord attributes (passed with `extra=`) that become journal fields.
STRUCTURED_FIELDS = ("source", "device", "point")


def _address(path: str) -> str:
    return "\0" + path[1:] if path.startswith("@") else path


def notify(*lines: str, environ: Mapping[str, str] | None = None) -> bool:
    """Send `READY=1`, `STATUS=...` etc. to the service manager; False when not under one."""
    path = (os.environ if environ is None else environ).get("NOTIFY_SOCKET", "")
    if not path or not lines:
        return False
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
        try:  # never block: a manager that stopped reading must not stall the main loop
            sock.sendto("\n".join(lines).encode(), socket.MSG_DONTWAIT, _address(path))
        except OSError:
            return False  # the manager went away or is not reading: drop, do not crash
    return True


def watchdog_period_s(environ: Mapping[str, str] | None = None) -> float | None:
    """The ping period systemd expects (WatchdogSec), or None when no watchdog is armed for us."""
    env = os.environ if environ is None else environ
    usec = env.get("WATCHDOG_USEC", "")
    pid = env.get("WATCHDOG_PID", "")
    if not usec.isdigit() or int(usec) == 0:
        return None
    if pid and pid != str(os.getpid()):
        return None  # meant for another process (we were forked or exec'd from the main one)
    return int(usec) / 1e6


def under_journal(environ: Mapping[str, str] | None = None, stream: object = None) -> bool:
    """True when stderr is connected to journald (or we run as a systemd service)."""
    env = os.environ if environ is None else environ
    fd_owner = sys.stderr if stream is None else stream
    journal = env.get("JOURNAL_STREAM", "")
    if journal:
        try:
            st = os.fstat(fd_owner.fileno())  # type: ignore[attr-defined,union-attr]
        except (OSError, AttributeError, ValueError):
            return False
        return journal == f"{st.st_dev}:{st.st_ino}"
    return bool(env.get("INVOCATION_ID"))


def _field(key: str, value: str) -> bytes:
    """One journal native-protocol field; values with newlines carry an explicit length."""
    data = value.encode("utf-8", "replace")
    if b"\n" not in data:
        return key.encode() + b"=" + data + b"\n"
    return key.encode() + b"\n" + struct.pack("<Q", len(data)) + data + b"\n"


_PRIORITY = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3}


def journal_fields(record: logging.LogRecord, message: str, identifier: str) -> dict[str, str]:
    """The fields a log record becomes: message, priority, logger, and SOURCE/DEVICE/POINT."""
    fields = {
        "MESSAGE": message,
        "PRIORITY": str(_PRIORITY.get(record.levelno, 2 if record.levelno > 40 else 6)),
        "SYSLOG_IDENTIFIER": identifier,
        "LOGGER": record.name,
        "CODE_FILE": record.pathname,
        "CODE_LINE": str(record.lineno),
        "CODE_FUNC": record.funcName,
    }
    for name in STRUCTURED_FIELDS:
        value = getattr(record, name, None)
        if value is not None:
            fields[name.upper()] = str(value)
    return fields


class NativeJournalHandler(logging.Handler):
    """Writes records to journald over its native datagram socket, fields included."""

    def __init__(self, path: str = JOURNAL_SOCKET, identifier: str = "gatewayd") -> None:
        super().__init__()
        self.path = path
        self.identifier = identifier
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            fields = journal_fields(record, self.format(record), self.identifier)
            payload = b"".join(_field(k, v) for k, v in fields.items())
            self.sock.sendto(payload, _address(self.path))
        except Exception:
            self.handleError(record)

    def close(self) -> None:
        self.sock.close()
        super().close()


class _SystemdPythonHandler(logging.Handler):
    """Adapter onto systemd-python's journal.send, mapping our `extra` fields to journal fields."""

    def __init__(self, identifier: str) -> None:
        super().__init__()
        from systemd import journal  # type: ignore[import-not-found,attr-defined,unused-ignore]

        self.send = journal.send
        self.identifier = identifier

    def emit(self, record: logging.LogRecord) -> None:
        try:
            fields = journal_fields(record, self.format(record), self.identifier)
            self.send(**fields)
        except Exception:
            self.handleError(record)


def journal_handler(
    environ: Mapping[str, str] | None = None,
    path: str = JOURNAL_SOCKET,
    identifier: str = "gatewayd",
) -> logging.Handler | None:
    """A handler that logs to journald when started by systemd, else None (log to stderr)."""
    if not under_journal(environ) or not os.path.exists(path):
        return None
    if path == JOURNAL_SOCKET:  # systemd-python knows only the system journal
        try:
            return _SystemdPythonHandler(identifier)
        except ImportError:
            pass
    return NativeJournalHandler(path, identifier)


class Watchdog:
    """Decides when WATCHDOG=1 may be sent: only after every registered loop made progress.

    Loops call `beat(name)` after real work (a poll cycle, a publish or an idle wait that
    completed). `due()` is asked often; it answers True at most every half period, and only
    when each registered name beat since the previous ping. Thread-safe; clock injected.
    """

    def __init__(self, period_s: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.interval_s = period_s / 2  # systemd's advice: ping at half the timeout
        self.clock = clock
        self._lock = threading.Lock()
        self._beaten: dict[str, bool] = {}
        self._last_ping = clock()

    def register(self, name: str) -> None:
        with self._lock:
            self._beaten.setdefault(name, False)

    def unregister(self, name: str) -> None:
        with self._lock:
            self._beaten.pop(name, None)

    def beat(self, name: str) -> None:
        with self._lock:
            self._beaten[name] = True

    def stalled(self) -> list[str]:
        """Names that have not beaten since the last ping (for the STATUS line and logs)."""
        with self._lock:
            return sorted(n for n, ok in self._beaten.items() if not ok)

    def due(self) -> bool:
        """True when a ping should be sent now; then the round starts over."""
        with self._lock:
            now = self.clock()
            if now - self._last_ping < self.interval_s:
                return False
            if not all(self._beaten.values()):
                return False
            self._last_ping = now
            self._beaten = dict.fromkeys(self._beaten, False)
            return True


def status_line(fields: Iterable[tuple[str, object]]) -> str:
    """`STATUS=queue=12 broker=connected` from ordered pairs (one format for every caller)."""
    return "STATUS=" + " ".join(f"{k}={v}" for k, v in fields)
