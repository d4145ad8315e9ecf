"""Why a serial port cannot be opened, told apart: missing, busy, permission denied.

pyserial and pymodbus say "could not open port" or just "cannot connect" for all of them; an
installer needs to know whether to plug the adapter in, stop the program holding the port, or
add the service user to a group. `explain` words an errno; `diagnose` opens the port once
itself (read-write, no controlling tty, non-blocking) to find the errno when a library hid it.
"""

from __future__ import annotations

import errno
import fcntl
import grp
import os
import termios

BUSY = (errno.EBUSY, errno.EWOULDBLOCK, errno.EAGAIN)


def explain(port: str, code: int | None, detail: str = "") -> str:
    """One line for an errno from opening `port`."""
    if code == errno.ENOENT:
        return (f"{port}: cannot open: no such port: is the adapter plugged in? "
                "(ls /dev/serial/by-id/ lists those present)")
    if code in (errno.EACCES, errno.EPERM):
        return (f"{port}: cannot open: permission denied: the user needs the port's group "
                f"({_group_of(port)}); the gatewayd service has dialout")
    if code in BUSY:
        return (f"{port}: cannot open: busy: another program has the port open (a serial console, "
                "ModemManager, a terminal program, or a second gatewayd)")
    if code in (errno.ENXIO, errno.ENODEV, errno.EIO):
        return f"{port}: cannot open: no device behind it (unplugged, or its driver gone)"
    if code == errno.ENOTTY:
        return f"{port}: cannot open: not a serial port"
    return f"{port}: cannot open: {detail or os.strerror(code or 0)}"


def diagnose(port: str) -> str:
    """Open the port as the bus would and say what stops it; "" when nothing does."""
    try:
        fd = os.open(port, os.O_RDWR | os.O_NOCTTY | os.O_NONBLOCK)
    except OSError as e:
        return explain(port, e.errno, e.strerror or "")
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as e:
            return explain(port, e.errno, e.strerror or "")
        fcntl.flock(fd, fcntl.LOCK_UN)
        try:
            termios.tcgetattr(fd)
        except termios.error:
            return explain(port, errno.ENOTTY)
    finally:
        os.close(fd)
    return ""


def _group_of(port: str) -> str:
    try:
        return grp.getgrgid(os.stat(port).st_gid).gr_name
    except (OSError, KeyError):
        return "dialout"
