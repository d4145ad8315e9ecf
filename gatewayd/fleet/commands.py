"""Inbound commands (`.../cmd/<verb>`): signed, fresh, never replayed, allowlisted, parsed.

An envelope is JSON `{"command": {...}, "signatures": [{"key_id", "sig"}]}` whose command holds
the verb, the gateway it is meant for, a random nonce, the time it was made and the verb's
arguments. The signature covers the canonical bytes of `command`. A command is refused when
the signature does not check against the fleet's command keys (never a release key), when it
is meant for another gateway, when its time is outside the window, or when its nonce was seen
before (the nonces of the window are kept on disk, so a restart does not reopen the door), or
when that nonce cannot be recorded (a full or read-only disk). The result is a parsed `Command`
the daemon dispatches by verb; nothing in it is ever run as a shell command.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import msgspec

from ..errors import UpdateRefused
from ..validation import Annotated, Meta, Model, field
from .health import read_json, write_json
from .manifest import Signature, SignedManifest, canonical, checked, parse_json, refusal
from .signing import TrustedKeys, sign_bytes, verify_bytes

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

VERBS = ("update", "reload", "rebirth", "ping")
WINDOW_S = 300.0
MAX_NONCES = 10_000


class UpdateArgs(Model):
    manifest: SignedManifest
    bundle_url: Annotated[str, Meta(min_length=1, max_length=2048)]


class NoArgs(Model):
    pass


class PingArgs(Model):
    id: Annotated[str, Meta(max_length=64)] = ""


ARGS: dict[str, type[Model]] = {"update": UpdateArgs, "reload": NoArgs, "rebirth": NoArgs,
                                "ping": PingArgs}


class Command(Model):
    verb: Literal["update", "reload", "rebirth", "ping"]
    gateway: str
    nonce: Annotated[str, Meta(pattern=r"^[0-9a-f]{32,64}$")]
    ts_ms: int
    # Kept as sent: the signature covers these exact values; typed by `parsed_args` per verb.
    args: dict[str, Any] = field(default_factory=dict)

    def parsed_args(self) -> Any:
        """The verb's arguments as its type; msgspec.ValidationError if they do not fit."""
        return msgspec.convert(self.args, ARGS[self.verb], strict=True)


class Envelope(Model):
    command: Command
    signatures: list[Signature] = field(default_factory=list)


def sign_command(private: Ed25519PrivateKey, verb: str, gateway: str, args: dict[str, Any],
                 now_s: float | None = None) -> bytes:
    """The fleet side: a signed envelope ready to publish on `.../cmd/<verb>`."""
    cmd = checked(Command(verb=verb, gateway=gateway,  # type: ignore[arg-type]
                          nonce=secrets.token_hex(16),
                          ts_ms=int((time.time() if now_s is None else now_s) * 1000), args=args),
                  "command")
    sig = sign_bytes(private, canonical(cmd.as_dict()))
    return msgspec.json.encode(Envelope(command=cmd, signatures=[sig]))


class NonceCache:
    """Nonces seen within the window, persisted as JSON; pruned as they age out."""

    def __init__(self, path: Path, window_s: float) -> None:
        self.path = path
        self.window_s = window_s
        self.seen: dict[str, float] = {k: float(v) for k, v in (read_json(path) or {}).items()}

    def add(self, nonce: str, now: float) -> bool:
        """Record the nonce; False when it was seen already (a replay)."""
        self.seen = {n: t for n, t in self.seen.items() if now - t <= 2 * self.window_s}
        if nonce in self.seen or len(self.seen) >= MAX_NONCES:
            return False
        self.seen[nonce] = now
        try:
            write_json(self.path, self.seen)
        except OSError as e:  # unwritable, or a full disk: replay protection cannot hold
            del self.seen[nonce]
            raise UpdateRefused(f"cannot record the command's nonce ({e.strerror or e}): "
                                "refused, so that it cannot be replayed") from None
        return True


class CommandVerifier:
    def __init__(self, trusted: TrustedKeys, gateway_id: str, nonce_path: Path,
                 window_s: float = WINDOW_S, clock: Callable[[], float] = time.time) -> None:
        self.trusted = trusted
        self.gateway_id = gateway_id
        self.window_s = window_s
        self.clock = clock
        self.nonces = NonceCache(nonce_path, window_s)
        self._lock = threading.Lock()

    def verify(self, payload: bytes, topic_verb: str | None = None) -> Command:
        """A verified Command, or UpdateRefused saying why (for the refusal event)."""
        env = _parse(payload)
        cmd = env.command
        verify_bytes(canonical(cmd.as_dict()), env.signatures, self.trusted)
        if topic_verb is not None and topic_verb != cmd.verb:
            raise UpdateRefused(f"command {cmd.verb!r} arrived on the topic of {topic_verb!r}")
        if cmd.gateway != self.gateway_id:
            raise UpdateRefused(f"command is for gateway {cmd.gateway}, not {self.gateway_id}")
        now = self.clock()
        if abs(now - cmd.ts_ms / 1000) > self.window_s:
            raise UpdateRefused(f"command time is outside the {self.window_s:.0f} s window")
        _check_args(cmd)
        with self._lock:
            if not self.nonces.add(cmd.nonce, now):
                raise UpdateRefused("replayed command: nonce already used")
        return cmd


def _parse(payload: bytes) -> Envelope:
    return parse_json(Envelope, payload, "command")


def _check_args(cmd: Command) -> None:
    try:
        cmd.parsed_args()
    except msgspec.ValidationError as e:
        raise UpdateRefused(f"bad arguments for {cmd.verb}: {refusal(e)}") from None
