"""`gatewayd release build`: the project's wheel plus its dependency wheels, in one tar, and a
manifest describing it (unsigned: `gatewayd release sign` adds the signature).

Dependency wheels are collected for the *target* platform (a gateway is aarch64 or armv7, the
build machine usually is not) with `pip download --only-binary=:all: --platform ...`; from a
local wheelhouse (`--no-index --find-links`) when the build must not touch the network.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from .manifest import Manifest, SignedManifest, Target, checked

PLATFORMS = {
    "linux_aarch64": ["manylinux2014_aarch64", "manylinux_2_28_aarch64", "linux_aarch64"],
    "linux_armv7l": ["manylinux2014_armv7l", "manylinux_2_31_armv7l", "linux_armv7l"],
    "linux_x86_64": ["manylinux2014_x86_64", "manylinux_2_28_x86_64", "linux_x86_64"],
}


@dataclass(frozen=True)
class BuildOptions:
    platform: str = "any"  # "any": the project wheel only (dependencies already on the gateway)
    python_version: str = "3.11"
    wheelhouse: Path | None = None  # collect dependencies offline from here
    target: Target = field(default_factory=Target)
    min_from_version: str = "0"
    allow_downgrade: bool = False
    version: str | None = None  # override pyproject's version (test and hotfix builds)


BUILD_STEPS = 4


def build(project: Path, out_dir: Path, opts: BuildOptions = BuildOptions(),
          step: Callable[[str], None] = lambda done: None) -> SignedManifest:
    """Write <out_dir>/gatewayd-<version>-<platform>.tar and its manifest; return the manifest.
    `step` is told after each of the BUILD_STEPS steps (for a progress display)."""
    checked(opts.target, "target")  # a bad --percent is refused before the slow steps
    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        wheels = Path(tmp) / "wheels"
        source = _source_copy(project, Path(tmp) / "src", opts.version)
        step("source copied")
        project_wheel = _project_wheel(source, wheels)
        step("wheel built")
        if opts.platform != "any":
            _dependency_wheels(project_wheel, wheels, opts)
        step("dependencies collected")
        version = project_wheel.name.split("-")[1]
        bundle = out_dir / f"gatewayd-{version}-{opts.platform}.tar"
        _write_tar(bundle, sorted(wheels.glob("*.whl")))
        step("bundle written")
    manifest = Manifest(
        version=version,
        bundle_sha256=sha256_file(bundle),
        bundle_size=bundle.stat().st_size,
        bundle_name=bundle.name,
        platform=opts.platform,
        min_from_version=opts.min_from_version,
        allow_downgrade=opts.allow_downgrade,
        target=opts.target,
    )
    # Never write a manifest that gateways would refuse: decode it as they do.
    signed = checked(SignedManifest(manifest=manifest), "manifest")
    (out_dir / f"gatewayd-{version}.manifest.json").write_text(signed.to_json())
    return signed


def _source_copy(project: Path, dest: Path, version: str | None) -> Path:
    """Build from a clean copy: no stale build/ leftovers, and the version can be set."""
    skip = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")
    shutil.copytree(project / "gatewayd", dest / "gatewayd", ignore=skip)
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        if (project / name).exists():
            shutil.copy(project / name, dest / name)
    if version is not None:
        py = dest / "pyproject.toml"
        text = re.sub(r'(?m)^version = "[^"]*"', f'version = "{version}"', py.read_text(), count=1)
        py.write_text(text)
    return dest


def _project_wheel(project: Path, dest: Path) -> Path:
    _pip(["wheel", "--no-deps", "--no-build-isolation", "-w", str(dest), str(project)])
    found = sorted(dest.glob("gatewayd-*.whl"))
    if len(found) != 1:
        raise RuntimeError(f"expected one gatewayd wheel from {project}, found {found}")
    return found[0]


def _dependency_wheels(project_wheel: Path, dest: Path, opts: BuildOptions) -> None:
    args = ["download", "--only-binary=:all:", "--python-version", opts.python_version,
            "--implementation", "cp", "-d", str(dest)]
    for tag in PLATFORMS.get(opts.platform, [opts.platform]):
        args += ["--platform", tag]
    if opts.wheelhouse is not None:
        args += ["--no-index", "--find-links", str(opts.wheelhouse)]
    _pip([*args, str(project_wheel)])


def _write_tar(bundle: Path, wheels: list[Path]) -> None:
    """Uncompressed (wheels are zips already), fixed metadata so equal inputs give equal bytes."""
    with tarfile.open(bundle, "w", format=tarfile.PAX_FORMAT) as tar:
        for whl in wheels:
            info = tar.gettarinfo(str(whl), arcname=f"wheels/{whl.name}")
            info.mtime, info.uid, info.gid, info.uname, info.gname = 0, 0, 0, "", ""
            info.mode = 0o644
            with whl.open("rb") as f:
                tar.addfile(info, f)


def _pip(args: list[str]) -> None:
    cmd = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", *args]
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"pip {args[0]} failed: {done.stderr.strip()[-800:]}")


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()
