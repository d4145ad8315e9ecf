"""The per-window analyser. Every work array is allocated once in `__init__`; `run` fills
`values` (one float per feature, named by `names`) using only in-place numpy operations.

Acceleration is in g. Velocity comes from the acceleration spectrum divided by 2 pi f
(frequency-domain integration) summed over its band, in mm/s RMS.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from . import iso, stats
from .bearing import DEFECTS
from .defects import LINES, DefectFinder
from .envelope import EnvelopeStream
from .names import HARMONICS, feature_names
from .windows import coherent_gain, make_window, power_gain

G = 9.80665  # m/s^2 per g
UNCERTAIN = 5  # bearing_defect: over the alarm level, but the defect cannot be told (1-4: DEFECTS)
MAINS_NOTCH_LINES = 2  # widened lines either side of a mains line that its leakage reaches


@dataclass(frozen=True)
class Spec:
    """What to compute: everything the analyser needs, in plain numbers."""

    fs_hz: float
    window_len: int = 4096
    window: str = "hann"
    velocity_band_hz: tuple[float, float] = (10.0, 1000.0)
    bands_hz: dict[str, tuple[float, float]] = field(default_factory=dict)
    shaft_hz: float | None = None  # None: estimated from the spectrum in `shaft_search_hz`
    shaft_search_hz: tuple[float, float] = (5.0, 100.0)
    defects: dict[str, float] = field(default_factory=dict)  # multiples of shaft speed
    envelope_band_hz: tuple[float, float] | None = None  # None: chosen by spectral kurtosis
    envelope_auto_width_hz: float | None = None  # only bands of this width (None: every level)
    machine_group: int = 2
    foundation: str = "rigid"
    defect_tolerance: float = 0.015  # slip and speed error, relative
    hop: int | None = None  # samples between window starts (None: half a window)
    envelope_resolution_hz: float = 1.0  # envelope-spectrum line spacing, at most
    envelope_averages: int = 4  # spans averaged before the bearing index is computed
    whiten: bool = True  # cepstral pre-whitening before band selection and envelope
    false_alarm: float = 1e-6  # chance that one averaged spectrum of noise raises the alarm
    mains_hz: tuple[float, ...] = (50.0, 60.0)  # never taken for shaft orders
    naming_significance: float = 0.01  # a defect is named only if its lines dominate so clearly




def _bin(f: float, df: float) -> int:
    return round(f / df)


class Analyzer:
    """Features of one window of samples, with no allocation of window-sized arrays."""

    def __init__(self, spec: Spec) -> None:
        n, fs = spec.window_len, spec.fs_hz
        if n & (n - 1) or n < 64:
            raise ValueError("expected a window_len that is a power of two, 64 or more")
        self.spec, self.n, self.df = spec, n, fs / n
        self.defects = [d for d in DEFECTS if d in spec.defects]
        self.names = feature_names(list(spec.bands_hz), self.defects)
        self.index = {name: i for i, name in enumerate(self.names)}
        self.values = np.full(len(self.names), np.nan)
        self.w = make_window(spec.window, n)
        self._d = np.zeros(n)
        self._sq = np.zeros(n)
        self._spec = np.zeros(n // 2 + 1, complex)
        self.mag = np.zeros(n // 2 + 1)
        self._pow = np.zeros(n // 2 + 1)
        self._amp_scale = 2 / (n * coherent_gain(self.w))
        self._pow_scale = 2 / (n * n * power_gain(self.w))
        self._vel_weight = self._velocity_weights(spec.velocity_band_hz)
        self._bands = [self._bin_range(b) for b in spec.bands_hz.values()]
        self._limits = iso.zone_limits(spec.machine_group, spec.foundation)
        self._search = self._bin_range(spec.shaft_search_hz)
        kmax = (n // 2 - 1) // HARMONICS
        self._search = slice(max(2, self._search.start), min(self._search.stop, kmax))
        self._dil = np.zeros(n // 2 - 1)
        self._harm = np.zeros(self._search.stop - self._search.start)
        self._keep, self._mains = self._mains_mask(spec.mains_hz)
        self._floor = np.zeros(n // 2 - 1)
        self.hop = spec.hop or n // 2
        self._fresh = True  # the next window follows a gap: all of it is new
        self.envelope: EnvelopeStream | None = None
        self.finder: DefectFinder | None = None
        if self.defects:
            multiples = {d: spec.defects[d] for d in self.defects}
            top_shaft = spec.shaft_hz or spec.shaft_search_hz[1]
            fundamental = max(multiples[d] for d in self.defects if d != "ftf") * top_shaft
            self.envelope = EnvelopeStream(
                fs, spec.envelope_resolution_hz, spec.envelope_averages, spec.envelope_band_hz,
                min_band_hz=min(fs / 8, 3 * fundamental), whiten=spec.whiten,
                band_width_hz=spec.envelope_auto_width_hz)
            self.finder = DefectFinder(
                multiples, spec.defect_tolerance, spec.envelope_averages, top_shaft,
                spec.envelope_resolution_hz, spec.false_alarm, spec.mains_hz)
        self.bearing_updated = False  # this window brought a new averaged envelope spectrum
        # defects whose index passed the alarm level and that the evidence cannot tell apart
        # (one entry when a defect is named): (defect, index, own-line mean, own lines)
        self.candidates: list[tuple[str, float, float, int]] = []
        self._dominance = self._dominance_levels()
        self.bearing_alarm_on = self.finder.alarm_on if self.finder else math.nan
        self.bearing_alarm_off = self.finder.alarm_off if self.finder else math.nan

    def _dominance_levels(self) -> dict[tuple[int, int, int], float]:
        """Ratio of own-line means by which the leading defect must beat each other candidate
        to be named, for (leader's own lines, other's own lines, comparisons made): the level
        two combs with equally strong lines (the noise model of the alarm, stats.py) pass
        with probability naming_significance, split over both orders and the comparisons."""
        if self.finder is None:
            return {}
        nu, alpha = self.finder.dof, self.spec.naming_significance
        others = len(self.defects) - 1
        return {(a, b, k): stats.ratio_quantile(a * nu, b * nu, alpha / 2 / k)
                for a in range(1, LINES + 1) for b in range(1, LINES + 1)
                for k in range(1, others + 1)}

    def _mains_mask(self, mains: tuple[float, ...]) -> tuple[np.ndarray, np.ndarray]:
        """1.0 for each widened line clear of mains (keep[j] is the widened line j + 1), 0.0
        where a mains harmonic or its leakage sits; and the complement."""
        keep = np.ones(self.n // 2 - 1)
        for f in mains:
            for h in range(1, int(len(keep) * self.df / f) + 1):
                k = _bin(h * f, self.df)
                keep[max(0, k - 1 - MAINS_NOTCH_LINES) : k + MAINS_NOTCH_LINES] = 0.0
        return keep, 1.0 - keep

    def reset(self) -> None:
        """A gap in the samples: the envelope average starts again with the next window."""
        if self.envelope is not None:
            self.envelope.reset()
        self._fresh = True

    def evidence(self) -> dict[str, list[dict[str, object]]]:
        """The lines behind each defect index (for alarm events and reports; allocates)."""
        if self.finder is None or self.envelope is None or not self.envelope.ready:
            return {}
        return self.finder.evidence(self.envelope.spectrum)

    def _bin_range(self, band: tuple[float, float]) -> slice:
        lo = max(1, math.ceil(band[0] / self.df))
        return slice(lo, max(lo, min(self.n // 2, math.floor(band[1] / self.df)) + 1))

    def _velocity_weights(self, band: tuple[float, float]) -> np.ndarray:
        """Per-line factor turning acceleration power (g^2) into velocity power ((mm/s)^2)."""
        f = np.arange(self.n // 2 + 1) * self.df
        weight = np.zeros_like(f)
        sel = self._bin_range(band)
        weight[sel] = (G * 1000 / (2 * np.pi * f[sel])) ** 2
        return weight * self._pow_scale

    def run(self, x: np.ndarray, shaft_hz: float | None = None) -> np.ndarray:
        """Analyse one window (length window_len, g); return `values` (filled in place).
        `shaft_hz` (a tachometer's reading) wins over the configured and the estimated speed;
        NaN means the shaft stands: order and defect features are NaN then."""
        v, ix = self.values, self.index
        self._time_domain(x, v)
        np.multiply(self._d, self.w, out=self._sq)
        np.fft.rfft(self._sq, out=self._spec)
        np.abs(self._spec, out=self.mag)
        np.square(self.mag, out=self._pow)
        v[4] = math.sqrt(float(np.dot(self._pow, self._vel_weight)))
        v[5] = iso.zone_index(v[4], self._limits)
        shaft = shaft_hz if shaft_hz is not None else (self.spec.shaft_hz or self._estimate_shaft())
        v[6] = shaft
        if self.envelope is not None:  # the envelope follows every sample, turning or not
            self.envelope.push(x if self._fresh else x[self.n - self.hop :])
            self._fresh = False
        if not shaft > 0:  # stopped: nothing turns, so no order or defect line to measure
            v[7:] = math.nan
            return v
        for h in range(1, HARMONICS + 1):
            v[6 + h] = self._peak(self.mag, h * shaft, 0.01) * self._amp_scale
        for i, band in enumerate(self._bands):
            v[10 + i] = math.sqrt(float(self._pow[band].sum()) * self._pow_scale)
        if self.envelope is not None:
            self._bearing(shaft, v, ix)
        return v

    def _time_domain(self, x: np.ndarray, v: np.ndarray) -> None:
        np.subtract(x, x.mean(), out=self._d)
        np.square(self._d, out=self._sq)
        ms = float(self._sq.mean())
        v[0] = math.sqrt(ms)
        v[1] = max(float(self._d.max()), -float(self._d.min()))
        v[2] = v[1] / v[0] if ms > 0 else math.nan
        v[3] = float(np.dot(self._sq, self._sq)) / self.n / (ms * ms) if ms > 0 else math.nan

    def _peak(self, spectrum: np.ndarray, f: float, tolerance: float, first: int = 1) -> float:
        """Largest line within +-tolerance (relative, at least one line) of frequency f;
        NaN when that range starts below line `first` or runs off the spectrum."""
        k, t = _bin(f, self.df), max(1, math.ceil(f * tolerance / self.df))
        if k - t < first or k + t >= len(spectrum):
            return math.nan
        return float(spectrum[k - t : k + t + 1].max())

    def _estimate_shaft(self) -> float:
        """Speed whose 1x, 2x and 3x lines together are strongest (harmonic product spectrum)."""
        m, s = self.mag, self._search
        np.maximum(m[:-2], m[1:-1], out=self._dil)  # widen each line by one bin either side
        np.maximum(self._dil[:-1], m[2:-1], out=self._dil[:-1])
        np.add(self._dil, 1e-12, out=self._dil)
        np.log(self._dil, out=self._dil)  # a product of harmonics: every order must be there
        # a mains line says nothing about the shaft: it counts as the typical (log) level
        np.multiply(self._dil, self._keep, out=self._dil)
        span = slice(s.start - 1, 3 * s.stop - 1)
        floor = float(self._dil[span].sum()) / max(1.0, float(self._keep[span].sum()))
        np.multiply(self._mains, floor, out=self._floor)
        np.add(self._dil, self._floor, out=self._dil)
        h = self._harm
        dil = self._dil  # dil[j] is the widened line j + 1
        np.add(dil[s.start - 1 : s.stop - 1], dil[2 * s.start - 1 : 2 * s.stop - 1 : 2], out=h)
        np.add(h, dil[3 * s.start - 1 : 3 * s.stop - 1 : 3], out=h)
        k = s.start + int(np.argmax(h))
        for order in (3, 2, 1):  # refine on the highest harmonic clear of mains
            if self._keep[order * k - 1] or order == 1:
                break
        kh = order * k - order + 1 + int(np.argmax(m[order * (k - 1) + 1 : order * (k + 1)]))
        return _interpolate(m, kh) * self.df / order

    def _bearing(self, shaft: float, v: np.ndarray, ix: dict[str, int]) -> None:
        """Defect indices from the averaged envelope spectrum, recomputed when a new average
        is out (every half span); NaN until `envelope_averages` spans are in."""
        env, finder = self.envelope, self.finder
        assert env is not None and finder is not None
        self.bearing_updated = False
        lo, hi = env.band_hz()
        v[ix["env_band_hz"]] = (lo + hi) / 2 if env.width else math.nan
        if not env.ready:
            v[ix["bearing_index"] :] = math.nan
            v[ix["bearing_defect"]] = 0
            self.candidates = []
            return
        if not (env.updated or abs(shaft - finder.shaft_hz) > 1e-3 * shaft):
            return  # the same average and speed: the values of the last window stand
        finder.run(env.power, env.df, shaft, hi - lo)
        self.bearing_updated = True
        for i, d in enumerate(self.defects):
            base = ix[f"{d}_1x_g"]
            for h in range(HARMONICS):
                v[base + h] = finder.amplitude_at(env.spectrum, i, (h + 1) * self.spec.defects[d])
            v[base + HARMONICS] = finder.index[i]
        named = self._name_defect(finder.index, finder.specific)
        v[ix["bearing_index"]] = finder.index[named] if named >= 0 else math.nan
        v[ix["bearing_defect"]] = DEFECTS.index(self.defects[named]) + 1 if named >= 0 else 0
        if len(self.candidates) > 1:  # over the level, but which defect the lines cannot say
            v[ix["bearing_index"]] = max(c[1] for c in self.candidates)
            v[ix["bearing_defect"]] = UNCERTAIN

    def _name_defect(self, index: np.ndarray, specific: np.ndarray) -> int:
        """Which defect: among those over the alarm level (else all), the one whose own lines
        (not shared with another comb) stand out most; the cage only when no other defect is
        over the level, since every rolling-element fault carried through the load zone by the
        cage shows cage-rate lines too. -1 when no index is known. Sets `candidates`: the
        defects over the level that the evidence does not separate (see `_contenders`)."""
        known = [i for i, x in enumerate(index) if x == x]
        over = [i for i in known if index[i] >= self.bearing_alarm_on]
        pool = over or known
        self.candidates = []
        if not pool:
            return -1
        rivals = known
        if any(self.defects[i] != "ftf" for i in over):
            pool = [i for i in pool if self.defects[i] != "ftf"] or pool
            rivals = [i for i in known if self.defects[i] != "ftf"]
        key = specific if over else index
        named = max(pool, key=lambda i: (float(key[i]) if key[i] == key[i] else -1.0, index[i]))
        if over or index[named] >= self.bearing_alarm_off:  # an alarm may stand: judge it
            self.candidates = self._contenders(rivals, named, index)
        return named

    def _contenders(self, pool: list[int], named: int, index: np.ndarray
                    ) -> list[tuple[str, float, float, int]]:
        """The leader and the defects whose own lines it does not clearly beat, over the alarm
        level or not: whether there is a defect is the alarm's question; which one is decided
        by the lines that tell the defects apart, and a rival's comb need not pass the level
        on its own (shared lines help its rival there) to be as likely as the leader.
        "Clearly": the ratio of the mean over the leader's own lines to the mean over the
        other's passes the level that two combs whose lines are equally strong reach with
        probability naming_significance (Welch-averaged lines over background are scaled
        chi-square: the ratio of two such means is F-distributed). A rival with no own line
        (all shared or ambiguous) stays only if its comb passes the alarm level: nothing else
        speaks for it; a leader with none cannot beat anyone."""
        finder = self.finder
        assert finder is not None
        own = {i: finder.own_lines(i) for i in pool}
        lead_mean, lead_n = own[named]
        others = [i for i in pool if i != named]
        kept = [named]
        for i in others:
            mean, n = own[i]
            if n == 0:  # nothing of its own speaks for it: a rival only if its comb passes
                if index[i] >= self.bearing_alarm_on:
                    kept.append(i)
                continue
            if lead_n == 0:
                kept.append(i)
                continue
            level = self._dominance[(lead_n, n, len(others))]
            if not lead_mean >= level * mean:
                kept.append(i)
        kept.sort(key=lambda i: -float(index[i]))
        return [(self.defects[i], float(index[i]), own[i][0], own[i][1]) for i in kept]


def _nanmean(values: np.ndarray) -> float:
    """Mean of the finite entries (a few), NaN if none: without numpy's warning."""
    total, count = 0.0, 0
    for x in values:
        if x == x:
            total, count = total + float(x), count + 1
    return total / count if count else math.nan


def _interpolate(m: np.ndarray, k: int) -> float:
    """Fractional bin of a peak by a parabola through the logs of its line and neighbours
    (nearly unbiased for the Hann window's main lobe)."""
    a, b, c = float(m[k - 1]), float(m[k]), float(m[k + 1])
    if b < a or b < c or min(a, c) <= 0:
        return float(k)
    a, b, c = math.log(a), math.log(b), math.log(c)
    den = a - 2 * b + c
    return k + (0.5 * (a - c) / den if den else 0.0)
