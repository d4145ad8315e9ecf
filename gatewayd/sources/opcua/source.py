"""OPC UA device: the changes a subscription delivered since the last poll, or one Read of
every node each poll; after a lost connection, a new session re-creates the subscription and
a `gap` event says which span of time has no data."""

from __future__ import annotations

import logging
from collections import Counter
from pathlib import Path

from ...buses.opcua import Monitor, Sample, Security, UaLink
from ...errors import DeviceError
from ...model import Event, Quality, Reading
from ..base import Device, SourceContext, buses_of
from .config import Config
from .decode import quality, raw_value

log = logging.getLogger(__name__)


class OpcUaDevice(Device):
    cfg: Config

    def __init__(self, cfg: Config, ctx: SourceContext) -> None:
        super().__init__(cfg, buses=buses_of(ctx))  # its bus: a plain Bus keyed by the endpoint
        self.ctx = ctx
        security = None
        if cfg.security_policy != "None":
            assert cfg.certificate_file is not None and cfg.private_key_file is not None
            security = Security(cfg.security_policy, cfg.security_mode, cfg.certificate_file,
                                cfg.private_key_file, cfg.server_certificate_file)
        self.link = UaLink(cfg.endpoint, cfg.timeout_ms / 1000, security, cfg.username, None,
                           cfg.application_uri)
        self.subscribed = cfg.mode == "subscription"
        self.counters: Counter[str] = Counter()
        # an open is a session (and a subscription): a few round trips, each within the timeout
        self.max_poll_s = cfg.timeout_ms / 1000 * 5 + 2
        self._last_ms: int | None = None  # the last value delivered
        self._gap_open = False  # the connection was lost since then
        self._told: set[str] = set()

    def open(self) -> None:
        cfg = self.cfg
        self.link.password = _password(cfg.password_file) if cfg.password_file else None
        monitors = [Monitor(p.node_id, p.sampling_interval_ms if p.sampling_interval_ms is not None
                            else cfg.sampling_interval_ms, p.server_deadband,
                            p.server_deadband_type == "percent") for p in cfg.points]
        try:
            self.link.connect([p.node_id for p in cfg.points], monitors if self.subscribed else None,
                              cfg.publishing_interval_ms, cfg.queue_size)
        except DeviceError:
            self.link.close()  # the runner closes only what opened: end the loop thread here
            raise
        for i, status in self.link.item_status.items():
            self._tell(f"{cfg.points[i].node_id}: the server refused to monitor it (status 0x{status:08X})")

    def read(self, now_ms: int) -> list[Reading]:
        """One poll: raw values with the server's status as their quality. A lost connection
        raises CommError: the runner backs off and opens a new session."""
        self.counters["requests"] += 1
        try:
            samples = self.link.take() if self.subscribed else self.link.read()
        except DeviceError:
            self._gap_open = self._last_ms is not None
            raise
        if self.link.dropped:  # more changes than the buffer holds between two polls
            self.counters["changes_dropped"] = self.link.dropped
        out = [self._reading(s, now_ms) for s in samples]
        if self.subscribed:  # a point the server will not monitor is bad, at every poll
            out += [Reading(self.points[i].alias, now_ms, None, quality(status))
                    for i, status in self.link.item_status.items()]
        good = [r.ts_ms for r in out if r.value is not None]
        if good:
            if self._gap_open and self._last_ms is not None:
                self.ctx.event(Event(now_ms, "gap", {
                    "device": self.name, "from_ms": self._last_ms, "to_ms": min(good),
                    "reason": "connection to the server lost; session and subscription re-created"
                    if self.subscribed else "connection to the server lost; new session"}))
            self._gap_open = False
            self._last_ms = max(good)
        return out

    def _reading(self, s: Sample, now_ms: int) -> Reading:
        q = quality(s.status)
        value = raw_value(s.value) if not q.is_bad else None
        if value is None and not q.is_bad:
            q = Quality.BAD_CONFIG
            self._tell(f"{self.cfg.points[s.point].node_id}: not one value (an array, a structure or "
                       "a date): point at a scalar node")
        ts = s.ts_ms if self.subscribed and s.ts_ms is not None else now_ms
        return Reading(self.points[s.point].alias, ts, value, q)

    def _tell(self, problem: str) -> None:
        if problem not in self._told:
            self._told.add(problem)
            log.warning("%s: %s", self.name, problem)

    def close(self) -> None:
        self.link.close()  # the PLC connection is the device's own
        self.release_bus()


def _password(path: Path) -> str:
    try:
        return path.read_text().strip()
    except OSError as e:
        from ...errors import DeviceException

        raise DeviceException(f"password_file {path}: {e.strerror}", Quality.BAD_CONFIG) from None


def build(cfg: Config, ctx: SourceContext) -> OpcUaDevice:
    return OpcUaDevice(cfg, ctx)
