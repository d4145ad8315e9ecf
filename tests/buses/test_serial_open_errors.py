"""Serial open errors told apart on real ptys and files: missing, busy, permission denied,
for the serial-instrument bus (pyserial) and Modbus RTU (pymodbus), which hid the errno."""

from __future__ import annotations

import fcntl
import os
import pty
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from gatewayd.buses.modbus import Endpoint, ModbusBus
from gatewayd.buses.port_errors import diagnose
from gatewayd.buses.serial import Framing, SerialLine
from gatewayd.errors import CommError

FRAMING = Framing(9600, 8, "N", 1)


@pytest.fixture
def port() -> Iterator[str]:
    """A pty: a real tty device the test owns."""
    master, slave = pty.openpty()
    name = os.ttyname(slave)
    yield name
    os.close(master)
    os.close(slave)


def serial_error(path: str) -> str:
    line = SerialLine(f"serial:{path}", path, FRAMING)
    try:
        line.ensure_open()
    except CommError as e:
        return str(e)
    finally:
        line.close()
    return ""


def modbus_error(path: str) -> str:
    link = ModbusBus(Endpoint(transport="rtu", serial_port=path))
    try:
        link.connect(0.2)
    except CommError as e:
        return str(e)
    finally:
        link.close()
    return ""


@pytest.mark.parametrize("open_it", [serial_error, modbus_error])
def test_missing(open_it: Callable[[str], str]) -> None:
    """A port that is not there: plug the adapter in."""
    assert open_it("/dev/ttyUSB9").startswith(
        "/dev/ttyUSB9: cannot open: no such port: is the adapter plugged in?")


@pytest.mark.parametrize("open_it", [serial_error, modbus_error])
def test_busy(port: str, open_it: Callable[[str], str]) -> None:
    """Another program holds the port (an exclusive lock, as pyserial and minicom take)."""
    holder = os.open(port, os.O_RDWR | os.O_NOCTTY)
    try:
        fcntl.flock(holder, fcntl.LOCK_EX | fcntl.LOCK_NB)
        assert f"{port}: cannot open: busy: another program has the port open" in open_it(port)
    finally:
        os.close(holder)
    assert serial_error(port) == "" and diagnose(port) == ""  # free again: it opens


def test_two_serial_buses_on_one_port_are_told_busy(port: str) -> None:
    """Our own bus locks the port it opens: a second opener hears why."""
    first = SerialLine(f"serial:{port}", port, FRAMING)
    first.ensure_open()
    try:
        assert "busy" in serial_error(port)
    finally:
        first.close()


def test_not_a_serial_port(tmp_path: Path) -> None:
    """A regular file where a port should be."""
    f = tmp_path / "ttyFAKE"
    f.write_text("")
    assert "not a serial port" in diagnose(str(f))


def as_nobody(fn: Callable[[str], str], port: str) -> str:
    """`fn(port)` in a forked child that has dropped to the user nobody (no exec: this process's
    modules come along), its answer sent back through a pipe."""
    r, w = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: never returns into pytest
        try:
            os.close(r)
            os.setgroups([])
            os.setgid(65534)
            os.setuid(65534)
            os.write(w, fn(port).encode())
        finally:
            os._exit(0)
    os.close(w)
    with os.fdopen(r) as f:
        out = f.read()
    os.waitpid(pid, 0)
    return out


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root to drop to another user")
@pytest.mark.parametrize("open_it", [serial_error, modbus_error, diagnose])
def test_permission_denied(port: str, open_it: Callable[[str], str]) -> None:
    """A port the user may not open (mode 0600, owned by root), opened by a process running as
    `nobody`: the group to join is named."""
    os.chmod(port, 0o600)
    said = as_nobody(open_it, port)
    assert f"{port}: cannot open: permission denied: the user needs the port's group" in said
