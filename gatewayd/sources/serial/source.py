"""A serial instrument as a PolledDevice: one line or frame per poll, turned into readings.

What goes wrong is counted in `device.counters` (garbage, partial, checksum, silence) and
raised as a DeviceError whose quality says why (BAD_MALFORMED, BAD_TIMEOUT, BAD_COMM); the
supervisor turns it into bad readings. The port reopens itself with backoff (see buses.serial).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ...buses import Buses
from ...buses import serial as bus
from ...errors import CommError, ProtocolError
from ...model import Quality, Reading
from ..base import Device, SourceContext, buses_of
from .config import Config, SerialPoint
from .decode import (
    BadFrame,
    frame_field,
    match_text,
    strip_frame_checksum,
    strip_text_checksum,
    text_value,
)

COUNTERS = ("lines", "good", "garbage", "partial", "checksum", "silence", "comm")


class SerialDevice(Device):
    """One configured instrument on a (possibly shared) serial line."""

    cfg: Config


    def __init__(self, cfg: Config, buses: Buses | None = None) -> None:
        super().__init__(cfg, buses=buses)
        self.counters: dict[str, int] = dict.fromkeys(COUNTERS, 0)
        framing = bus.Framing(cfg.baudrate, cfg.bytesize, cfg.parity, cfg.stopbits)
        self.line: bus.SerialLine = self.buses.serial(cfg.port, framing, cfg.name,
                                                      cfg.reopen_min_ms / 1000,
                                                      cfg.reopen_max_ms / 1000)
        self.bus = self.line
        self._pattern = re.compile(cfg.pattern)
        self._term = cfg.terminator.encode("latin-1")
        self._timeout_s = cfg.timeout_ms / 1000
        self._where = f"{cfg.name}: {cfg.port}"

    def open(self) -> None:
        with self.line.lock:
            try:
                self.line.ensure_open()
            except CommError as e:
                raise CommError(f"{self.name}: {e}") from None

    def close(self) -> None:
        """The line closes when no other device is on it (the bus layer decides)."""
        self.release_bus()

    def read(self, now_ms: int) -> Iterable[Reading]:
        with self.line.lock:
            try:
                return self._read(self.line, now_ms)
            except CommError as e:
                if e.quality != Quality.BAD_TIMEOUT:
                    self.counters["comm"] += 1
                raise CommError(f"{self.name}: {e}", e.quality) from None

    def _read(self, line: bus.SerialLine, now_ms: int) -> list[Reading]:
        if self.cfg.format == "binary":
            return self._frame_readings(self._binary_frame(line), now_ms)
        if self.cfg.mode == "poll":
            line.discard_input()
            line.write(self.cfg.command.encode("latin-1"))
            pieces = [self._next_line(line)]
        else:  # free-running: every line since the last poll counts, the newest good one wins
            pieces = line.pending_until(self._term) or [self._next_line(line)]
        return self._newest_good(pieces, now_ms)

    def _next_line(self, line: bus.SerialLine) -> bytes:
        return self._complete(line.read_until(self._term, self._timeout_s))

    # -- classifying what arrived -------------------------------------------------------
    def _complete(self, chunk: bus.Chunk) -> bytes:
        """The bytes of a complete chunk; silence and partial lines are counted and raised."""
        if chunk.complete:
            return chunk.data
        if not chunk.data:
            self.counters["silence"] += 1
            silent = f"{self.cfg.port}: no answer within {self.cfg.timeout_ms} ms"
            raise CommError(silent, Quality.BAD_TIMEOUT)
        self.counters["lines"] += 1
        self.counters["partial"] += 1
        raise ProtocolError(f"{self._where}: partial line {chunk.data[:40]!r}")

    def _newest_good(self, lines: list[bytes], now_ms: int) -> list[Reading]:
        """Readings from the newest usable line; each line counted good or by its fault."""
        newest: list[Reading] | None = None
        failure: BadFrame | None = None
        for raw in lines:
            try:
                newest = self._line_readings(raw, now_ms)
            except BadFrame as e:
                failure = e
        if newest is None:
            assert failure is not None
            raise ProtocolError(f"{self._where}: {failure}")
        return newest

    def _counted(self, fault: BadFrame | None) -> None:
        self.counters["lines"] += 1
        self.counters[fault.reason if fault else "good"] += 1

    # -- text lines -----------------------------------------------------------------------
    def _line_readings(self, raw: bytes, now_ms: int) -> list[Reading]:
        c = self.cfg
        try:
            payload = strip_text_checksum(raw, c.checksum, c.checksum_separator.encode("latin-1"))
            groups = match_text(payload, self._pattern, c.encoding)
        except BadFrame as e:
            self._counted(e)
            raise
        self._counted(None)
        quality = Quality.UNCERTAIN if self._uncertain(groups) else Quality.GOOD
        return [_text_reading(p, groups, now_ms, quality) for p in c.points]

    def _uncertain(self, groups: dict[str, str]) -> bool:
        return any(groups.get(g) in values for g, values in self.cfg.uncertain_if.items())

    # -- binary frames ----------------------------------------------------------------------
    def _binary_frame(self, line: bus.SerialLine) -> bytes:
        """The next whole frame (after a poll command, if polled), aligned on the sync bytes."""
        c, sync = self.cfg, self.cfg.sync
        line.discard_input()
        if c.mode == "poll":
            line.write(c.command.encode("latin-1"))
        if sync:
            junk = line.read_until(sync, self._timeout_s)
            self._complete(junk)
            if junk.data:
                self.counters["garbage"] += 1  # bytes before the sync; the frame may still be good
        body = line.read_exactly(c.frame_bytes - len(sync), self._timeout_s)
        return sync + self._complete(body)

    def _frame_readings(self, frame: bytes, now_ms: int) -> list[Reading]:
        c = self.cfg
        try:
            body = strip_frame_checksum(frame, c.checksum)
        except BadFrame as e:
            self._counted(e)
            raise ProtocolError(f"{self._where}: {e}") from None
        self._counted(None)
        return [Reading(p.alias, now_ms, _binary_value(p, body)) for p in c.points]


def _text_reading(p: SerialPoint, groups: dict[str, str], now_ms: int, quality: Quality) -> Reading:
    text = groups.get(str(p.field))
    if text is None:
        return Reading(p.alias, now_ms, None, Quality.BAD_MALFORMED)
    try:
        return Reading(p.alias, now_ms, text_value(text, p.type), quality)
    except (ValueError, KeyError):
        return Reading(p.alias, now_ms, None, Quality.BAD_MALFORMED)


def _binary_value(p: SerialPoint, body: bytes) -> float | int:
    return frame_field(body, p.byte_offset or 0, p.data_type, p.byte_order)


def build(cfg: Config, ctx: SourceContext | None) -> SerialDevice:
    return SerialDevice(cfg, buses_of(ctx))

