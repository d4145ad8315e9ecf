"""Releases side by side under <root>/opt/gatewayd/releases/<version>, and the links between them.

    opt/gatewayd/releases/0.4.1/venv/...   each release has its own virtualenv
    opt/gatewayd/current  -> releases/0.5.0   what systemd starts
    opt/gatewayd/previous -> releases/0.4.1   what the rollback unit runs and restores

A link is switched atomically: a new link is made under a temporary name and renamed over the
old one (rename(2) replaces a name in one step, so a crash leaves either the old or the new).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from ..errors import UpdateRefused

# tarfile, shutil and subprocess are imported where an update uses them: the daemon reads the
# release links at every start, but installs a release once in a long while (about 2 MB kept).

SELFTEST_TIMEOUT_S = 120


class Releases:
    def __init__(self, root: Path = Path("/")) -> None:
        self.base = root / "opt" / "gatewayd"
        self.dir = self.base / "releases"

    def path(self, version: str) -> Path:
        return self.dir / version

    def versions(self) -> list[str]:
        return sorted(p.name for p in self.dir.iterdir() if p.is_dir()) if self.dir.is_dir() else []

    def _link(self, name: str) -> str | None:
        link = self.base / name
        return Path(os.readlink(link)).name if link.is_symlink() else None

    def current(self) -> str | None:
        return self._link("current")

    def previous(self) -> str | None:
        return self._link("previous")

    def point(self, name: str, version: str) -> None:
        """Make <base>/<name> point at the release, atomically."""
        tmp = self.base / f".{name}.{os.getpid()}.tmp"
        tmp.unlink(missing_ok=True)
        tmp.symlink_to(Path("releases") / version)
        os.replace(tmp, self.base / name)

    def switch(self, version: str) -> None:
        """current -> version, previous -> what current was."""
        old = self.current()
        if old and old != version:
            self.point("previous", old)
        self.point("current", version)

    def rollback(self) -> str:
        """current -> previous; return the version restored."""
        prev, cur = self.previous(), self.current()
        if not prev or prev == cur:
            raise UpdateRefused("no previous release to roll back to")
        self.point("current", prev)
        return prev

    def install(self, bundle: Path, version: str, share_site_packages: Path | None = None) -> Path:
        """Unpack the bundle's wheels and install them offline into releases/<version>/venv.

        `share_site_packages` lets the new venv see an existing environment's packages (a
        `.pth` line) and installs only the gatewayd wheel: used by tests, and by images that
        pre-install heavy dependencies once.
        """
        import shutil

        target = self.path(version)
        if target.exists():
            if version in (self.current(), self.previous()):
                raise UpdateRefused(f"release {version} is installed and in use")
            shutil.rmtree(target)  # a half-installed leftover of an interrupted update
        # Built in place (a venv's scripts name their interpreter by absolute path, so it
        # cannot be moved); a half-built directory is never current and is removed on failure.
        target.mkdir(parents=True)
        try:
            _unpack(bundle, target / "wheels")
            _run([sys.executable, "-m", "venv", "--without-pip", str(target / "venv")], "venv")
            _pip_install(target, version, no_deps=share_site_packages is not None)
            if share_site_packages is not None:  # after pip, so pip sees only the new venv
                _share(target / "venv", share_site_packages)
        except BaseException:
            shutil.rmtree(target, ignore_errors=True)
            raise
        return target

    def selftest(self, version: str, config: Path | None) -> None:
        """The new release must import and accept the config; raise UpdateRefused if not."""
        bindir = self.path(version) / "venv" / "bin"
        _run([str(bindir / "python"), "-c", "import gatewayd.cli"], "self-test (import)")
        if config is not None:
            _run([str(bindir / "gatewayd"), "check", str(config)], "self-test (check config)")

    def prune(self, keep: int = 3) -> list[str]:
        """Remove old releases, never current or previous; return what was removed."""
        import shutil

        live = {self.current(), self.previous()}
        old = [v for v in self.versions() if v not in live]
        old.sort(key=lambda v: self.path(v).stat().st_mtime)
        doomed = old[: max(0, len(old) - max(0, keep - len(live)))]
        for v in doomed:
            shutil.rmtree(self.path(v))
        return doomed


def _unpack(bundle: Path, dest: Path) -> None:
    """Wheels out of an uncompressed tar ("r:": a compressed bundle could expand without bound;
    an uncompressed one holds at most its signed size)."""
    import shutil
    import tarfile

    dest.mkdir(parents=True)
    try:
        tar = tarfile.open(bundle, "r:")  # noqa: SIM115 - closed by the `with` below
    except tarfile.TarError as e:
        raise UpdateRefused(f"bundle is not an uncompressed tar of wheels: {e}") from None
    with tar:
        for member in tar.getmembers():
            name = Path(member.name).name
            if not member.isfile() or not name.endswith(".whl"):
                continue  # only wheels, flattened: no paths, links or devices from a bundle
            src = tar.extractfile(member)
            assert src is not None
            with src, (dest / name).open("wb") as out:
                shutil.copyfileobj(src, out)


def _share(venv: Path, site_packages: Path) -> None:
    purelib = next((venv / "lib").glob("python*/site-packages"))
    (purelib / "_gatewayd_shared.pth").write_text(f"{site_packages}\n")


def _pip_install(staging: Path, version: str, no_deps: bool) -> None:
    python = staging / "venv" / "bin" / "python"
    cmd = [sys.executable, "-m", "pip", "--python", str(python), "install", "--no-index",
           "--disable-pip-version-check", "--no-input", "--quiet", "--ignore-installed",
           "--find-links", str(staging / "wheels"), f"gatewayd=={version}"]
    _run(cmd + (["--no-deps"] if no_deps else []), "install")


def _run(cmd: list[str], step: str) -> None:
    import subprocess

    try:
        done = subprocess.run(cmd, capture_output=True, text=True, timeout=SELFTEST_TIMEOUT_S,
                              env=_clean_env())
    except (OSError, subprocess.TimeoutExpired) as e:
        raise UpdateRefused(f"{step} failed: {e}") from None
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        raise UpdateRefused(f"{step} failed (exit {done.returncode}): {' | '.join(tail)}")


def _clean_env() -> dict[str, str]:
    """The new release must stand on its own: no PYTHONPATH from whoever runs the update."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
