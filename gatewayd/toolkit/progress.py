"""Progress of a long operation (probe scans, release builds, store drains) on stderr.

On a terminal one line is redrawn in place (bar, count, percent, time left); when stderr is a
pipe or a journal, only the final summary is written, so logs do not fill with bars.

    with Progress("scan i2c-1", total=112) as bar:
        for addr in addresses:
            ...
            bar.advance(note=f"0x{addr:02x}")
"""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO


def render(
    label: str, done: int, total: int, elapsed_s: float, width: int = 80, note: str = ""
) -> str:
    """One status line: `label [#####.....] 12/120 10% 3 s left note`, at most `width` long."""
    frac = done / total if total else 1.0
    left = f"{elapsed_s * (1 - frac) / frac:.0f} s left" if 0 < frac < 1 else ""
    tail = f" {done}/{total} {frac:4.0%} {left} {note}".rstrip()
    bar_w = max(0, min(30, width - len(label) - len(tail) - 3))
    filled = round(bar_w * frac)
    line = f"{label} [{'#' * filled}{'.' * (bar_w - filled)}]{tail}" if bar_w else f"{label}{tail}"
    return line[:width]


class Progress:
    """Counts steps of a known total and shows them; use as a context manager."""

    def __init__(
        self,
        label: str,
        total: int,
        stream: TextIO | None = None,
        clock: Callable[[], float] = time.monotonic,
        every_s: float = 0.1,
    ) -> None:
        self.label, self.total, self.done = label, total, 0
        self.stream = stream if stream is not None else sys.stderr
        self.live = self.stream.isatty()
        self.clock, self.every_s = clock, every_s
        self.started = clock()
        self._drawn = float("-inf")
        self.finished = False

    def advance(self, n: int = 1, note: str = "") -> None:
        self.done = min(self.total, self.done + n)
        now = self.clock()
        if self.live and (now - self._drawn >= self.every_s or self.done == self.total):
            self._drawn = now
            self._write(
                "\r"
                + render(
                    self.label, self.done, self.total, now - self.started, _width(self.stream), note
                )
                + "\x1b[K"
            )

    def finish(self, summary: str = "") -> None:
        """Write the summary line once (also on leaving the `with` block)."""
        if self.finished:
            return
        self.finished = True
        took = self.clock() - self.started
        text = summary or f"{self.done}/{self.total}"
        self._write(("\r\x1b[K" if self.live else "") + f"{self.label}: {text} in {took:.1f} s\n")

    def _write(self, text: str) -> None:
        self.stream.write(text)
        self.stream.flush()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc: object) -> None:
        self.finish()


def _width(stream: TextIO) -> int:
    import os

    try:
        return os.get_terminal_size(stream.fileno()).columns
    except (OSError, ValueError):
        return 80
