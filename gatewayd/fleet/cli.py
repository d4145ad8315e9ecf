"""`gatewayd release ...`: keygen, build, sign, verify, install, rollback, status.

The lead's gatewayd/cli.py calls `add_commands(subparsers)`; each handler returns an exit code.
Paths default to a real gateway (root /, state in $STATE_DIRECTORY or /var/lib/gatewayd, keys
in /etc/gatewayd/keys); tests and the fleet benchmark pass --root and --state-dir.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import UpdateRefused

if TYPE_CHECKING:  # cryptography is imported only when a key is used
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

ROOT = Path(os.environ.get("GATEWAYD_ROOT", "/"))
STATE_DIR = Path(os.environ.get("STATE_DIRECTORY", "/var/lib/gatewayd").split(":")[0])
KEYS_DIR = Path("/etc/gatewayd/keys")
RELEASE_KEYS = KEYS_DIR / "release"  # public keys that may sign manifests
COMMAND_KEYS = KEYS_DIR / "command"  # public keys that may sign commands


def add_commands(subparsers: Any) -> None:
    release = subparsers.add_parser("release", help="build, sign and install releases")
    sub = release.add_subparsers(dest="release_command", required=True)
    for add in (_keygen, _build, _sign, _command, _verify, _install, _rollback, _status):
        add(sub)


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--root", type=Path, default=ROOT, help="install prefix (tests)")
    p.add_argument("--state-dir", type=Path, default=STATE_DIR)


def _keygen(sub: Any) -> None:
    p = sub.add_parser("keygen", help="make an Ed25519 key pair for one role")
    p.add_argument("--role", required=True, choices=("release", "command"),
                   help="release: signs manifests (keep it offline); command: signs commands")
    p.add_argument("private", type=Path)
    p.add_argument("public", type=Path)
    p.set_defaults(func=cmd_keygen)


def cmd_keygen(args: argparse.Namespace) -> int:
    from .signing import keygen

    kid = keygen(args.private, args.public, args.role)
    where = RELEASE_KEYS if args.role == "release" else COMMAND_KEYS
    print(f"{args.role} key id {kid}; on gateways, {args.public.name} goes in {where}/")
    return 0


def _build(sub: Any) -> None:
    p = sub.add_parser("build", help="bundle the project and its dependency wheels + manifest")
    p.add_argument("--project", type=Path, default=Path("."))
    p.add_argument("--out", type=Path, default=Path("dist"))
    p.add_argument("--platform", default="any", help="linux_aarch64, linux_armv7l, ... or any")
    p.add_argument("--python-version", default="3.11")
    p.add_argument("--wheelhouse", type=Path, help="collect dependencies offline from here")
    p.add_argument("--version", dest="set_version", help="override the project's version")
    p.add_argument("--min-from-version", default="0")
    p.add_argument("--allow-downgrade", action="store_true")
    p.add_argument("--gateways", help="comma-separated gateway ids")
    p.add_argument("--sites", help="comma-separated sites")
    p.add_argument("--percent", type=int, default=100)
    p.set_defaults(func=cmd_build)


def _csv(text: str | None) -> list[str] | None:
    return [s.strip() for s in text.split(",") if s.strip()] if text else None


def cmd_build(args: argparse.Namespace) -> int:
    from ..toolkit.progress import Progress
    from .bundle import BUILD_STEPS, BuildOptions, build
    from .manifest import Target

    target = Target(gateways=_csv(args.gateways), sites=_csv(args.sites), percent=args.percent)
    opts = BuildOptions(args.platform, args.python_version, args.wheelhouse, target,
                        args.min_from_version, args.allow_downgrade, args.set_version)
    with Progress("release build", BUILD_STEPS) as bar:
        m = build(args.project, args.out, opts, step=lambda done: bar.advance(note=done)).manifest
    print(f"{args.out / m.bundle_name}: {m.bundle_size} bytes, sha256 {m.bundle_sha256}")
    print(f"{args.out / f'gatewayd-{m.version}.manifest.json'}: unsigned, sign it next")
    return 0


def _sign(sub: Any) -> None:
    p = sub.add_parser("sign", help="sign a manifest with a release private key (in place)")
    p.add_argument("manifest", type=Path)
    _key_option(p, "release")
    p.set_defaults(func=cmd_sign)


def cmd_sign(args: argparse.Namespace) -> int:
    from .manifest import parse_signed
    from .signing import sign_manifest

    key = _signing_key(args.key, "release", "release sign")
    if key is None:
        return 1
    signed = sign_manifest(parse_signed(args.manifest.read_text()), key)
    args.manifest.write_text(signed.to_json())
    print(f"{args.manifest}: signed by {signed.signatures[-1].key_id}")
    return 0


def _command(sub: Any) -> None:
    p = sub.add_parser("command", help="a signed command envelope for .../cmd/<verb> (stdout)")
    p.add_argument("verb", choices=("update", "reload", "rebirth", "ping"))
    p.add_argument("--gateway", required=True, help="the gateway id it is meant for")
    _key_option(p, "command")
    p.add_argument("--args", default="{}", help="the verb's arguments as a JSON object")
    p.set_defaults(func=cmd_command)


def cmd_command(args: argparse.Namespace) -> int:
    from .commands import sign_command

    key = _signing_key(args.key, "command", "release command")
    if key is None:
        return 1
    sys.stdout.write(sign_command(key, args.verb, args.gateway, json.loads(args.args)).decode())
    sys.stdout.write("\n")
    return 0


def _key_option(p: argparse.ArgumentParser, role: str) -> None:
    other = "command" if role == "release" else "release"
    p.add_argument("--key", type=Path, required=True, help=f"a {role} key (never a {other} key)")


def _signing_key(path: Path, role: str, command: str) -> Ed25519PrivateKey | None:
    """The private key in `path` if it is a `role` key; else None, and `command` says on stderr
    why it refuses (the two roles never stand in for each other)."""
    from ..errors import KeyRoleError
    from .signing import load_private

    try:
        return load_private(path, role=role)
    except KeyRoleError as e:
        print(f"{command}: REFUSED: {e}", file=sys.stderr)
        return None


def _verify(sub: Any) -> None:
    p = sub.add_parser("verify", help="check a manifest's signature (and a bundle's hash)")
    p.add_argument("manifest", type=Path)
    p.add_argument("--keys", type=Path, default=RELEASE_KEYS,
                   help="release keys: a *.pub file or a directory")
    p.add_argument("--bundle", type=Path)
    p.set_defaults(func=cmd_verify)


def cmd_verify(args: argparse.Namespace) -> int:
    from .bundle import sha256_file
    from .manifest import parse_signed
    from .signing import load_trusted, verify_manifest

    try:
        signed = parse_signed(args.manifest.read_text())
        key = verify_manifest(signed, load_trusted(args.keys, role="release"))
        if args.bundle and sha256_file(args.bundle) != signed.manifest.bundle_sha256:
            raise UpdateRefused(f"tampered bundle: {args.bundle} does not match the manifest")
    except UpdateRefused as e:
        print(f"{args.manifest}: REFUSED: {e}", file=sys.stderr)
        return 1
    print(f"{args.manifest}: version {signed.manifest.version}, signed by {key}: OK")
    return 0


def _install(sub: Any) -> None:
    p = sub.add_parser("install", help="install a bundle as a release and switch to it")
    p.add_argument("bundle", help="path or URL of the bundle")
    p.add_argument("--manifest", type=Path, help="signed manifest: run the verified update flow")
    p.add_argument("--version", dest="set_version", help="without --manifest: the version")
    p.add_argument("--keys", type=Path, default=RELEASE_KEYS, help="release keys")
    p.add_argument("--config", type=Path, help="config for the self-test and the gateway id")
    p.add_argument("--gateway-id", default="")
    p.add_argument("--site", default="default")
    p.add_argument("--health-timeout-s", type=float, default=300.0)
    p.add_argument("--share-site-packages", type=Path, help=argparse.SUPPRESS)
    _common(p)
    p.set_defaults(func=cmd_install)


def cmd_install(args: argparse.Namespace) -> int:
    from .releases import Releases

    releases = Releases(args.root)
    if args.manifest is None:  # the operator's first install (scripts/install): trusted as root
        if not args.set_version:
            print("release install: --version is needed without --manifest", file=sys.stderr)
            return 2
        releases.install(Path(args.bundle), args.set_version, args.share_site_packages)
        releases.switch(args.set_version)
        if releases.previous() is None:
            releases.point("previous", args.set_version)  # the rollback unit always has a binary
        print(f"installed {args.set_version} at {releases.path(args.set_version)}")
        return 0
    return _update(args, releases)


def _update(args: argparse.Namespace, releases: Any) -> int:
    from .health import HealthGate
    from .signing import load_trusted
    from .updater import Updater

    gateway_id, site = args.gateway_id, args.site
    if args.config and not gateway_id:
        from ..config import load

        gw = load(args.config).gateway
        gateway_id, site = gw.id, gw.site

    def report(step: str, **fields: Any) -> None:
        print(json.dumps({"step": step, **fields}), flush=True)

    trusted = load_trusted(args.keys, role="release")
    updater = Updater(releases, HealthGate(args.state_dir, releases), trusted,
                      gateway_id, site, report, args.state_dir / "downloads", args.config,
                      args.health_timeout_s, share_site_packages=args.share_site_packages)
    try:
        updater.run(args.manifest.read_bytes(), args.bundle)
    except UpdateRefused:
        return 1
    return 0


def _rollback(sub: Any) -> None:
    p = sub.add_parser("rollback", help="restore the previous release")
    p.add_argument("--reason", default="operator")
    _common(p)
    p.set_defaults(func=cmd_rollback)


def cmd_rollback(args: argparse.Namespace) -> int:
    from .health import HealthGate
    from .releases import Releases

    releases = Releases(args.root)
    try:
        restored = HealthGate(args.state_dir, releases).rollback(args.reason)
    except UpdateRefused as e:
        print(f"release rollback: {e}", file=sys.stderr)
        return 1
    print(f"rolled back to {restored} ({args.reason})")
    return 0


def _status(sub: Any) -> None:
    p = sub.add_parser("status", help="releases, links and a pending health check")
    p.add_argument("--pending", action="store_true", help="exit 0 only if an update is on trial")
    _common(p)
    p.set_defaults(func=cmd_status)


def cmd_status(args: argparse.Namespace) -> int:
    from .health import HealthGate, read_json
    from .releases import Releases

    releases = Releases(args.root)
    gate = HealthGate(args.state_dir, releases)
    pending = gate.pending()
    print(json.dumps({"current": releases.current(), "previous": releases.previous(),
                      "installed": releases.versions(), "pending": pending,
                      "last_result": read_json(gate.result_path)}, indent=2))
    return 1 if args.pending and pending is None else 0
