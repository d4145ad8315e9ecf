"""Envelope spectrum from a window's spectrum, in place.

The band around the resonance is cut out of the one-sided spectrum and moved down to 0 Hz
(the envelope's magnitude does not care about a frequency shift), zero-padded to twice its
width so the squared envelope does not alias, and inverse-transformed: that is the analytic
signal at a reduced rate. With no configured band, every candidate band (width W, step W/2)
is demodulated in one 2-D inverse FFT and the most impulsive one wins: the band whose squared
envelope has the highest kurtosis (a one-level kurtogram, after Antoni 2006).
"""

from __future__ import annotations

import numpy as np
from numpy.lib.stride_tricks import as_strided


def _pow2_at_least(n: int) -> int:
    return 1 << max(1, (n - 1).bit_length())


class Envelope:
    """Preallocated envelope demodulator for one spectrum buffer `spec` (rfft of length n)."""

    def __init__(
        self,
        spec: np.ndarray,
        fs: float,
        n: int,
        window_gain: float,
        band_hz: tuple[float, float] | None = None,
        auto_width_hz: float | None = None,
        averaging: float = 0.125,
    ) -> None:
        df = fs / n
        if band_hz is not None:
            lo, hi = max(1, int(np.ceil(band_hz[0] / df))), min(n // 2, int(band_hz[1] / df))
            if hi - lo < 4:
                raise ValueError("expected an envelope band a few spectral lines wide")
            width, starts = hi - lo, [lo]
        else:
            width = min(n // 4, _pow2_at_least(int((auto_width_hz or fs / 16) / df)))
            starts = list(range(width, n // 2 - width + 1, width // 2))  # skip the shaft orders
        self.width, self.starts = width, np.array(starts)
        self.length = 2 * _pow2_at_least(width)
        self.df = df
        step = (starts[1] - starts[0]) if len(starts) > 1 else width
        self._bands = as_strided(
            spec[starts[0] :], (len(starts), width), (step * spec.strides[0], spec.strides[0])
        )
        self._demod = np.zeros((len(starts), self.length), complex)
        self._analytic = np.zeros_like(self._demod)
        self._sq = np.zeros((len(starts), self.length))
        self._sq4 = np.zeros_like(self._sq)
        self._m2 = np.zeros(len(starts))
        self._m4 = np.zeros(len(starts))
        self._sk = np.zeros(len(starts))  # averaged impulsiveness of each candidate band
        self._alpha = averaging
        self._fresh = np.zeros(self.length // 2 + 1)
        self.env = np.zeros(self.length)
        self._env_spec = np.zeros(self.length // 2 + 1, complex)
        self.spectrum = np.zeros(self.length // 2 + 1)  # envelope amplitude, g, per line df
        # analytic signal = 2/n * sum X_k e^(...), ifft divides by `length`; the envelope of a
        # windowed signal is scaled by the window, undone by its coherent gain
        self._z_scale = 2 * self.length / n
        self._spec_scale = 2 / (self.length * window_gain)
        self.band = 0
        self.windows = 0

    def band_hz(self) -> tuple[float, float]:
        lo = float(self.starts[self.band]) * self.df
        return lo, lo + self.width * self.df

    def run(self) -> None:
        """Demodulate every candidate, keep the most impulsive, average into `spectrum` (g)."""
        np.copyto(self._demod[:, : self.width], self._bands)
        np.fft.ifft(self._demod, axis=1, out=self._analytic)
        np.abs(self._analytic, out=self._sq)
        np.square(self._sq, out=self._sq)
        if len(self.starts) > 1:
            np.square(self._sq, out=self._sq4)
            np.mean(self._sq, axis=1, out=self._m2)
            np.mean(self._sq4, axis=1, out=self._m4)
            np.square(self._m2, out=self._m2)
            np.divide(self._m4, self._m2, out=self._m4)
            self._average(self._sk, self._m4)
            self.band = int(np.argmax(self._sk))
        np.sqrt(self._sq[self.band], out=self.env)
        np.multiply(self.env, self._z_scale, out=self.env)
        np.subtract(self.env, self.env.mean(), out=self.env)
        np.fft.rfft(self.env, out=self._env_spec)
        np.abs(self._env_spec, out=self._fresh)
        np.multiply(self._fresh, self._spec_scale, out=self._fresh)
        self._average(self.spectrum, self._fresh)
        self.windows += 1

    def _average(self, acc: np.ndarray, new: np.ndarray) -> None:
        """Exponential average in place: acc += alpha (new - acc); the first window fills it."""
        if self.windows == 0:
            np.copyto(acc, new)
            return
        np.subtract(new, acc, out=new)
        np.multiply(new, self._alpha, out=new)
        np.add(acc, new, out=acc)

    def reset(self) -> None:
        """Forget the averages (after a gap or a speed change)."""
        self.windows = 0
