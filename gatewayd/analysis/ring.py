"""A fixed-size ring of float64 samples that hands out overlapping windows without allocating."""

from __future__ import annotations

import numpy as np


class Ring:
    """Samples go in at any block size; windows of `window_len` come out every `hop` samples.

    Writing never overwrites unread samples: `write` takes as many as fit and returns how many,
    so the caller drains windows between partial writes. A gap (FIFO overrun, lost block)
    calls `restart`: the half-filled window is dropped, never stitched to later samples.
    """

    def __init__(self, window_len: int, hop: int, capacity: int | None = None) -> None:
        if not 0 < hop <= window_len:
            raise ValueError("expected 0 < hop <= window_len")
        self.window_len = window_len
        self.hop = hop
        self.capacity = capacity or 2 * window_len
        if self.capacity < window_len:
            raise ValueError("expected capacity >= window_len")
        self.buf = np.zeros(self.capacity)
        self.start = 0  # index of the first sample of the next window
        self.filled = 0  # samples held from `start` on
        self.total = 0  # samples ever written (for timestamps)

    def free(self) -> int:
        return self.capacity - self.filled

    def write(self, samples: np.ndarray) -> int:
        """Copy as many samples as fit; return the count taken."""
        n = min(len(samples), self.free())
        end = (self.start + self.filled) % self.capacity
        first = min(n, self.capacity - end)
        self.buf[end : end + first] = samples[:first]
        self.buf[: n - first] = samples[first:n]
        self.filled += n
        self.total += n
        return n

    def window(self, out: np.ndarray) -> bool:
        """Copy the next full window into `out` and step by `hop`; False if none is ready."""
        if self.filled < self.window_len:
            return False
        first = min(self.window_len, self.capacity - self.start)
        out[:first] = self.buf[self.start : self.start + first]
        out[first:] = self.buf[: self.window_len - first]
        self.start = (self.start + self.hop) % self.capacity
        self.filled -= self.hop
        return True

    def restart(self) -> None:
        """Forget unread samples: the next window starts with the next sample written."""
        self.filled = 0
