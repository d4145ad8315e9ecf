"""The daemon's side of the fleet: what gatewayd/daemon.py calls, in four places.

    agent = FleetAgent.for_config(cfg, config_path, publish_event)
    code = agent.on_start()                      # before sources start: may roll back -> exit
    code = agent.on_health(ready, connected)     # every loop turn: confirm or time out
    code = agent.on_command(verb, payload)       # a message on .../cmd/<verb>

Each returns None to carry on, or an exit code (EXIT_RESTART) after which the daemon stops
cleanly and systemd starts whatever `current` now points at. Every step and refusal is passed
to `event(kind, fields)`, which the daemon publishes on `.../event` (kind "update" or "command").

Trust comes in two roles (signing.py): manifests are checked against the release keys, commands
against the command keys. Both sets, and cryptography, httpx and the command and manifest types,
are loaded when the first command arrives: a gateway that is never commanded never pays for them.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import UpdateRefused
from ..version import software_version
from .health import EXIT_RESTART, HealthGate
from .releases import Releases

if TYPE_CHECKING:
    from .commands import CommandVerifier
    from .signing import TrustedKeys
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
                 health_timeout_s: float = 300.0, running: str | None = None,
                 release_keys: Path | None = None, command_keys: Path | None = None) -> None:
        """`running`: this process's own version; only it may pass or fail a trial of itself.
        `keys_dir` (default: `keys/` beside the config) holds `release/` and `command/`;
        `release_keys` and `command_keys` name those two directories explicitly."""
        keys = keys_dir or (config_path.parent / "keys" if config_path else Path("/nonexistent"))
        self.release_keys = release_keys or keys / "release"
        self.command_keys = command_keys or keys / "command"
        self.event = event
        self.running = running
        self.gateway_id, self.site = gateway_id, site
        self.state_dir, self.config_path = state_dir, config_path
        self.health_timeout_s = health_timeout_s
        self.releases = Releases(root)
        self.gate = HealthGate(state_dir, self.releases)

    @classmethod
    def for_config(cls, cfg: Any, config_path: Path, event: EventSink) -> FleetAgent:
        """From the daemon's config: gateway id and site, state dir as systemd gives it, the
        key directories of `[fleet]`."""
        state = os.environ.get("STATE_DIRECTORY", "").split(":")[0]
        state_dir = Path(state) if state else Path(cfg.store.path).parent
        fleet = getattr(cfg, "fleet", None)
        return cls(cfg.gateway.id, cfg.gateway.site, state_dir, config_path, event,
                   running=software_version(),
                   release_keys=getattr(fleet, "release_keys", None),
                   command_keys=getattr(fleet, "command_keys", None))

    @cached_property
    def trusted(self) -> tuple[TrustedKeys, TrustedKeys]:
        """(release keys, command keys), read at the first command."""
        from .signing import load_roles

        return load_roles(self.release_keys, self.command_keys)

    @cached_property
    def verifier(self) -> CommandVerifier:
        from .commands import CommandVerifier

        return CommandVerifier(self.trusted[1], self.gateway_id,
                               self.state_dir / "command-nonces.json")

    @cached_property
    def updater(self) -> Updater:
        from .updater import Updater

        # A release venv normally holds every wheel of its bundle. GATEWAYD_SHARE_SITE_PACKAGES
        # names a read-only base environment instead (images that ship the dependencies, and
        # bench/fleet.py, whose bundles carry only gatewayd itself).
        shared = os.environ.get("GATEWAYD_SHARE_SITE_PACKAGES")
        return Updater(self.releases, self.gate, self.trusted[0], self.gateway_id, self.site,
                       lambda step, **f: self.event("update", {"step": step, **f}),
                       self.state_dir / "downloads", self.config_path, self.health_timeout_s,
                       share_site_packages=Path(shared) if shared else None)

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
        from .commands import UpdateArgs

        self.event("command", {"verb": cmd.verb, "accepted": True, "nonce": cmd.nonce})
        args = cmd.parsed_args()
        if not isinstance(args, UpdateArgs):
            return Dispatch(cmd.verb, args)
        try:
            self.updater.run(args.manifest, args.bundle_url)
        except UpdateRefused:
            return None  # reported as step "refused" already
        return EXIT_RESTART
