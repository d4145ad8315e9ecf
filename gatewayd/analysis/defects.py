"""Bearing defects found in an averaged envelope spectrum: a comb of lines per defect, scanned
over the slip range, each line measured over its local background.

Each defect has four lines (multiples of shaft speed):
    bpfo  1, 2, 3, 4 x BPFO                  (outer race: impacts at a steady rate)
    bpfi  1, 2 x BPFI, BPFI -+ 1 x shaft      (inner race: the defect turns with the shaft)
    bsf   1, 2 x BSF, 2 x BSF -+ FTF          (ball: hits both races each spin, carried by the cage)
    ftf   1, 2, 3, 4 x FTF                    (cage)
A line's ratio is its averaged envelope power over the background there: the mean of the
lines around it, each clipped at CLIP times that mean so other lines barely count (under noise
a line passes CLIP times the mean a few times in a thousand: the mean is nearly unbiased).
The comb is scanned over `tolerance` (rolling elements slip, speed estimates err): the index
is the largest mean ratio over the scan. A candidate position within two lines of a shaft
order or one line of a mains harmonic (mains sits exactly on its harmonics), and a line past
the envelope band, count as 1 (no evidence either way) and are reported as ambiguous.

A line one defect's comb shares with another's (the SKF 6205's 3 x BPFO and 2 x BPFI are 0.7 %
apart) counts for both in the index, which decides the alarm; `specific`, the index without
shared lines, decides which defect it is.

With every defect sharing the number of lines and scan steps, one alarm level serves them all,
derived from a false-alarm rate in stats.py.
"""

from __future__ import annotations

import math

import numpy as np

from . import stats
from .bearing import DEFECTS

LINES = 4
BACKGROUND_LINES = 25  # half-width of the neighbourhood whose (clipped) mean is the background
CLIP = 3.0
FIRST_LINE = 3  # lower envelope lines carry the span's own taper and slow drifts
SIDEBAND_MARGIN_LINES = 2  # Hann main lobe half-width: where a shaft-order line still leaks
MAINS_MARGIN_LINES = 1  # mains sits exactly on its harmonics: its line and the next ones


def comb(defect: str, multiples: dict[str, float]) -> tuple[list[float], list[str]]:
    """Line positions (x shaft speed) and labels of one defect."""
    d = multiples[defect]
    up = defect.upper()
    if defect == "bpfi":
        return [d, 2 * d, d - 1, d + 1], [f"1x{up}", f"2x{up}", f"{up}-1x", f"{up}+1x"]
    if defect == "bsf" and "ftf" in multiples:
        c = multiples["ftf"]
        return [d, 2 * d, 2 * d - c, 2 * d + c], [f"1x{up}", f"2x{up}", f"2x{up}-FTF",
                                                   f"2x{up}+FTF"]
    return [h * d for h in range(1, LINES + 1)], [f"{h}x{up}" for h in range(1, LINES + 1)]


