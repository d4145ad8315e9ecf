"""The running software's own version (of the installed distribution, so each release side by
side reports its own)."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def software_version() -> str:
    try:
        return version("gatewayd")
    except PackageNotFoundError:
        return "0+unknown"
