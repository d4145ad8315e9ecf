"""Serial instruments on pseudo-terminals, for the tests, the benchmark and the demo.

Each `SimPort` is a pty pair in raw mode whose slave end is reached through a symlink (the
path a config names, like /dev/ttyUSB0). A pty cannot keep its path across a re-creation, so
"unplugging the USB adapter" removes the symlink and closes the pty (the gateway's open port
sees a hangup); "plugging it back" makes a fresh pty and points the symlink at it.

Instruments (one or more per port, as on an RS-485 line):
  Scale       free-runs `ST,GS,+0012.34 kg\\r\\n` (`US,...` while unstable)
  PollSensor  answers `?T\\r` with `T=23.45*XX\\r`, XX the hex XOR of the bytes before `*`
  BinaryMeter answers a poll with a fixed frame: sync, big-endian fields, XOR byte
Faults, set per instrument: "garbage", "partial", "bad_checksum", "silence".
"""

from __future__ import annotations

import contextlib
import errno
import os
import select
import struct
import threading
import time
import tty
from pathlib import Path

FAULTS = ("garbage", "partial", "bad_checksum", "silence")
GARBAGE = b"\xff\x00\x9c#\x07\xfe"


def xor8(data: bytes) -> int:
    out = 0
    for b in data:
        out ^= b
    return out


def sum8(data: bytes) -> int:
    return sum(data) & 0xFF