class DefectFinder:
    """Preallocated comb scan over `power`, an averaged envelope power spectrum."""

    def __init__(self, multiples: dict[str, float], tolerance: float, averages: int,
                 top_shaft_hz: float, resolution_hz: float, false_alarm: float,
                 mains_hz: tuple[float, ...] = ()) -> None:
        self.defects = [d for d in DEFECTS if d in multiples]
        combs = [comb(d, multiples) for d in self.defects]
        self.labels = [c[1] for c in combs]
        self.multiples = np.array([c[0] for c in combs]).ravel()  # (defects * LINES,)
        self.tolerance, self.mains_hz = tolerance, mains_hz
        top = float(self.multiples.max()) * top_shaft_hz
        self.candidates = 2 * math.ceil(tolerance * top / resolution_hz) + 1
        self.scale = np.linspace(1 - tolerance, 1 + tolerance, self.candidates)
        self.dof = stats.welch_dof(averages)
        per_defect = false_alarm / max(1, len(self.defects))
        self.alarm_on = stats.mean_ratio_quantile(LINES, self.dof, self.candidates, per_defect)
        self.alarm_off = stats.mean_ratio_quantile(LINES, self.dof, self.candidates, 0.05)
        n, m = len(self.multiples), self.candidates
        # every array below is laid out so that each step is a plain element-wise numpy call
        # on equal shapes: numpy allocates buffers for broadcast operations with `out`
        self._comb_lines = np.outer(self.multiples, self.scale)  # (lines, candidates)
        self._pos = np.zeros((n, m))
        self._idx = np.zeros((n, m), np.intp)
        self._ratio = np.zeros((n, m))
        self._near = np.zeros((n, m))  # work arrays of the foreign-line test
        self._order = np.zeros((n, m))
        self._hit = np.zeros((n, m), bool)
        self._real = np.zeros((n, m), bool)
        self.excluded = np.zeros((n, m), bool)  # candidate positions a foreign line could hold
        self._combs = np.zeros((len(self.defects), m))
        width = 2 * BACKGROUND_LINES + 1
        self._hood_lines = np.repeat(self.multiples, width).reshape(n, width)
        self._hood_offsets = np.tile(np.arange(-BACKGROUND_LINES, BACKGROUND_LINES + 1.0), (n, 1))
        self._hood = np.zeros((n, width))
        self._hood_idx = np.zeros((n, width), np.intp)
        self.background = np.zeros(n)
        self.shared = self._shared_lines(tolerance)
        self._shared_rows = [int(j) for j in np.flatnonzero(self.shared)]
        self._own = np.zeros((n, m))
        self.specific = np.full(len(self.defects), np.nan)  # index without shared lines
        self.own_best = np.zeros(len(self.defects), np.intp)  # scan step of `specific`
        self.best = np.zeros(len(self.defects), np.intp)  # scan step of each defect's best comb
        self.index = np.full(len(self.defects), np.nan)
        self.shaft_hz = math.nan
        self.df = math.nan

    def run(self, power: np.ndarray, df: float, shaft_hz: float, usable_hz: float) -> None:
        """Fill `index` (NaN where the comb's first line cannot be resolved)."""
        self.shaft_hz, self.df = shaft_hz, df
        per_line = shaft_hz / df  # line number of 1 x shaft speed
        last = len(power) - 1
        np.multiply(self._hood_lines, per_line, out=self._hood)
        np.add(self._hood, self._hood_offsets, out=self._hood)
        np.rint(self._hood, out=self._hood)
        np.clip(self._hood, FIRST_LINE, last, out=self._hood)
        self._hood_idx[...] = self._hood
        np.take(power, self._hood_idx, out=self._hood, mode="clip")
        # a mean with other lines clipped (no median: sorting allocates), row by row where a
        # broadcast would allocate
        np.mean(self._hood, axis=1, out=self.background)
        for row, level in zip(self._hood, self.background, strict=True):
            np.minimum(row, CLIP * float(level), out=row)
        np.mean(self._hood, axis=1, out=self.background)
        np.multiply(self._comb_lines, per_line, out=self._pos)
        np.rint(self._pos, out=self._pos)
        np.clip(self._pos, 0, last, out=self._pos)
        self._exclude(df, shaft_hz, min(usable_hz, last * df))
        self._idx[...] = self._pos
        np.take(power, self._idx, out=self._ratio, mode="clip")
        for j, row in enumerate(self._ratio):
            np.multiply(row, 1 / max(float(self.background[j]), 1e-300), out=row)
        np.copyto(self._ratio, 1.0, where=self.excluded)
        shape = (len(self.defects), LINES, self.candidates)
        np.mean(self._ratio.reshape(shape), axis=1, out=self._combs)
        np.argmax(self._combs, axis=1, out=self.best)
        np.max(self._combs, axis=1, out=self.index)
        # the same without the lines another defect's comb shares: which defect it is
        np.copyto(self._own, self._ratio)
        for j in self._shared_rows:
            self._own[j].fill(1.0)
        np.mean(self._own.reshape(shape), axis=1, out=self._combs)
        np.max(self._combs, axis=1, out=self.specific)
        np.argmax(self._combs, axis=1, out=self.own_best)
        for i in range(len(self.defects)):
            first = float(self.multiples[i * LINES : (i + 1) * LINES].min()) * per_line
            if first * (1 - self.tolerance) < FIRST_LINE + SIDEBAND_MARGIN_LINES:
                self.index[i] = self.specific[i] = math.nan

    def _exclude(self, df: float, shaft_hz: float, usable_hz: float) -> None:
        """Candidate positions within SIDEBAND_MARGIN_LINES of a shaft order or a mains
        harmonic, or past the envelope band: an envelope line there need not be the bearing's."""
        near, order, hit, excl = self._near, self._order, self._hit, self.excluded
        np.greater(self._pos, usable_hz / df, out=excl)
        for base in (shaft_hz, *self.mains_hz):
            margin = SIDEBAND_MARGIN_LINES if base is shaft_hz else MAINS_MARGIN_LINES
            np.multiply(self._pos, df / base, out=near)  # position in orders of `base`
            np.rint(near, out=order)
            np.subtract(near, order, out=near)
            np.abs(near, out=near)
            np.less(near, (margin + 0.5) * df / base, out=hit)
            np.greater_equal(order, 1, out=self._real)
            np.logical_and(hit, self._real, out=hit)
            np.logical_or(excl, hit, out=excl)

    def _shared_lines(self, tolerance: float) -> np.ndarray:
        """Lines one defect's comb shares with another defect's comb or with a harmonic of
        another rolling-element defect's rate (for the SKF 6205, 3 x BPFO and 2 x BPFI are
        0.7 % apart, 2 x BPFO and 3 x BSF 1.4 %): evidence for neither, whatever the speed.
        The cage's harmonics are left out: they lie so close together that every line of
        every comb would sit near one (the cage yields to the others when naming instead)."""
        m = self.multiples
        own = np.repeat(np.arange(len(self.defects)), LINES)
        family, owner = [float(x) for x in m], [int(i) for i in own]
        top = float(m.max()) * (1 + 2 * tolerance)
        for i, d in enumerate(self.defects):
            rate = float(m[i * LINES]) if d != "bsf" else min(m[i * LINES : (i + 1) * LINES])
            if d == "ftf" or rate <= 0:
                continue
            for k in range(1, int(top / rate) + 2):
                family.append(k * rate)
                owner.append(i)
        f, o = np.array(family), np.array(owner)
        close = np.abs(m[:, None] - f[None, :]) <= 2 * tolerance * np.maximum(m[:, None], f)
        close &= own[:, None] != o[None, :]
        shared: np.ndarray = close.any(axis=1)
        return shared

    def own_lines(self, defect: int) -> tuple[float, int]:
        """Mean ratio over the defect's own lines (neither shared with another comb nor
        ambiguous) at the scan step of its `specific` index, and how many there are: the
        evidence that tells this defect from the others. (NaN, 0) without own lines."""
        step, total, count = int(self.own_best[defect]), 0.0, 0
        for col in range(defect * LINES, (defect + 1) * LINES):
            if not (self.shared[col] or self.excluded[col, step]):
                total, count = total + float(self._ratio[col, step]), count + 1
        return (total / count if count else math.nan), count

    def amplitude_at(self, spectrum: np.ndarray, defect: int, multiple: float) -> float:
        """Envelope amplitude at `multiple` x shaft speed, slipped as the defect's best comb."""
        k = round(multiple * self.shaft_hz * self.scale[self.best[defect]] / self.df)
        if not FIRST_LINE <= k < len(spectrum) - 1:
            return math.nan
        return float(spectrum[k - 1 : k + 2].max())

    def evidence(self, spectrum: np.ndarray) -> dict[str, list[dict[str, object]]]:
        """Per defect: each line's label, frequency, amplitude (g) and ratio over background."""
        out: dict[str, list[dict[str, object]]] = {}
        for i, d in enumerate(self.defects):
            step = int(self.best[i])
            lines = []
            for j in range(LINES):
                col = i * LINES + j
                k = int(self._idx[col, step])
                lines.append({
                    "line": self.labels[i][j],
                    "hz": round(k * self.df, 2),
                    "amplitude_g": float(spectrum[k]) if k < len(spectrum) else math.nan,
                    "over_background": round(float(self._ratio[col, step]), 2),
                    "ambiguous": bool(self.excluded[col, step]),
                    "shared": bool(self.shared[col]),
                })
            out[d] = lines
        return out
