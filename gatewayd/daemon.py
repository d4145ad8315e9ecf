"""`gatewayd run`: the main thread. Signal handlers only set flags; this loop acts on them.

SIGTERM/SIGINT: stop polling, commit, drain for a bounded time, say what was cut off.
A second SIGINT forces the exit. SIGHUP: load and validate the file again; a bad file is
refused (logged) and the running config stays.
"""

from __future__ import annotations

import json
import logging
import os
import queue
import signal
import threading
import time
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from . import config as config_mod
from . import systemd
from .buses.backend import Backend
from .buses.backend import select as select_backend
from .command_worker import CommandWorker
from .fleet.agent import Dispatch, FleetAgent
from .live.client import socket_path
from .live.server import LiveServer
from .supervisor import Supervisor

log = logging.getLogger("gatewayd")
STATUS_EVERY_S = 2.0
LIVE_EVERY_S = 1.0  # the live view's snapshot (gatewayd tail, status)


class Flags:
    def __init__(self) -> None:
        self.stop = 0
        self.reload = False
        self.wake = threading.Event()

    def on_signal(self, signum: int, frame: FrameType | None) -> None:
        if signum == signal.SIGHUP:
            self.reload = True
        else:
            self.stop += 1
            if self.stop > 1 and signum == signal.SIGINT:
                os._exit(130)
        self.wake.set()


RUN_DIR = Path("/run/gatewayd")  # the unit's RuntimeDirectory


def status_path(cfg: config_mod.Config) -> Path:
    """Where the daemon writes status.json every 2 s: its runtime directory (a tmpfs) under
    systemd, so the SD card is not written 40,000 times a day; beside the store otherwise."""
    runtime = os.environ.get("RUNTIME_DIRECTORY", "").split(":")[0]
    return Path(runtime) / "status.json" if runtime else cfg.store.path.with_name("status.json")


def find_status(cfg: config_mod.Config) -> Path:
    """status.json as a reader outside the unit (`gatewayd status`, `tail`) finds it: the
    newest of where this process would write it and where the service does."""
    candidates = [status_path(cfg), RUN_DIR / "status.json"]
    found = [p for p in candidates if p.is_file()]
    return max(found, key=lambda p: p.stat().st_mtime) if found else candidates[0]


def write_status(sup: Supervisor, st: dict[str, Any] | None = None) -> dict[str, Any]:
    st = sup.status() if st is None else st
    path = status_path(sup.cfg)
    tmp = path.with_suffix(".tmp")
    try:
        tmp.write_text(json.dumps({**st, "written_s": time.time()}))
        os.replace(tmp, path)
    except OSError:
        log.debug("cannot write %s", path, exc_info=True)
    return st


class Notifier:
    """What systemd hears: READY/RELOADING/STOPPING, STATUS lines, and WATCHDOG=1 only while
    every bus thread, the pipeline, the publisher and the command worker show progress.

    `extra_marks` adds marks the supervisor does not own (the command worker's)."""

    def __init__(self, extra_marks: Callable[[], dict[str, float]] = dict) -> None:
        self.period_s = systemd.watchdog_period_s()
        self.watchdog: systemd.Watchdog | None = None
        self.extra_marks = extra_marks
        self._seen: dict[str, float] = {}

    def marks(self, sup: Supervisor) -> dict[str, float]:
        return {**sup.progress_marks(), **self.extra_marks()}

    def ready(self, sup: Supervisor) -> None:
        """(Again after a reload: the set of loops to watch may have changed.)"""
        self._seen.clear()
        if self.period_s:
            self.watchdog = systemd.Watchdog(self.period_s)
            for name in self.marks(sup):
                self.watchdog.register(name)
        systemd.notify("READY=1", self._status(sup.status()))

    def tick(self, sup: Supervisor, st: dict[str, Any] | None) -> None:
        if st is not None:
            systemd.notify(self._status(st))
        if self.watchdog is None:
            return
        for name, mark in self.marks(sup).items():
            if self._seen.get(name) != mark:
                self._seen[name] = mark
                self.watchdog.beat(name)
        if self.watchdog.due():
            systemd.notify("WATCHDOG=1")

    @staticmethod
    def _status(st: dict[str, Any]) -> str:
        q = st["queue"]
        down = sum(1 for d in st["devices"] if not d["up"])
        return systemd.status_line([
            ("broker", "connected" if st["broker"]["connected"] else "disconnected"),
            ("queue", q["depth"]), ("oldest_s", q["oldest_age_s"]), ("bytes", q["bytes"]),
            ("dropped", q["dropped"]), ("devices_down", down)])