class Instrument:
    """Base: turns received bytes into replies and may talk on its own every `period_s`."""

    period_s: float | None = None  # None: speaks only when asked
    terminator = b"\r\n"

    def __init__(self) -> None:
        self.fault: str | None = None
        self.sent = 0

    def reply(self, command: bytes) -> bytes:
        return b""

    def spontaneous(self) -> bytes:
        return b""

    def frame(self, payload: bytes, bad_payload: bytes | None = None) -> bytes:
        """The bytes to send for `payload`, spoiled by the current fault."""
        if self.fault == "silence":
            return b""
        self.sent += 1
        if self.fault == "garbage":
            return GARBAGE + self.terminator
        if self.fault == "partial":
            return payload[: max(1, len(payload) // 2)]
        if self.fault == "bad_checksum" and bad_payload is not None:
            return bad_payload + self.terminator
        return payload + self.terminator


class Scale(Instrument):
    """A platform scale printing its weight continuously (a common ASCII scale format)."""

    def __init__(self, weight: float = 12.34, unit: str = "kg", period_s: float = 0.02) -> None:
        super().__init__()
        self.weight, self.unit, self.period_s = weight, unit, period_s
        self.stable = True

    def spontaneous(self) -> bytes:
        status = "ST" if self.stable else "US"
        return self.frame(f"{status},GS,{self.weight:+08.2f} {self.unit}".encode())


class PollSensor(Instrument):
    """Answers `<address>?<key>\\r` with `<key>=<value>*<XOR hex>\\r`; silent to other addresses."""

    terminator = b"\r"

    def __init__(self, values: dict[str, float] | None = None, address: str = "") -> None:
        super().__init__()
        self.values = dict(values or {"T": 23.45})
        self.address = address.encode()
        self._pending = bytearray()

    def reply(self, command: bytes) -> bytes:
        self._pending += command
        out = b""
        while (end := self._pending.find(b"\r")) >= 0:
            request = bytes(self._pending[:end])
            del self._pending[: end + 1]
            out += self._answer(request)
        return out

    def _answer(self, request: bytes) -> bytes:
        head, _, key = request.partition(b"?")
        if head != self.address or key.decode(errors="replace") not in self.values:
            return b""
        payload = b"%s=%.2f" % (key, self.values[key.decode()])
        cs = xor8(payload)
        return self.frame(b"%s*%02X" % (payload, cs), b"%s*%02X" % (payload, cs ^ 0x5A))


class BinaryMeter(Instrument):
    """Answers `command` with sync + struct `>hHI` (tenths of °C, bar*100, counter) + XOR byte."""

    terminator = b""
    SYNC = b"\xaa\x55"

    def __init__(self, command: bytes = b"\x05R", values: tuple[int, int, int] = (215, 1013, 7)):
        super().__init__()
        self.command, self.values = command, values

    def reply(self, command: bytes) -> bytes:
        if command != self.command:
            return b""
        body = self.SYNC + struct.pack(">hHI", *self.values)
        good = body + bytes([xor8(body)])
        return self.frame(good, good[:-1] + bytes([good[-1] ^ 0xFF]))


class SimPort:
    """A pty pair reached through a symlink, carrying one or more instruments."""

    def __init__(self, link: Path, instruments: list[Instrument]) -> None:
        self.link = Path(link)
        self.instruments = instruments
        self.master = -1
        self._slave = -1
        self._next_tick = 0.0

    @property
    def path(self) -> str:
        return str(self.link)

    @property
    def plugged(self) -> bool:
        return self.master >= 0

    def plug(self) -> None:
        self.master, self._slave = os.openpty()
        tty.setraw(self._slave)  # no echo, no CR/LF translation: bytes pass as they are
        os.set_blocking(self.master, False)
        tmp = self.link.with_name(self.link.name + ".new")
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(os.ttyname(self._slave))
        os.replace(tmp, self.link)

    def unplug(self) -> None:
        self.link.unlink(missing_ok=True)
        for fd in (self.master, self._slave):
            if fd >= 0:
                os.close(fd)
        self.master = self._slave = -1

    def send(self, data: bytes) -> None:
        """Write what the instruments say; a full buffer drops bytes, as on a real line."""
        with contextlib.suppress(BlockingIOError, OSError):
            os.write(self.master, data)

    def receive(self) -> None:
        try:
            data = os.read(self.master, 4096)
        except OSError as e:
            if e.errno not in (errno.EAGAIN, errno.EIO):
                raise
            return
        self.send(b"".join(i.reply(data) for i in self.instruments))

    def tick(self, now: float) -> float:
        """Let free-running instruments speak; returns when this port next needs a tick."""
        periods = [i.period_s for i in self.instruments if i.period_s is not None]
        if not periods:
            return now + 3600
        if now >= self._next_tick:
            self.send(b"".join(i.spontaneous() for i in self.instruments if i.period_s))
            self._next_tick = now + min(periods)
        return self._next_tick


class SerialSim:
    """Runs SimPorts on one thread; use as a context manager so the thread is joined."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)
        self.ports: list[SimPort] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._wake_r, self._wake_w = os.pipe()
        self._thread = threading.Thread(target=self._run, name="serial-sim", daemon=True)

    def add(self, name: str, *instruments: Instrument) -> SimPort:
        port = SimPort(self.directory / name, list(instruments))
        with self._lock:
            port.plug()
            self.ports.append(port)
        self._wake()
        return port

    def unplug(self, port: SimPort) -> None:
        with self._lock:
            port.unplug()
        self._wake()

    def replug(self, port: SimPort) -> None:
        with self._lock:
            port.plug()
        self._wake()

    def _wake(self) -> None:
        os.write(self._wake_w, b"!")

    def __enter__(self) -> SerialSim:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._wake()
        self._thread.join()
        with self._lock:
            for port in self.ports:
                if port.plugged:
                    port.unplug()
        os.close(self._wake_r)
        os.close(self._wake_w)

    def _run(self) -> None:
        next_tick = 0.0
        while not self._stop.is_set():
            with self._lock:
                masters = {p.master: p for p in self.ports if p.plugged}
            timeout = max(0.0, next_tick - time.monotonic())
            try:
                ready = select.select([self._wake_r, *masters], [], [], timeout)[0]
            except (OSError, ValueError):
                continue  # a port was unplugged while we waited
            with self._lock:
                next_tick = self._serve(ready, masters)

    def _serve(self, ready: list[int], masters: dict[int, SimPort]) -> float:
        if self._wake_r in ready:
            os.read(self._wake_r, 4096)
        for fd in ready:
            port = masters.get(fd)
            if port is not None and port.master == fd:
                port.receive()
        now = time.monotonic()
        return min((p.tick(now) for p in self.ports if p.plugged), default=now + 3600)
