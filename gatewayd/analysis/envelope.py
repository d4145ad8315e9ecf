"""Envelope spectrum at a line spacing chosen for the bearing, whatever the sample rate.

The raw samples stream through blocks of `block` samples that overlap by half (overlap-save):
each block is transformed once, optionally whitened, and the chosen band is cut out with
tapered edges, moved to 0 Hz and inverse transformed at a length just above twice the band:
the analytic signal, already decimated to about twice the band width. Its magnitude is the
envelope; the middle half of every block is kept, so consecutive blocks join without the
circular wrap at their ends. Those envelope samples fill a longer span (1 / resolution
seconds) whose Hann-windowed power spectrum is averaged over `averages` spans overlapping by
half (Welch): the envelope spectrum, published once `averages` spans are in.

Whitening divides the band by the running mean of the block magnitude spectrum: the cepstral
pre-whitening of Randall and Sawalhi, which flattens the resonance and removes discrete lines
(shaft orders, gear mesh, mains) so the impacts stand out. The band is chosen by spectral
kurtosis of the raw blocks (kurtogram.py) unless it is configured: every band is judged on the
first blocks, which are kept and demodulated once the choice is made, then one set of bands per
block keeps the choice under review.
"""

from __future__ import annotations

import math

import numpy as np

from .kurtogram import Kurtogram

WHITEN_AVERAGING = 1 / 8  # running mean of the block magnitude spectrum
LEARN_BLOCKS = 3  # blocks of every band's kurtosis before the first choice (then replayed)
SWITCH_MARGIN = 1.25  # a new band must be this much more impulsive to restart the average
SWITCH_LEAST = 0.2  # no band this impulsive: nothing to gain from restarting the average
REVIEW_EVERY = 2  # blocks per band-set update once the first average is out (halves the cost)


def pow2_at_least(n: int) -> int:
    return 1 << max(1, (max(1, n) - 1).bit_length())


def smooth_at_least(n: int) -> int:
    """Smallest 2^a 3^b 5^c >= n: a length numpy's FFT handles at full speed."""
    best = pow2_at_least(n)
    p5 = 1
    while p5 < best:
        p3 = p5
        while p3 < best:
            p2 = p3
            while p2 < n:
                p2 *= 2
            best = min(best, p2)
            p3 *= 3
        p5 *= 5
    return best


def block_length(fs: float) -> int:
    """Blocks of about 1/8 s: fine enough bins for narrow bands, few numpy calls per sample."""
    return min(8192, max(1024, pow2_at_least(int(fs / 8))))


