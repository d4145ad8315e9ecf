"""Builds the pipeline from the config and owns its threads:

    buses ─▶ runners ──readings──▶ Batcher ──batches──▶ DurableQueue ──▶ Publisher ──PUBACK──▶ delete
                  (journaled at once)

One Bus per physical line (gatewayd.buses), one Runner thread per bus (gatewayd.runner) that
runs every device on it, polled or event-driven alike, through its point stage.

The pipeline thread flushes the batcher every publish interval (the publisher sends at once)
and commits the store on its group-commit interval; everything else is owned by the runners
and the publisher.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from . import sources
from .buses import Buses
from .buses.backend import Backend, Hardware
from .config import Config
from .errors import ConfigError, StoreError
from .live.values import LastValues
from .model import Event, Point, now_ms
from .pipeline import codec
from .pipeline.batcher import Batcher
from .publish.mqtt import Publisher
from .publish.topics import Topics
from .runner import Runner
from .sources.base import SourceContext
from .store.queue import DurableQueue
from .version import software_version

log = logging.getLogger("gatewayd")


def build_devices(cfg: Config, ctx: SourceContext) -> tuple[list[Any], list[tuple[str, str]]]:
    """The device objects of the enabled devices, and (name, problem) for those that cannot be
    built (an IODD missing or malformed, two devices wanting one line with different settings,
    ...). Building does no I/O: each device takes its bus from `ctx.buses`, which opens later."""
    devices, problems = [], []
    for dev_cfg in cfg.devices:
        if not dev_cfg.enabled:
            continue
        try:
            devices.append(sources.plugin(dev_cfg.kind).builder()(dev_cfg, ctx))
        except ConfigError as e:  # e.g. an IODD file: its problems say what and where
            problems.append((dev_cfg.name, "; ".join(e.problems)))
        except Exception as e:  # a device that cannot be built must not take the others down
            problems.append((dev_cfg.name, f"{type(e).__name__}: {e}"))
    return devices, problems


def offline_context(cfg: Config) -> SourceContext:
    """A context for building devices without running them (`check`, reload validation)."""
    return SourceContext(lambda r: None, lambda e: None, cfg.store.path.parent, now_ms,
                         buses=Buses())


class Supervisor:
    def __init__(self, cfg: Config, extras: dict[str, Any] | None = None,
                 on_command: Callable[[str, bytes], None] | None = None,
                 backend: Backend | None = None) -> None:
        self.cfg = cfg
        self.backend: Backend = backend or Hardware()  # the caller's choice, made once
        self.buses = Buses(self.backend)  # one Bus per physical line, closed at stop()
        self.extras = extras or {}
        self.on_command = on_command
        self.started_ms = now_ms()
        self.store: DurableQueue | None = None
        self.batcher: Batcher | None = None
        self.publisher: Publisher | None = None
        self.workers: list[Runner] = []  # one per bus
        self.devices: list[Any] = []  # every device running, polled or event-driven
        self._stop = threading.Event()
        self._pipeline: threading.Thread | None = None
        self.pipeline_progress = time.monotonic()
        self._pending_events: list[Event] = []  # found before the batcher existed
        self.points: list[Point] = []
        self.sparkplug: Any = None  # publish.sparkplug.QueueFeed when [sparkplug] is enabled
        self.last = LastValues()  # for the live view: status() shows each point's last reading

    # -- assembly ------------------------------------------------------------------------------
    @property
    def topics(self) -> Topics:
        g = self.cfg.gateway
        return Topics(g.topic_prefix, g.site, g.id)

    def start(self) -> None:
        self.store = self._open_store()
        self.batcher = Batcher(self.store, {}, 0, self.cfg.publish.max_readings_per_batch)
        self.batcher.on_put = self._kick
        self._start_sources()
        # Devices may know more about their points than the config says (an IODD's units).
        self.points = [p for d in self.devices for p in d.points]
        self.batcher.resolution = {p.alias: p.resolution for p in self.points
                                   if p.resolution is not None}  # the others: exact
        self.batcher.birth_id = codec.birth_id(self.points)
        self.publisher = Publisher(
            self.cfg.broker, self.topics, self.store, self._birth, self.cfg.store.backlog_rate_per_s,
            self.on_command, on_event=self.event,
        )
        self._stop.clear()
        self._pipeline = threading.Thread(target=self._pipeline_loop, name="pipeline", daemon=True)
        self._pipeline.start()
        self._start_sparkplug()  # before the publisher drains the backlog it reads
        self.publisher.start()

    def _start_sparkplug(self) -> None:
        """The optional Sparkplug B output, fed from the durable queue (docs/sparkplug.md)."""
        sp = self.cfg.sparkplug
        if not sp.enabled or self.store is None:
            return
        from .publish.credentials import Credentials
        from .publish.sparkplug import QueueFeed, SparkplugNode

        b = self.cfg.broker
        creds = Credentials.of_broker(b)
        node = SparkplugNode(sp.url or b.url, sp.group_id, sp.node_id or self.cfg.gateway.id,
                             self.points, self.cfg.store.path.parent, sp.primary_host,
                             credentials=creds)
        self.sparkplug = QueueFeed(node, self.store)
        node.start()
        self.sparkplug.start()

    def _birth(self) -> bytes:
        # n: a consumer detects a restarted numbering by it. Only an attribute is read: this
        # runs on paho's thread, which must not touch the store's file.
        next_seq = self.store.next_seq if self.store is not None else 0
        return codec.encode_birth(self.cfg.gateway.id, self.points, software_version(),
                                  self.started_ms, next_seq)

    def _open_store(self) -> DurableQueue:
        """Never fails: a corrupt file is set aside and a bad disk means memory (docs/store.md)."""
        sc = self.cfg.store
        store = DurableQueue(sc.path, int(sc.max_mb * 1024 * 1024), sc.commit_interval_ms,
                             sc.when_full, memory_bytes=int(sc.memory_buffer_mb * 1024 * 1024),
                             max_message_bytes=self.cfg.publish.max_message_bytes)
        store.open()
        return store

    def _context(self) -> SourceContext:
        assert self.batcher is not None
        state_dir = self.cfg.store.path.parent
        return SourceContext(self.last.tee_one(self.batcher.add),
                             self.last.tee_event(self.batcher.event), state_dir, now_ms,
                             self.extras, self.buses)

    def _start_sources(self) -> None:
        assert self.batcher is not None
        ctx = self._context()
        for ev in self._pending_events:
            self.batcher.event(ev)
        self._pending_events.clear()
        devices, problems = build_devices(self.cfg, ctx)
        self.devices = devices
        for name, problem in problems:
            log.error("device %s left out: %s", name, problem, extra={"device": name})
            self.batcher.event(Event(now_ms(), "device_failed", {"device": name, "reason": problem}))
        by_bus: dict[str, list[Any]] = defaultdict(list)
        for device in devices:  # polled and event-driven alike: one runner per bus
            by_bus[device.bus.key].append(device)
        paused = self._paused
        emit = self.last.tee_many(self.batcher.add_many)
        event = self.last.tee_event(self.batcher.event)
        self.workers = [Runner(k, devs, emit, event, paused) for k, devs in by_bus.items()]
        for w in self.workers:
            w.start()

    def _paused(self) -> bool:
        s = self.store
        return s is not None and s.when_full == "pause_sources" and s.full()

    def _stop_sources(self) -> None:
        for w in self.workers:
            w.stop()
        self.workers = []
        self.buses.close()  # every client, port and handle, once

    # -- the pipeline thread ---------------------------------------------------------------------
    def _pipeline_loop(self) -> None:
        """Flush once the oldest reading waiting has waited the publish interval (counted
        from its arrival, not from a free-running clock, so latency does not depend on how
        the clock's phase meets the poll schedule), commit on the commit interval.

        The first readings after a start go out at once: batching only pays in steady state,
        and whoever is watching a gateway come up (an installer, a consumer after the birth)
        should not wait one interval for its first values."""
        assert self.batcher is not None
        interval = 0.0
        while not self._stop.is_set():
            now = self.pipeline_progress = time.monotonic()
            oldest = self.batcher.oldest_mono()
            if oldest is not None and now >= oldest + interval:
                self._flush(commit=False)
                interval = self.cfg.publish.interval_ms / 1000
                continue
            if self.store is not None and self.store.commit_due():
                self._flush(commit=True)  # with the store's events and gaps, then commit
                continue
            if oldest is None:
                self.batcher.arrived.wait(0.05)  # set by the first poll after a flush
            else:
                self._stop.wait(min(0.05, oldest + interval - now))

    def _flush(self, commit: bool) -> None:
        assert self.batcher is not None and self.store is not None
        commit = commit or self.store.commit_due()
        if commit:  # the store's news once a commit interval: one gap event a second at most
            for ev in self.store.take_events():  # store faults, batches set aside
                self.batcher.event(ev)
            gap = self.store.take_gap()
            if gap is not None:
                self.batcher.event(Event(now_ms(), "gap", {
                    "readings": gap.readings, "batches": gap.batches, "from_ms": gap.first_ts_ms,
                    "to_ms": gap.last_ts_ms, "policy": self.store.when_full}))
        try:
            self.batcher.flush()
        except StoreError:
            log.exception("store write failed")
        if commit:
            self._commit()

    def _commit(self) -> None:
        assert self.store is not None and self.batcher is not None
        try:
            self.batcher.commit()
            if self.store.poll_requests() and self.publisher is not None:
                self.publisher.rescan()  # set-aside batches queued again: look back for them
        except StoreError:
            log.exception("store commit failed")
            return
        self._kick()

    def _kick(self) -> None:
        if self.sparkplug is not None:  # first: it reads the batch before an ack can delete it
            self.sparkplug.kick()
        if self.publisher is not None:
            self.publisher.kick()

    # -- control ---------------------------------------------------------------------------------
    def stop(self, drain_s: float = 5.0) -> dict[str, int]:
        """Stop polling, commit everything accepted, publish what can be within drain_s."""
        self._stop_sources()
        self._stop.set()
        if self._pipeline:
            self._pipeline.join(10)
        if self.sparkplug is not None:
            self.sparkplug.stop()
            self.sparkplug.node.stop()
            self.sparkplug = None
        unsent = 0
        if self.batcher and self.store:
            self._flush(commit=True)
        if self.publisher:
            unsent = self.publisher.stop(drain_s)
        depth = self.store.stats().depth if self.store else 0
        if self.store:
            self.store.close()
        return {"unacked_in_flight": unsent, "left_in_store": depth}

    def reload(self, cfg: Config) -> None:
        """Swap to a config already validated by the caller; what is queued stays queued."""
        self.stop(drain_s=1.0)
        self.cfg = cfg
        self.started_ms = now_ms()
        self._pending_events.append(Event(now_ms(), "reloaded", {"devices": len(cfg.devices)}))
        self.start()

    def event(self, kind: str, fields: dict[str, Any]) -> None:
        """Publish an event (queued like data); works before start() too."""
        ev = Event(now_ms(), kind, fields)
        if self.batcher is not None:
            self.batcher.event(ev)
        else:
            self._pending_events.append(ev)

    def progress_marks(self) -> dict[str, float]:
        """Last-progress times of every loop, for the watchdog: a hung one stops changing."""
        marks = {f"bus {w.bus_key}": w.progress() for w in self.workers}
        marks["pipeline"] = self.pipeline_progress
        if self.publisher is not None:
            marks["publisher"] = self.publisher.progress
        return marks

    def status(self) -> dict[str, Any]:
        st = self.store.stats() if self.store else None
        pub = self.publisher.stats if self.publisher else None
        alarms, events = self.last.recent()
        return {
            "gateway": self.cfg.gateway.id, "version": software_version(), "pid": os.getpid(),
            "started_ms": self.started_ms, "uptime_s": round((now_ms() - self.started_ms) / 1000, 1),
            "broker": {"url": self.cfg.broker.safe_url, "connected": bool(pub and pub.connected),
                       "error": self.publisher.diagnosis.reason
                       if self.publisher and self.publisher.diagnosis else "",
                       "published": pub.published if pub else 0, "acked": pub.acked if pub else 0,
                       "inflight": pub.inflight if pub else 0,
                       "refused": pub.refused if pub else 0,
                       "refusing": pub.refusing if pub else {},
                       "set_aside": pub.set_aside if pub else 0,
                       "max_packet_size": pub.max_packet_size if pub else 0,
                       "receive_maximum": pub.receive_maximum if pub else 0},
            "queue": {"depth": st.depth if st else 0, "readings": st.readings if st else 0,
                      "bytes": st.bytes if st else 0, "dropped": st.dropped_total if st else 0,
                      "oldest_age_s": round((now_ms() - st.oldest_ts_ms) / 1000, 1)
                      if st and st.oldest_ts_ms else 0.0, **(st.extra if st else {})},
            "devices": self._device_status(),
            "alarms": alarms, "events": events,
            "overruns": sum(w.overruns for w in self.workers),
        }

    def _device_status(self) -> list[dict[str, Any]]:
        """Every running device, polled or event-driven (GPIO), from its runner, with its kind
        and the last value, quality and age of each of its points."""
        lines = [d for w in self.workers for d in w.snapshot()]
        kinds = {d.name: d.kind for d in self.cfg.devices}
        points = self.last.by_device(self.points)
        return [{**d, "kind": kinds.get(d["device"], ""), "points": points.get(d["device"], [])}
                for d in lines]
