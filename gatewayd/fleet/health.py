"""The health gate: a new release must prove itself (READY and connected to the broker) within
a deadline, or the previous release comes back. A marker file in the state dir carries this
across restarts; boots are counted so a release that dies before it can check anything is
still caught.

    updater      switch current -> new, arm(): write update-pending.json, exit 75 (restart)
    new release  on_start(): boots += 1; past max_boots or past the deadline -> roll back
                 confirm() once READY and broker connected -> marker removed, result "healthy"
                 expired() polled: past the deadline -> roll back
    systemd      a release that crash-loops or goes silent to the watchdog exhausts
                 StartLimitBurst -> OnFailure=gatewayd-rollback.service, which runs the
                 previous release's `gatewayd release rollback` (the new code may not run at all)

Every outcome is written to update-result.json, which the daemon publishes as an
update-status event when it next runs and then deletes.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .releases import Releases

PENDING = "update-pending.json"
RESULT = "update-result.json"
EXIT_RESTART = 75  # EX_TEMPFAIL; the unit has RestartForceExitStatus=75


def write_json(path: Path, data: dict[str, Any]) -> None:
    """Write atomically, and durably enough to survive the restart that follows."""
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("w") as f:
        json.dump(data, f, sort_keys=True)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def read_json(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


class HealthGate:
    def __init__(
        self,
        state_dir: Path,
        releases: Releases,
        clock: Callable[[], float] = time.time,
        max_boots: int = 3,
    ) -> None:
        self.pending_path = state_dir / PENDING
        self.result_path = state_dir / RESULT
        self.releases = releases
        self.clock = clock
        self.max_boots = max_boots

    def arm(self, from_version: str, to_version: str, deadline_s: float) -> None:
        marker = {"from": from_version, "to": to_version, "boots": 0,
                  "deadline": self.clock() + deadline_s}
        write_json(self.pending_path, marker)

    def pending(self, running: str | None = None) -> dict[str, Any] | None:
        """The trial marker; with `running`, only if that version is the one on trial (the
        release being replaced keeps running until the restart and must not judge it)."""
        marker = read_json(self.pending_path)
        if marker is not None and running is not None and marker.get("to") != running:
            return None
        return marker

    def on_start(self, running: str | None = None) -> str:
        """Count this boot of a release on trial: 'none', 'trial' or 'rolled_back'."""
        marker = self.pending(running)
        if marker is None:
            return "none"
        marker["boots"] = int(marker.get("boots", 0)) + 1
        write_json(self.pending_path, marker)
        if marker["boots"] > self.max_boots:
            self.rollback(f"did not become healthy in {self.max_boots} starts")
            return "rolled_back"
        if self.expired():
            self.rollback("did not become healthy before the deadline")
            return "rolled_back"
        return "trial"

    def expired(self, running: str | None = None) -> bool:
        marker = self.pending(running)
        return marker is not None and self.clock() > float(marker["deadline"])

    def confirm(self, running: str | None = None) -> bool:
        """The release on trial is healthy: keep it. False when nothing was on trial."""
        marker = self.pending(running)
        if marker is None:
            return False
        self._result(marker, "healthy", "ready and connected to the broker")
        self.pending_path.unlink(missing_ok=True)
        return True

    def rollback(self, reason: str) -> str:
        """Restore the previous release; the caller then exits with EXIT_RESTART."""
        marker = self.pending() or {"from": self.releases.previous(), "to": self.releases.current()}
        restored = self.releases.rollback()
        self._result(marker, "rolled_back", reason, restored=restored)
        self.pending_path.unlink(missing_ok=True)
        return restored

    def take_result(self) -> dict[str, Any] | None:
        """The last update's outcome, once (the daemon publishes it as an update-status event)."""
        result = read_json(self.result_path)
        self.result_path.unlink(missing_ok=True)
        return result

    def _result(self, marker: dict[str, Any], outcome: str, reason: str, **extra: Any) -> None:
        write_json(self.result_path, {"from": marker.get("from"), "to": marker.get("to"),
                                      "outcome": outcome, "reason": reason,
                                      "ts": self.clock(), **extra})
