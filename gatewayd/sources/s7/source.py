"""S7 device: each poll reads every span of its plan in as few Read Var requests as fit a PDU."""

from __future__ import annotations

import logging
from collections import Counter

from ...buses import Buses, s7_pdu
from ...buses.s7 import S7Link, item_problem
from ...errors import DeviceException
from ...model import Quality, Reading
from ..base import Device, SourceContext, buses_of
from .config import Config, S7Point
from .decode import Address, decode_value, parse_address, plan_spans

log = logging.getLogger(__name__)


class S7Device(Device):
    cfg: Config

    def __init__(self, cfg: Config, buses: Buses | None = None) -> None:
        super().__init__(cfg, buses=buses)  # its bus: a plain Bus keyed by the PLC's endpoint
        self.addresses: list[Address] = [parse_address(p.address) for p in cfg.points]
        self.counters: Counter[str] = Counter()
        self.link = S7Link(cfg.host, cfg.port, cfg.rack, cfg.slot, cfg.timeout_ms / 1000)
        self.requests: list[list[s7_pdu.Span]] = self._plan(240)
        self.max_poll_s = cfg.timeout_ms / 1000 * (len(self.requests) + 1) + 1
        self._told: set[str] = set()  # item problems logged once each

    def _plan(self, pdu_size: int) -> list[list[s7_pdu.Span]]:
        items = [(a, p.width) for a, p in zip(self.addresses, self.cfg.points, strict=True)]
        spans = plan_spans(items, self.cfg.max_gap_bytes, s7_pdu.max_span_size(pdu_size))
        return s7_pdu.pack_requests(spans, pdu_size)

    def open(self) -> None:
        self.link.connect()
        self.requests = self._plan(self.link.pdu_size)  # the CPU's own PDU size
        self.max_poll_s = self.cfg.timeout_ms / 1000 * (len(self.requests) + 1) + 1

    def read(self, now_ms: int) -> list[Reading]:
        """One poll. A span the CPU refuses is bad for its points only; when it refuses every
        span, the device is down with the reason (which names the setting to change)."""
        out: list[Reading] = []
        problems: list[str] = []
        for spans in self.requests:
            self.counters["requests"] += 1
            for span, got in zip(spans, self.link.read(spans), strict=True):
                if isinstance(got, int):
                    problems.append(item_problem(got, span))
                    out += [Reading(self.points[i].alias, now_ms, None, Quality.BAD_DEVICE_EXCEPTION)
                            for i in span.members]
                    continue
                out += [self._value(i, span, got, now_ms) for i in span.members]
        if problems and len(problems) == sum(len(r) for r in self.requests):
            raise DeviceException(f"{self.link.label}: {problems[0]}", Quality.BAD_CONFIG)
        for problem in problems:
            if problem not in self._told:
                self._told.add(problem)
                log.warning("%s: %s", self.name, problem)
        return out

    def _value(self, i: int, span: s7_pdu.Span, raw: bytes, now_ms: int) -> Reading:
        p: S7Point = self.cfg.points[i]
        addr = self.addresses[i]
        at = addr.offset - span.start
        value = decode_value(raw[at : at + p.width], p.s7_type, addr.bit)
        return Reading(self.points[i].alias, now_ms, value)

    def close(self) -> None:
        self.link.close()  # the PLC connection is the device's own
        self.release_bus()


def build(cfg: Config, ctx: SourceContext | None) -> S7Device:
    return S7Device(cfg, buses_of(ctx))
