"""The daemon's side of the fleet: what gatewayd/daemon.py calls, in four places.

    agent = FleetAgent.for_config(cfg, config_path, publish_event)
    code = agent.on_start()                      # before sources start: may roll back -> exit
    code = agent.on_health(ready, connected)     # every loop turn: confirm or time out
    code = agent.on_command(verb, payload)       # a message on .../cmd/<verb>

Each returns None to carry on, or an exit code (EXIT_RESTART) after which the daemon stops
cleanly and systemd starts whatever `current` now points at. Every step and refusal is passed
to `event(kind, fields)`, which the daemon publishes on `.../event` (kind "update" or "command").
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..errors import UpdateRefused
from ..version import software_version
from .commands import CommandVerifier, UpdateArgs
from .health import EXIT_RESTART, HealthGate
from .releases import Releases
from .signing import load_trusted
from .updater import Updater

EventSink = Callable[[str, dict[str, Any]], None]
ROOT = Path(os.environ.get("GATEWAYD_ROOT", "/"))


@dataclass
class Dispatch:
    """What a verified command asks the daemon to do (reload and rebirth are the daemon's)."""

    verb: str
    args: Any


class FleetAgent:
    def __init__(self, gateway_id: str, site: str, state_dir: Path, config_path: Path | None,
                 event: EventSink, root: Path = ROOT, keys_dir: Path | None = None,
                 health_timeout_s: float = 300.0, running: str | None = None) -> None:
        """`running`: this process's own version; only it may pass or fail a trial of itself."""
        keys = keys_dir or (config_path.parent / "keys" if config_path else Path("/nonexistent"))
        trusted = load_trusted(keys) if keys.exists() else {}
        self.event = event
        self.running = running
        self.releases = Releases(root)
        self.gate = HealthGate(state_dir, self.releases)
        self.verifier = CommandVerifier(trusted, gateway_id, state_dir / "command-nonces.json")
        # A release venv normally holds every wheel of its bundle. GATEWAYD_SHARE_SITE_PACKAGES
        # names a read-only base environment instead (images that ship the dependencies, and
        # bench/fleet.py, whose bundles carry only gatewayd itself).
        shared = os.environ.get("GATEWAYD_SHARE_SITE_PACKAGES")
        self.updater = Updater(self.releases, self.gate, trusted, gateway_id, site,
                               lambda step, **f: event("update", {"step": step, **f}),
                               state_dir / "downloads", config_path, health_timeout_s,
                               share_site_packages=Path(shared) if shared else None)

    @classmethod
    def for_config(cls, cfg: Any, config_path: Path, event: EventSink) -> FleetAgent:
        """From the daemon's config: gateway id and site, state dir as systemd gives it."""
        state = os.environ.get("STATE_DIRECTORY", "").split(":")[0]
        state_dir = Path(state) if state else Path(cfg.store.path).parent
        return cls(cfg.gateway.id, cfg.gateway.site, state_dir, config_path, event,
                   running=software_version())

    def on_start(self) -> int | None:
        result = self.gate.take_result()
        if result is not None:
            self.event("update", {"step": result["outcome"], **result})
        if self.gate.on_start(self.running) == "rolled_back":
            self.event("update", {"step": "rolled_back", **(self.gate.take_result() or {})})
            return EXIT_RESTART
        return None

    def on_health(self, ready: bool, connected: bool) -> int | None:
        if ready and connected and self.gate.confirm(self.running):
            self.event("update", {"step": "healthy", **(self.gate.take_result() or {})})
        elif self.gate.expired(self.running):
            self.gate.rollback("not ready and connected to the broker before the deadline")
            return EXIT_RESTART  # the restored release reports the result when it starts
        return None

    def on_command(self, verb: str, payload: bytes) -> Dispatch | int | None:
        """A verified command: update runs here (-> exit code); others go back as a Dispatch."""
        try:
            cmd = self.verifier.verify(payload, topic_verb=verb)
        except UpdateRefused as e:
            self.event("command", {"verb": verb, "refused": str(e)})
            return None
        self.event("command", {"verb": cmd.verb, "accepted": True, "nonce": cmd.nonce})
        args = cmd.parsed_args()
        if not isinstance(args, UpdateArgs):
            return Dispatch(cmd.verb, args)
        try:
            self.updater.run(args.manifest, args.bundle_url)
        except UpdateRefused:
            return None  # reported as step "refused" already
        return EXIT_RESTART
