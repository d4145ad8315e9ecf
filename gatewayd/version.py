"""The running software's own version: that of the installed distribution, so each release
side by side reports its own.

Read from the distribution's METADATA file rather than through importlib.metadata, which
brings the email package with it (about 3 MB resident in a daemon that only needs one line).
"""

from __future__ import annotations

import sys
from pathlib import Path

UNKNOWN = "0+unknown"


def software_version() -> str:
    for entry in sys.path:
        for info in sorted(Path(entry or ".").glob("gatewayd-*.dist-info")):
            version = _version_line(info / "METADATA")
            if version:
                return version
    return UNKNOWN


def _version_line(metadata: Path) -> str | None:
    try:
        with metadata.open(encoding="utf-8") as f:
            for line in f:
                if line.startswith("Version:"):
                    return line.split(":", 1)[1].strip()
                if not line.strip():
                    return None  # the headers end at the first blank line
    except OSError:
        return None
    return None
