"""Logix device: each poll reads every tag in one multi-tag request (Multiple Service Packet)."""

from __future__ import annotations

import logging
from collections import Counter

from ...buses import Buses
from ...buses.enip import LogixLink
from ...model import Quality, Reading
from ..base import Device, SourceContext, buses_of
from .config import Config
from .decode import raw_value, tag_problem, tag_quality

log = logging.getLogger(__name__)


class LogixDevice(Device):
    cfg: Config

    def __init__(self, cfg: Config, buses: Buses | None = None) -> None:
        super().__init__(cfg, buses=buses)  # its bus: a plain Bus keyed by the PLC's endpoint
        self.tags = [p.tag for p in cfg.points]
        self.link = LogixLink(cfg.host, cfg.port, cfg.slot, cfg.timeout_ms / 1000)
        self.counters: Counter[str] = Counter()
        # a session to register, a connection to open, then the reads (a packet per ~500 bytes)
        self.max_poll_s = cfg.timeout_ms / 1000 * (3 + len(self.tags) // 20) + 1
        self._told: set[str] = set()

    def open(self) -> None:
        self.link.connect()

    def read(self, now_ms: int) -> list[Reading]:
        """One poll. A tag the controller refuses is bad alone (logged once, with the reason);
        an unreachable controller raises CommError for the runner."""
        if not self.tags:
            return []
        self.counters["requests"] += 1
        out: list[Reading] = []
        for point, tag, (value, status) in zip(self.points, self.tags, self.link.read(self.tags),
                                               strict=True):
            quality = tag_quality(status)
            raw = raw_value(value) if quality == Quality.GOOD else None
            if quality == Quality.GOOD and raw is None:
                quality, status = Quality.BAD_CONFIG, -1
            if quality != Quality.GOOD:
                self._tell(tag, status)
            out.append(Reading(point.alias, now_ms, raw, quality))
        return out

    def _tell(self, tag: str, status: int) -> None:
        problem = (tag_problem(tag, status) if status >= 0
                   else f"tag {tag}: a structure or array, not one value: name a member or element")
        if problem not in self._told:
            self._told.add(problem)
            log.warning("%s: %s", self.name, problem)

    def close(self) -> None:
        self.link.close()  # the PLC connection is the device's own
        self.release_bus()


def build(cfg: Config, ctx: SourceContext | None) -> LogixDevice:
    return LogixDevice(cfg, buses_of(ctx))
