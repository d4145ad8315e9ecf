"""Band selection by spectral kurtosis: a kurtogram over a dyadic filter bank, in place.

After Antoni (2006, 2007): a band where a bearing's impacts ring stands out from noise by the
kurtosis of its complex envelope. For a band of width W cut out of one block's spectrum and
moved to 0 Hz, the inverse FFT of length W is the complex envelope z, critically sampled. Its
spectral kurtosis is SK = E|z|^4 / (E|z|^2)^2 - 2: zero for Gaussian noise, -1 for a steady
sine, large for repeated transients. Levels halve the width (fs/4, fs/8, ...); bands step by
half a width, as in the fast kurtogram's 1/2-overlap. Only the middle half of each inverse
transform is used: the block is not windowed, so its ends carry the circular wrap.

The moments are pooled over blocks with slow forgetting, so a choice rests on seconds of signal.
One (level, parity) set of bands is updated per block (round robin): the cost stays flat.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.lib.stride_tricks import as_strided

FORGET = 0.97  # per visit: the kurtogram remembers some thirty visits of each band set


@dataclass
class BandSet:
    """Every other band of one level: non-overlapping, so one strided view cuts them out."""

    width: int  # bins
    starts: np.ndarray  # first bin of each band
    demod: np.ndarray  # (bands, width) complex work array
    analytic: np.ndarray  # its inverse transform (a separate array: numpy copies otherwise)
    power: np.ndarray  # (bands, width) |z|^2
    s2: np.ndarray  # pooled sum of |z|^2 per band
    s4: np.ndarray  # pooled sum of |z|^4 per band
    part: np.ndarray  # one block's sums
    count: float = 0.0  # pooled samples per band

    def kurtosis(self) -> np.ndarray:
        sk: np.ndarray = self.count * self.s4 / np.maximum(self.s2 * self.s2, 1e-300) - 2
        return sk


class Kurtogram:
    """Spectral kurtosis of every candidate band of a block spectrum `spec` (rfft of `block`)."""

    def __init__(self, spec: np.ndarray, block: int, min_width_bins: int,
                 widths: list[int] | None = None) -> None:
        half = block // 2
        if widths is None:
            widths, w = [], half // 2
            while w >= max(16, min_width_bins):
                widths.append(w)
                w //= 2
        self.spec = spec
        self.sets: list[BandSet] = []
        for w in widths:
            for parity in (0, 1):
                first = (1 + parity) * w // 2
                starts = np.arange(first, half - w + 1, w)
                if len(starts):
                    self.sets.append(BandSet(
                        w, starts, np.zeros((len(starts), w), complex),
                        np.zeros((len(starts), w), complex),
                        np.zeros((len(starts), w)), np.zeros(len(starts)),
                        np.zeros(len(starts)), np.zeros(len(starts))))
        if not self.sets:
            raise ValueError("expected a block long enough for candidate bands")
        self._views = [
            as_strided(spec[s.starts[0]:], (len(s.starts), s.width),
                       (s.width * spec.strides[0], spec.strides[0]))
            for s in self.sets
        ]
        self.visits = 0

    def update(self, which: int | None = None) -> None:
        """Pool one block into one band set (the next in turn unless `which` is given)."""
        i = self.visits % len(self.sets) if which is None else which
        s, view = self.sets[i], self._views[i]
        np.copyto(s.demod, view)
        np.fft.ifft(s.demod, axis=1, out=s.analytic)
        q = s.width // 4
        np.abs(s.analytic, out=s.power)  # whole rows: a strided source would be buffered
        np.square(s.power, out=s.power)
        middle = s.power[:, q : q + s.width // 2]
        for acc, moment in ((s.s2, 2), (s.s4, 4)):
            if moment == 4:
                np.square(s.power, out=s.power)
            np.sum(middle, axis=1, out=s.part)
            np.multiply(acc, FORGET, out=acc)
            np.add(acc, s.part, out=acc)
        s.count = s.count * FORGET + s.width // 2
        if which is None:
            self.visits += 1

    def update_all(self) -> None:
        for i in range(len(self.sets)):
            self.update(i)
        self.visits += len(self.sets)

    def best(self) -> tuple[int, int, float]:
        """(first bin, width in bins, spectral kurtosis) of the most impulsive band seen."""
        top = (0, 0, -np.inf)
        for s in self.sets:
            if s.count == 0:
                continue
            sk = s.kurtosis()
            j = int(np.argmax(sk))
            if sk[j] > top[2]:
                top = (int(s.starts[j]), s.width, float(sk[j]))
        return top

    def kurtosis_of(self, start: int, width: int) -> float:
        for s in self.sets:
            if s.width == width and start in s.starts and s.count:
                return float(s.kurtosis()[int(np.searchsorted(s.starts, start))])
        return float("nan")

    def table(self) -> list[tuple[float, float, float]]:
        """Every band as (first bin, width in bins, SK): the kurtogram, for plots and reports."""
        out = []
        for s in self.sets:
            if s.count:
                out += [(float(a), float(s.width), float(k))
                        for a, k in zip(s.starts, s.kurtosis(), strict=True)]
        return out