EX_CONFIG = 78  # sysexits.h: the unit's RestartPreventExitStatus, so systemd does not loop


def run(config_path: Path, drain_s: float = 5.0, simulate: str | None = None) -> int:
    """The daemon. `simulate` names a simulated world for every bus (the demo, tests); None
    means the gateway's own hardware. A refused config is one log line and exit 78."""
    from .preflight import one_line, verify

    cfg, problems = verify(config_path, machine=False, builds=False)
    if cfg is None:
        log.error("%s", one_line(config_path, problems))
        return EX_CONFIG
    try:
        backend = select_backend(simulate or "")
    except ValueError as e:
        log.error("--simulate: %s", e)
        return 2
    try:
        return _serve(cfg, config_path, drain_s, backend)
    finally:
        backend.close()


def _serve(cfg: config_mod.Config, config_path: Path, drain_s: float, backend: Backend) -> int:
    flags = Flags()
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, flags.on_signal)
    worker = CommandWorker(flags.wake)
    sup = Supervisor(cfg, on_command=worker.submit, backend=backend)
    agent = FleetAgent.for_config(cfg, config_path, sup.event)
    exit_code = agent.on_start()  # a release that failed its health gate is rolled back here
    if exit_code is not None:
        return exit_code
    worker.start(agent)
    sup.start()
    live = LiveServer(socket_path(cfg.store.path.parent))
    live.publish(sup.status())
    live.start()
    notifier = Notifier(lambda: {"commands": worker.progress()})
    notifier.ready(sup)
    log.info("gatewayd %s running: %d devices, broker %s", cfg.gateway.id, len(cfg.devices),
             cfg.broker.safe_url)
    last_status = last_live = 0.0
    while not flags.stop:
        flags.wake.wait(0.5)
        flags.wake.clear()
        if flags.reload:
            flags.reload = False
            _reload(sup, config_path, notifier)
        st = None
        if time.monotonic() - last_live >= LIVE_EVERY_S:
            last_live = time.monotonic()
            st = sup.status()
            live.publish(st)
            if last_live - last_status >= STATUS_EVERY_S:
                last_status = last_live
                write_status(sup, st)
        notifier.tick(sup, st)
        code = agent.on_health(True, bool(sup.publisher and sup.publisher.stats.connected))
        code = code if code is not None else _dispatch(worker, sup, flags)
        if code is not None:
            exit_code = code
            break
    systemd.notify("STOPPING=1")
    live.stop()
    worker.stop()
    left = sup.stop(drain_s)
    if left["unacked_in_flight"] or left["left_in_store"]:
        log.info("stopped: %d batches still queued on disk, sent at next start", left["left_in_store"])
    else:
        log.info("stopped: everything was delivered")
    return exit_code or 0


def _dispatch(worker: CommandWorker, sup: Supervisor, flags: Flags) -> int | None:
    """Act on command results in the main loop: an exit code, or what a Dispatch asks."""
    while True:
        try:
            result = worker.results.get_nowait()
        except queue.Empty:
            return None
        if isinstance(result, int):
            return result
        if isinstance(result, Dispatch):
            if result.verb == "reload":
                flags.reload = True
            elif result.verb == "rebirth" and sup.publisher is not None:
                sup.publisher.rebirth()
            elif result.verb == "ping":
                sup.event("pong", {"status": sup.status()["queue"]})


def _reload(sup: Supervisor, path: Path, notifier: Notifier) -> None:
    from .preflight import verify

    new, problems = verify(path, machine=False)
    if new is None:
        log.error("reload refused, the running config stays: %s", "; ".join(problems))
        return
    systemd.notify("RELOADING=1", f"MONOTONIC_USEC={time.monotonic_ns() // 1000}")
    sup.reload(new)
    notifier.ready(sup)
    log.info("reloaded %s", path)
