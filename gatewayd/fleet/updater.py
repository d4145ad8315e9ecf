"""The update flow, one step after the other, each reported through `report(step, **fields)`.

    verify    the manifest's signature, against the trusted keys, before anything else
    target    this gateway is inside the rollout target
    version   no downgrade unless allowed; running version >= min_from_version
    space     enough free disk for the bundle and the unpacked release
    download  HTTPS with resume (Range), or a local path
    hash      size and SHA-256 equal the signed manifest's
    install   offline into releases/<version>/venv
    selftest  the new release imports and accepts the config
    switch    current -> new (previous kept), health gate armed
    restart   the caller exits with EXIT_RESTART; systemd starts the new release

A refusal raises UpdateRefused after a `refused` report and leaves nothing changed: the
running release, the links and the config are as they were.
"""

from __future__ import annotations

import shutil
import tarfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol

from ..errors import UpdateRefused
from .bundle import sha256_file
from .download import download
from .health import HealthGate
from .manifest import Manifest, SignedManifest, parse_signed, version_key
from .releases import Releases
from .signing import TrustedKeys, verify_manifest


class Report(Protocol):
    def __call__(self, step: str, **fields: Any) -> None: ...


def disk_free(path: Path) -> int:
    return shutil.disk_usage(path).free


@dataclass
class Updater:
    releases: Releases
    gate: HealthGate
    trusted: TrustedKeys
    gateway_id: str
    site: str
    report: Report
    download_dir: Path
    config: Path | None = None
    health_timeout_s: float = 300.0
    free_bytes: Callable[[Path], int] = disk_free
    space_factor: float = 4.0  # bundle + unpacked wheels + the installed venv, with margin
    share_site_packages: Path | None = None
    downloader: Callable[..., None] = field(default=download)

    def run(self, manifest_doc: str | bytes | SignedManifest, bundle_url: str) -> str:
        """Take the update; return the new version (the caller then restarts)."""
        step = "verify"
        try:
            signed = manifest_doc if isinstance(manifest_doc, SignedManifest) else (
                parse_signed(manifest_doc))
            m = signed.manifest
            key = verify_manifest(signed, self.trusted)
            self.report("verify", version=m.version, key_id=key)
            for step, check in (("target", self._target), ("version", self._version),
                                ("space", self._space)):
                self.report(step, **check(m))
            step = "download"
            bundle = self._fetch(m, bundle_url)
            step = "install"
            self._install(m, bundle)
        except UpdateRefused as e:
            self.report("refused", at=step, reason=str(e))
            raise
        except (OSError, tarfile.TarError, MemoryError) as e:  # a full disk, a broken bundle
            self._clean_downloads()
            reason = f"{type(e).__name__}: {e}"[:300]
            self.report("refused", at=step, reason=reason)
            raise UpdateRefused(reason) from e
        return m.version

    def _clean_downloads(self) -> None:
        """After a failure on a full disk, give the space back (a later try starts over)."""
        if self.download_dir.is_dir():
            for leftover in self.download_dir.iterdir():
                leftover.unlink(missing_ok=True)

    def _target(self, m: Manifest) -> dict[str, Any]:
        if not m.target.includes(self.gateway_id, self.site):
            where = f"gateway {self.gateway_id} at {self.site}"
            raise UpdateRefused(f"{where} is outside the rollout target")
        return {"gateway": self.gateway_id}

    def _version(self, m: Manifest) -> dict[str, Any]:
        running = self.releases.current() or "0"
        new, old = version_key(m.version), version_key(running)
        if new == old:
            raise UpdateRefused(f"version {m.version} is already running")
        if new < old and not m.allow_downgrade:
            msg = f"downgrade from {running} to {m.version} not allowed by the manifest"
            raise UpdateRefused(msg)
        if old < version_key(m.min_from_version):
            need = m.min_from_version
            raise UpdateRefused(f"{m.version} needs at least {need}, running {running}")
        return {"from": running, "to": m.version}

    def _space(self, m: Manifest) -> dict[str, Any]:
        self.releases.dir.mkdir(parents=True, exist_ok=True)
        self.download_dir.mkdir(parents=True, exist_ok=True)
        need = int(m.bundle_size * self.space_factor)
        free = min(self.free_bytes(self.releases.dir), self.free_bytes(self.download_dir))
        if free < need:
            raise UpdateRefused(f"too little disk space: {free} bytes free, {need} needed")
        return {"free": free, "need": need}

    def _fetch(self, m: Manifest, url: str) -> Path:
        self.download_dir.mkdir(parents=True, exist_ok=True)
        dest = self.download_dir / f"{m.bundle_sha256}.tar"
        self.downloader(url, dest, m.bundle_size)
        self.report("download", bytes=dest.stat().st_size)
        size, digest = dest.stat().st_size, sha256_file(dest)
        if size != m.bundle_size or digest != m.bundle_sha256:
            dest.unlink()
            msg = f"tampered bundle: sha256 {digest} size {size} differ from the manifest"
            raise UpdateRefused(msg)
        self.report("hash", sha256=digest)
        return dest

    def _install(self, m: Manifest, bundle: Path) -> None:
        old = self.releases.current() or "0"
        try:
            path = self.releases.install(bundle, m.version, self.share_site_packages)
        finally:
            bundle.unlink(missing_ok=True)
        self.report("install", path=str(path))
        try:
            self.releases.selftest(m.version, self.config)
        except UpdateRefused:
            shutil.rmtree(path, ignore_errors=True)
            raise
        self.report("selftest", ok=True)
        self.releases.switch(m.version)
        self.gate.arm(old, m.version, self.health_timeout_s)
        self.report("switch", current=m.version, previous=old)
        self.report("restart", deadline_s=self.health_timeout_s)
