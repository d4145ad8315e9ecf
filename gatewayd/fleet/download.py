"""Fetch a bundle: a local path (or file:// URL) is copied; HTTP(S) is streamed with httpx and
resumed with a Range request when a partial file is already there.

Bounded three ways, because the URL arrives in a command and the server may be hostile or slow:
- bytes: never more than the signed size, and never more than MAX_BUNDLE_BYTES whatever the
  manifest says; a Content-Length above that is refused before the body is read;
- time: an overall deadline (`deadline_s`), not only a timeout per read, so a server trickling
  one byte every half second cannot hold the command worker for hours;
- memory: raw bytes as they arrive (`Accept-Encoding: identity`, no decompression), so a
  compressed response cannot expand in memory.

The bytes are trusted only after the caller has checked size and SHA-256 against the signed
manifest, so a plain-HTTP mirror is as safe as HTTPS for integrity (HTTPS is still preferred).
"""

from __future__ import annotations

import shutil
import threading
import time
from pathlib import Path
from urllib.parse import unquote, urlparse

import httpx

from ..errors import UpdateRefused

MAX_BUNDLE_BYTES = 1 << 30  # no release of a gateway daemon comes near 1 GiB
DEADLINE_S = 900.0  # 15 min: a 100 MB bundle over a 1 Mbit/s cellular link, with margin


def download(url: str, dest: Path, size: int, timeout_s: float = 30.0,
             deadline_s: float = DEADLINE_S) -> None:
    """Bring `url` to `dest`, never past `size` bytes and never for longer than `deadline_s`."""
    if size > MAX_BUNDLE_BYTES:
        raise UpdateRefused(f"bundle of {size} bytes is larger than the {MAX_BUNDLE_BYTES} allowed")
    parsed = urlparse(url)
    if parsed.scheme in ("http", "https"):
        _with_deadline(url, dest, size, timeout_s, deadline_s)
    elif parsed.scheme in ("", "file"):
        src = Path(unquote(parsed.path) if parsed.scheme else url)
        if not src.is_file():
            raise UpdateRefused(f"bundle not found: {src}")
        if src.stat().st_size > size:
            raise UpdateRefused("tampered bundle: larger than the manifest says")
        shutil.copyfile(src, dest)
    else:
        raise UpdateRefused(f"bundle URL scheme {parsed.scheme!r} not supported")


class _Fetch:
    """One HTTP download on a thread of its own, so the deadline holds even while a read is
    blocked (while headers trickle in, say). Past the deadline the caller goes on; the thread
    stops at its next chunk and writes nothing more."""

    def __init__(self, url: str, dest: Path, size: int, timeout_s: float, deadline: float) -> None:
        self.url, self.dest, self.size = url, dest, size
        self.timeout_s, self.deadline = timeout_s, deadline
        self.cancel = threading.Event()
        self.error: BaseException | None = None

    def run(self) -> None:
        try:
            _http(self)
        except BaseException as e:
            self.error = e


def _with_deadline(url: str, dest: Path, size: int, timeout_s: float, deadline_s: float) -> None:
    fetch = _Fetch(url, dest, size, timeout_s, time.monotonic() + deadline_s)
    thread = threading.Thread(target=fetch.run, name="download", daemon=True)
    thread.start()
    thread.join(deadline_s)
    if thread.is_alive():
        fetch.cancel.set()
        raise UpdateRefused(f"bundle download took longer than {deadline_s:.0f} s; "
                            "it resumes on the next try")
    if fetch.error is not None:
        raise fetch.error


def _http(fetch: _Fetch) -> None:
    part = fetch.dest.with_name(fetch.dest.name + ".part")
    have = part.stat().st_size if part.exists() else 0
    if have > fetch.size:
        part.unlink()
        have = 0
    headers = {"Accept-Encoding": "identity"}
    if 0 < have < fetch.size:
        headers["Range"] = f"bytes={have}-"
    try:
        with httpx.stream("GET", fetch.url, headers=headers, timeout=fetch.timeout_s) as r:
            if r.status_code == 416 and have == fetch.size:
                part.replace(fetch.dest)  # it was complete already
                return
            if r.status_code not in (200, 206):
                raise UpdateRefused(f"bundle download failed: HTTP {r.status_code} from {fetch.url}")
            append = r.status_code == 206
            _check_length(r, (have if append else 0), fetch.size)
            _write(r, part, append, fetch)
    except httpx.HTTPError as e:
        msg = f"bundle download interrupted ({e}); it resumes on the next try"
        raise UpdateRefused(msg) from None
    part.replace(fetch.dest)


def _check_length(r: httpx.Response, have: int, limit: int) -> None:
    length = r.headers.get("Content-Length", "")
    if length.isdigit() and have + int(length) > limit:
        raise UpdateRefused(f"tampered bundle: larger than the manifest says (the server "
                            f"announces {have + int(length)} bytes, the manifest {limit})")


def _write(r: httpx.Response, part: Path, append: bool, fetch: _Fetch) -> None:
    with part.open("ab" if append else "wb") as f:
        for chunk in r.iter_raw():
            if fetch.cancel.is_set() or time.monotonic() > fetch.deadline:
                raise UpdateRefused("bundle download ran past its deadline")
            f.write(chunk)
            if f.tell() > fetch.size:
                raise UpdateRefused("tampered bundle: larger than the manifest says")
