"""gatewayd.systemd against real AF_UNIX datagram sockets made by the tests; injected clocks."""

from __future__ import annotations

import logging
import os
import socket
import struct
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from gatewayd import systemd
from gatewayd.testing.clock import ManualClock


@pytest.fixture
def dgram(tmp_path: Path) -> Iterator[tuple[socket.socket, str]]:
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    path = str(tmp_path / "notify")
    sock.bind(path)
    sock.settimeout(2)
    yield sock, path
    sock.close()


def test_notify_sends_lines_to_a_path_socket(dgram: tuple[socket.socket, str]) -> None:
    """notify() sends all lines in one datagram to $NOTIFY_SOCKET."""
    sock, path = dgram
    assert systemd.notify("READY=1", "STATUS=queue=0", environ={"NOTIFY_SOCKET": path})
    assert sock.recv(4096) == b"READY=1\nSTATUS=queue=0"


def test_notify_reaches_an_abstract_socket() -> None:
    """An '@' address names an abstract socket."""
    name = f"gatewayd-test-{uuid.uuid4().hex}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(2)
        assert systemd.notify("WATCHDOG=1", environ={"NOTIFY_SOCKET": "@" + name})
        assert sock.recv(100) == b"WATCHDOG=1"


def test_notify_without_a_manager_is_a_quiet_no(tmp_path: Path) -> None:
    """Without NOTIFY_SOCKET, or with a dead one, notify() returns False and does not raise."""
    assert not systemd.notify("READY=1", environ={})
    assert not systemd.notify("READY=1", environ={"NOTIFY_SOCKET": str(tmp_path / "gone")})


def test_watchdog_period_reads_usec_and_pid() -> None:
    """WATCHDOG_USEC gives the period; a WATCHDOG_PID of another process disarms it."""
    me = str(os.getpid())
    assert systemd.watchdog_period_s({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": me}) == 30.0
    assert systemd.watchdog_period_s({"WATCHDOG_USEC": "5000000"}) == 5.0
    assert systemd.watchdog_period_s({"WATCHDOG_USEC": "5000000", "WATCHDOG_PID": "1"}) is None
    assert systemd.watchdog_period_s({}) is None




def test_watchdog_pings_only_when_every_loop_progressed() -> None:
    """A hung loop stops the pings; they resume once it beats again."""
    clock = ManualClock(100.0)
    wd = systemd.Watchdog(10.0, clock)
    wd.register("bus:i2c-1")
    wd.register("publisher")
    clock.t += 6
    assert not wd.due()  # nobody beat yet
    wd.beat("bus:i2c-1")
    wd.beat("publisher")
    assert wd.due()
    assert not wd.due()  # half a period has not passed
    for _ in range(3):  # the bus hangs: the publisher keeps beating, no ping goes out
        clock.t += 6
        wd.beat("publisher")
        assert not wd.due()
    assert wd.stalled() == ["bus:i2c-1"]
    wd.beat("bus:i2c-1")
    assert wd.due()


def test_watchdog_respects_half_the_period() -> None:
    """Pings are rate limited to one per half period even when everyone beats constantly."""
    clock = ManualClock(100.0)
    wd = systemd.Watchdog(4.0, clock)
    wd.register("publisher")
    wd.beat("publisher")
    clock.t += 1.9
    assert not wd.due()
    clock.t += 0.2
    assert wd.due()


def _parse_native(data: bytes) -> dict[str, str]:
    out: dict[str, str] = {}
    while data:
        line, _, rest = data.partition(b"\n")
        if b"=" in line:
            key, _, value = line.partition(b"=")
            out[key.decode()] = value.decode()
            data = rest
        else:
            size = struct.unpack("<Q", rest[:8])[0]
            out[line.decode()] = rest[8 : 8 + size].decode()
            data = rest[8 + size + 1 :]
    return out


def test_journal_handler_sends_structured_fields(dgram: tuple[socket.socket, str]) -> None:
    """Under systemd, records go to the journal socket with SOURCE/DEVICE/POINT fields."""
    sock, path = dgram
    handler = systemd.journal_handler({"INVOCATION_ID": "abc"}, path=path)
    assert handler is not None
    log = logging.getLogger("gatewayd.test.journal")
    log.addHandler(handler)
    log.propagate = False
    try:
        log.warning("line one\nline two", extra={"source": "i2c", "device": "ads", "point": "t1"})
    finally:
        log.removeHandler(handler)
        handler.close()
    fields = _parse_native(sock.recv(65536))
    assert fields["MESSAGE"] == "line one\nline two"
    assert fields["PRIORITY"] == "4"
    assert (fields["SOURCE"], fields["DEVICE"], fields["POINT"]) == ("i2c", "ads", "t1")


def test_journal_handler_is_none_off_systemd(tmp_path: Path) -> None:
    """Without INVOCATION_ID or a matching JOURNAL_STREAM the caller logs to stderr."""
    assert systemd.journal_handler({}) is None
    assert systemd.journal_handler({"JOURNAL_STREAM": "1:2"}) is None


def test_under_journal_matches_stderr_inode(tmp_path: Path) -> None:
    """JOURNAL_STREAM counts only when it names the very stream we write to."""
    with (tmp_path / "err").open("w") as f:
        st = os.fstat(f.fileno())
        assert systemd.under_journal({"JOURNAL_STREAM": f"{st.st_dev}:{st.st_ino}"}, f)
        assert not systemd.under_journal({"JOURNAL_STREAM": f"{st.st_dev}:1"}, f)


def test_notify_never_blocks_on_a_full_socket(dgram: tuple[socket.socket, str]) -> None:
    """A manager that stopped reading makes notify() return False instead of hanging."""
    _, path = dgram
    sent = [systemd.notify("STATUS=" + "x" * 1000, environ={"NOTIFY_SOCKET": path})
            for _ in range(2000)]
    assert sent[0] and not sent[-1]
