"""Fetch a bundle: a local path (or file:// URL) is copied; HTTP(S) is streamed with httpx and
resumed with a Range request when a partial file is already there.

The bytes are trusted only after the caller has checked size and SHA-256 against the signed
manifest, so a plain-HTTP mirror is as safe as HTTPS for integrity (HTTPS is still preferred).
"""

from __future__ import annotations

import shutil
from pathlib import Path
from urllib.parse import unquote, urlparse

import httpx

from ..errors import UpdateRefused

CHUNK = 1 << 16


def download(url: str, dest: Path, size: int, timeout_s: float = 30.0) -> None:
    """Bring `url` to `dest`, never past `size` bytes."""
    parsed = urlparse(url)
    if parsed.scheme in ("http", "https"):
        _http(url, dest, size, timeout_s)
    elif parsed.scheme in ("", "file"):
        src = Path(unquote(parsed.path) if parsed.scheme else url)
        if not src.is_file():
            raise UpdateRefused(f"bundle not found: {src}")
        shutil.copyfile(src, dest)
    else:
        raise UpdateRefused(f"bundle URL scheme {parsed.scheme!r} not supported")


def _http(url: str, dest: Path, size: int, timeout_s: float) -> None:
    part = dest.with_name(dest.name + ".part")
    have = part.stat().st_size if part.exists() else 0
    if have > size:
        part.unlink()
        have = 0
    headers = {"Range": f"bytes={have}-"} if 0 < have < size else {}
    try:
        with httpx.stream("GET", url, headers=headers, timeout=timeout_s) as r:
            if r.status_code == 416 and have == size:
                part.replace(dest)  # it was complete already
                return
            if r.status_code not in (200, 206):
                raise UpdateRefused(f"bundle download failed: HTTP {r.status_code} from {url}")
            _write(r, part, append=r.status_code == 206, limit=size)
    except httpx.HTTPError as e:
        msg = f"bundle download interrupted ({e}); it resumes on the next try"
        raise UpdateRefused(msg) from None
    part.replace(dest)


def _write(r: httpx.Response, part: Path, append: bool, limit: int) -> None:
    with part.open("ab" if append else "wb") as f:
        for chunk in r.iter_bytes(CHUNK):
            f.write(chunk)
            if f.tell() > limit:
                raise UpdateRefused("tampered bundle: larger than the manifest says")