class EnvelopeStream:
    """Samples in (`push`), averaged envelope spectrum out (`spectrum`, `power`, `df`)."""

    def __init__(
        self,
        fs: float,
        resolution_hz: float = 1.0,
        averages: int = 4,
        band_hz: tuple[float, float] | None = None,
        min_band_hz: float = 0.0,
        whiten: bool = True,
        band_width_hz: float | None = None,
    ) -> None:
        if resolution_hz <= 0 or averages < 1:
            raise ValueError("expected a positive resolution and at least one average")
        self.fs, self.block = fs, block_length(fs)
        F, self.bin_hz = self.block, fs / self.block
        self.resolution_hz, self.averages, self.whiten = resolution_hz, averages, whiten
        self._raw = np.zeros(F)
        self._fill = 0
        self._spec = np.zeros(F // 2 + 1, complex)
        self._mag = np.zeros(F // 2 + 1)
        self._mean_mag2 = np.zeros((F // 2 + 1, 2))  # running mean |X|, twice per line
        self._mean_mag = self._mean_mag2[:, 0]
        self._history = np.zeros((LEARN_BLOCKS, F // 2 + 1), complex)
        self.blocks = 0
        if band_hz is not None:
            lo = max(1, math.ceil(band_hz[0] / self.bin_hz))
            hi = min(F // 2, int(band_hz[1] / self.bin_hz))
            if hi - lo < 4:
                raise ValueError("expected an envelope band a few spectral lines wide")
            self.kurtogram: Kurtogram | None = None
            widest = hi - lo
        else:
            widths = None
            if band_width_hz:
                widths = [pow2_at_least(int(band_width_hz / self.bin_hz))]
            self.kurtogram = Kurtogram(self._spec, F, int(min_band_hz / self.bin_hz), widths)
            widest = max(s.width for s in self.kurtogram.sets)
        # work arrays sized for the widest band; a band uses the leading part of each
        length = 2 * pow2_at_least(widest)
        self._demod = np.zeros(length, complex)
        self._analytic = np.zeros(length, complex)
        self._env = np.zeros(length)
        self._taper2 = np.zeros((widest, 2))  # the taper for real and imaginary parts
        self._band_mag2 = np.zeros((widest, 2))
        most = smooth_at_least(math.ceil(fs * length / F / resolution_hz))
        self._ring = np.zeros(most + length)
        self._hann = np.zeros(most)
        self._seg = np.zeros(most)
        self._seg_spec = np.zeros(most // 2 + 1, complex)
        self._powers = np.zeros((averages, most // 2 + 1))
        self._power = np.zeros(most // 2 + 1)
        self._amp = np.zeros(most // 2 + 1)
        self.lo, self.width, self.kurtosis = 0, 0, math.nan
        self.length = self.span = 0
        self.df = math.nan
        self.rate_hz = math.nan
        self._written = self._read = self.count = 0
        self.updated = False
        if band_hz is not None:
            self._use_band(lo, hi - lo)

    # -- band --------------------------------------------------------------------------------
    def _use_band(self, lo: int, width: int) -> None:
        """Lay the demodulator and the long span out for a band (rare: allocates a little)."""
        self.lo, self.width = lo, width
        self.length = 2 * pow2_at_least(width)
        edge = max(2, width // 8)
        taper = np.ones(width)
        ramp = np.sin(np.linspace(0, np.pi / 2, edge + 2)[1:-1]) ** 2
        taper[:edge], taper[width - edge :] = ramp, ramp[::-1]
        self._taper2[:width] = taper[:, None]
        self.rate_hz = self.fs * self.length / self.block
        self.span = smooth_at_least(math.ceil(self.rate_hz / self.resolution_hz))
        self.df = self.rate_hz / self.span
        n = self.span
        self._hann[:n] = 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)
        self._restart()

    def band_hz(self) -> tuple[float, float]:
        lo = self.lo * self.bin_hz
        return lo, lo + self.width * self.bin_hz

    @property
    def spectrum(self) -> np.ndarray:
        """Averaged envelope amplitude spectrum (g per line, peak), lines `df` apart."""
        return self._amp[: self.span // 2 + 1]

    @property
    def power(self) -> np.ndarray:
        """Averaged envelope power spectrum (arbitrary scale): what the index divides."""
        return self._power[: self.span // 2 + 1]

    @property
    def ready(self) -> bool:
        return self.count >= self.averages

    def reset(self) -> None:
        """A gap: samples on either side are never joined, and the average starts again."""
        self._fill = 0
        self._restart()

    def _restart(self) -> None:
        self._written = self._read = self.count = 0
        self.updated = False

    # -- samples in ----------------------------------------------------------------------------
    def push(self, x: np.ndarray) -> None:
        """Take consecutive samples; `updated` tells whether a new average came out."""
        self.updated = False
        F, done = self.block, 0
        while done < len(x):
            take = min(len(x) - done, F - self._fill)
            self._raw[self._fill : self._fill + take] = x[done : done + take]
            self._fill += take
            done += take
            if self._fill == F:
                self._block()
                self._raw[: F // 2] = self._raw[F // 2 :]
                self._fill = F // 2

    def _block(self) -> None:
        spec = self._spec
        np.fft.rfft(self._raw, out=spec)
        spec[0] = 0
        if self.whiten:
            self._update_whitening()
        self.blocks += 1
        k = self.kurtogram
        if k is not None and self.blocks <= LEARN_BLOCKS:
            # learning: every band's kurtosis from the first blocks, which are kept and
            # demodulated once the band is chosen, so learning costs no signal
            k.update_all()
            self._history[self.blocks - 1] = spec
            if self.blocks == LEARN_BLOCKS:
                lo, width, self.kurtosis = k.best()
                self._use_band(lo, width)
                for kept in self._history:
                    self._demodulate(kept)
            return
        if k is not None and (not self.ready or self.blocks % REVIEW_EVERY == 0):
            self._reconsider(k)
        if self.width:
            self._demodulate(spec)

    def _update_whitening(self) -> None:
        np.abs(self._spec, out=self._mag)
        if self.blocks:
            np.subtract(self._mag, self._mean_mag, out=self._mag)
            np.multiply(self._mag, WHITEN_AVERAGING, out=self._mag)
            np.add(self._mean_mag, self._mag, out=self._mag)
        self._mean_mag2[:, 0] = self._mag
        self._mean_mag2[:, 1] = self._mag

    def _reconsider(self, k: Kurtogram) -> None:
        """One band set per block; after each full round, move to a clearly more impulsive
        band, but never before the first average is out (a move restarts it)."""
        k.update()
        if k.visits % len(k.sets):
            return
        lo, width, sk = k.best()
        self.kurtosis = k.kurtosis_of(self.lo, self.width)
        now = self.kurtosis if self.kurtosis == self.kurtosis else -math.inf
        if (self.ready and (lo, width) != (self.lo, self.width) and sk > SWITCH_LEAST
                and sk > now + 0.1 + (SWITCH_MARGIN - 1) * abs(now)):
            self._use_band(lo, width)
            self.kurtosis = sk

    def _demodulate(self, spec: np.ndarray) -> None:
        w, n = self.width, self.length
        d = self._demod[:n]
        # complex times real as (w, 2) real views: a mixed-type ufunc would allocate a buffer
        parts = d[:w].view(np.float64).reshape(w, 2)
        taper = self._taper2[:w]
        np.copyto(parts, spec[self.lo : self.lo + w].view(np.float64).reshape(w, 2))
        np.multiply(parts, taper, out=parts)
        # ifft divides by n; the block's analytic signal is 2/F * sum
        gain = 2 * n / self.block
        if self.whiten:  # flatten the band, keeping its mean level so the envelope is in g
            mag = self._band_mag2[:w]
            np.maximum(self._mean_mag2[self.lo : self.lo + w], 1e-12, out=mag)
            np.divide(parts, mag, out=parts)
            gain *= float(mag[:, 0].mean())
        d[w:] = 0
        z = self._analytic[:n]
        np.fft.ifft(d, out=z)
        env = self._env[:n]
        np.abs(z, out=env)
        keep = env[n // 4 : n // 4 + n // 2]
        np.multiply(keep, gain, out=keep)
        self._ring_copy(keep, self._written, into_ring=True)
        self._written += n // 2
        while self._written - self._read >= self.span:
            self._segment()

    def _ring_copy(self, a: np.ndarray, at: int, into_ring: bool) -> None:
        """Copy `a` into (or out of) the circular envelope store from sample number `at`."""
        cap = self.span + self.length
        i = at % cap
        first = min(len(a), cap - i)
        ring = self._ring
        if into_ring:
            ring[i : i + first] = a[:first]
            ring[: len(a) - first] = a[first:]
        else:
            a[:first] = ring[i : i + first]
            a[first:] = ring[: len(a) - first]

    def _segment(self) -> None:
        """One span of envelope into the average; keep its second half for the next span."""
        n, seg = self.span, self._seg[: self.span]
        self._ring_copy(seg, self._read, into_ring=False)
        self._read += n // 2
        np.subtract(seg, seg.mean(), out=seg)
        np.multiply(seg, self._hann[:n], out=seg)
        out = self._seg_spec[: n // 2 + 1]
        np.fft.rfft(seg, out=out)
        slot = self._powers[self.count % self.averages, : n // 2 + 1]
        np.abs(out, out=slot)
        np.square(slot, out=slot)
        self.count += 1
        if self.count >= self.averages:
            power = self.power
            np.sum(self._powers[:, : n // 2 + 1], axis=0, out=power)
            np.multiply(power, 1 / self.averages, out=power)
            amp = self.spectrum
            np.sqrt(power, out=amp)
            np.multiply(amp, 4 / n, out=amp)  # Hann coherent gain 1/2, one-sided
            self.updated = True
