"""The daemon's command worker: one thread that verifies and runs inbound commands.

Anything can arrive on `.../cmd/+` (assume an attacker can publish there), so this thread is
built to outlive every command:

- A payload larger than MAX_COMMAND_BYTES is refused on arrival, before anything parses it.
- The inbox is bounded: a flood fills it and the excess is dropped and counted, never queued
  without limit in memory.
- Any exception while a command is handled (a bundle that is not a tar, a nonce file that
  cannot be written, a full disk, MemoryError) is logged, reported as a `command` event with
  `error`, and the next command is served.
- `progress()` is its watchdog mark: it moves while the thread is alive and idle, or busy within
  COMMAND_LIMIT_S; it freezes when the thread is dead or one command has run past its limit
  (an idle thread blocked on its inbox is waiting, not hung).
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from .publish.inbound import MAX_COMMAND_BYTES, OVERSIZED

if TYPE_CHECKING:
    from .fleet.agent import Dispatch, FleetAgent

log = logging.getLogger("gatewayd.commands")

INBOX_SIZE = 16  # commands waiting; beyond this a flood is dropped and counted
COMMAND_LIMIT_S = 1800.0  # an update (download deadline + install + self-test) fits in this
IDLE_TURN_S = 0.5  # the idle thread wakes this often to report dropped commands
MAX_VERB_CHARS = 32  # of the topic's last level, as echoed in events


class CommandWorker:
    """Verifies and runs inbound commands on a thread of its own: an update downloads and
    installs for a while, and meanwhile the sources keep polling and the main loop keeps
    feeding the watchdog. Results (an exit code, or a Dispatch for the main loop) come back
    through `results`."""

    def __init__(self, wake: threading.Event, clock: Callable[[], float] = time.monotonic,
                 limit_s: float = COMMAND_LIMIT_S) -> None:
        self.wake = wake
        self.clock = clock
        self.limit_s = limit_s
        self.inbox: queue.Queue[tuple[str, bytes] | None] = queue.Queue(INBOX_SIZE)
        self.results: queue.SimpleQueue[int | Dispatch] = queue.SimpleQueue()
        self.dropped = 0  # commands refused for size or because the inbox was full
        self.errors = 0  # commands that raised
        self._refusals: queue.SimpleQueue[dict[str, Any]] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._turn = clock()  # last time the loop came round
        self._busy_since: float | None = None

    def submit(self, verb: str, payload: bytes) -> None:
        """paho's thread: check the size, hand over, never block and never parse."""
        verb = verb[:MAX_VERB_CHARS]
        if payload.startswith(OVERSIZED):  # its bytes were thrown away as they arrived
            self._drop(verb, f"a packet of {_oversized(payload)} bytes, more than the "
                       f"{MAX_COMMAND_BYTES} allowed (not read into memory)")
            return
        if len(payload) > MAX_COMMAND_BYTES:
            self._drop(verb, f"{len(payload)} bytes, more than the {MAX_COMMAND_BYTES} allowed")
            return
        try:
            self.inbox.put_nowait((verb, payload))
        except queue.Full:
            self._drop(verb, f"more than {INBOX_SIZE} commands waiting")

    def _drop(self, verb: str, why: str) -> None:
        self.dropped += 1
        if self._refusals.qsize() < INBOX_SIZE:  # a flood yields a bounded number of events
            self._refusals.put({"verb": verb, "refused": f"command dropped: {why}",
                                "dropped": self.dropped})

    def start(self, agent: FleetAgent) -> None:
        self._thread = threading.Thread(target=self._run, args=(agent,), name="commands",
                                        daemon=True)
        self._thread.start()

    def _run(self, agent: FleetAgent) -> None:
        while True:
            self._turn = self.clock()
            self._report_drops(agent)
            try:
                item = self.inbox.get(timeout=IDLE_TURN_S)
            except queue.Empty:
                continue
            if item is None:
                return
            self._busy_since = self.clock()
            try:
                self._handle(agent, *item)
            finally:
                self._busy_since = None

    def _handle(self, agent: FleetAgent, verb: str, payload: bytes) -> None:
        try:
            result = agent.on_command(verb, payload)
        except Exception as e:
            del payload  # a MemoryError's cause: let it go before reporting
            self.errors += 1
            log.exception("command %r failed; serving the next one", verb)
            _safe_event(agent, {"verb": verb, "error": f"{type(e).__name__}: {e}"[:300]})
            return
        if result is not None:
            self.results.put(result)
            self.wake.set()

    def _report_drops(self, agent: FleetAgent) -> None:
        while True:
            try:
                fields = self._refusals.get_nowait()
            except queue.Empty:
                return
            _safe_event(agent, fields)

    def alive(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def progress(self) -> float:
        """The watchdog's mark: moves while the thread lives and no command overran its limit."""
        if not self.alive():
            return self._turn
        busy, now = self._busy_since, self.clock()
        if busy is not None and now - busy > self.limit_s:
            return busy
        return now

    def stop(self) -> None:
        # A flooded inbox may stay full: the thread is a daemon thread and ends with the process.
        with contextlib.suppress(queue.Full):
            self.inbox.put(None, timeout=2)
        if self._thread is not None:
            self._thread.join(10)  # an install in progress is abandoned after that


def _safe_event(agent: FleetAgent, fields: dict[str, Any]) -> None:
    try:
        agent.event("command", fields)
    except Exception:
        log.exception("could not report a command event")


def _oversized(payload: bytes) -> int:
    """The size a stand-in for a dropped packet reports (publish/inbound.py)."""
    digits = payload[len(OVERSIZED):len(OVERSIZED) + 12]
    return int(digits) if digits.isdigit() else 0
