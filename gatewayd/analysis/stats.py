"""Null distribution of the bearing index, so its alarm level follows from a false-alarm rate.

Under Gaussian noise an averaged power-spectrum line is (nearly) a scaled chi-square variable:
each Hann segment's periodogram line is exponential, and Welch's average of K segments that
overlap by half has `welch_dof(K)` degrees of freedom. A line over its local background is then
Gamma(nu/2, 2/nu) (mean 1), the mean of L such lines at distinct frequencies is Gamma(L nu/2),
and the largest of m scanned candidates exceeds t with probability 1 - P(t)^m, at most m (1 - P(t)).
Pure Python: computed once when an analyser is built.
"""

from __future__ import annotations

import math

HANN_HALF_OVERLAP_CORRELATION = 0.1667  # Welch (1967): Hann windows overlapping by half


def welch_dof(segments: int, correlation: float = HANN_HALF_OVERLAP_CORRELATION) -> float:
    """Equivalent degrees of freedom of a Welch average of `segments` half-overlapping spectra."""
    k = segments
    return 2 * k / (1 + 2 * correlation**2 * (k - 1) / k)


def gamma_q(a: float, x: float) -> float:
    """Upper regularised incomplete gamma Q(a, x) = P(Gamma(a, 1) > x)."""
    if x <= 0:
        return 1.0
    log_front = a * math.log(x) - x - math.lgamma(a)
    if x < a + 1:  # lower series converges fast here
        term = total = 1.0 / a
        n = a
        for _ in range(1000):
            n += 1
            term *= x / n
            total += term
            if abs(term) < abs(total) * 1e-15:
                break
        return max(0.0, 1.0 - total * math.exp(log_front))
    # continued fraction for the upper tail (modified Lentz)
    tiny = 1e-300
    b = x + 1 - a
    c, d = 1 / tiny, 1 / b
    h = d
    for i in range(1, 1000):
        an = -i * (i - a)
        b += 2
        d = an * d + b
        d = tiny if abs(d) < tiny else d
        c = b + an / c
        c = tiny if abs(c) < tiny else c
        d = 1 / d
        delta = d * c
        h *= delta
        if abs(delta - 1) < 1e-15:
            break
    return math.exp(log_front) * h


def mean_ratio_quantile(lines: int, dof: float, candidates: int, alpha: float) -> float:
    """Level t that the largest of `candidates` means of `lines` line/background ratios (each
    chi-square with `dof` degrees of freedom over its mean) exceeds with probability `alpha`."""
    shape = lines * dof / 2  # the mean of the ratios is Gamma(shape, 1/shape)
    tail = -math.expm1(math.log1p(-alpha) / candidates)  # per-candidate exceedance
    lo, hi = 1.0, 2.0
    while gamma_q(shape, shape * hi) > tail:
        lo, hi = hi, hi * 2
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if gamma_q(shape, shape * mid) > tail else (lo, mid)
    return hi


def beta_i(a: float, b: float, x: float) -> float:
    """Regularised incomplete beta I_x(a, b) = P(Beta(a, b) <= x), by its continued fraction
    (evaluated on the side where it converges fast)."""
    if x <= 0:
        return 0.0
    if x >= 1:
        return 1.0
    log_front = (math.lgamma(a + b) - math.lgamma(a) - math.lgamma(b)
                 + a * math.log(x) + b * math.log1p(-x))
    if x > (a + 1) / (a + b + 2):
        return 1.0 - beta_i(b, a, 1.0 - x)
    tiny = 1e-300
    c, d = 1.0, 1.0 - (a + b) * x / (a + 1)
    d = 1 / (tiny if abs(d) < tiny else d)
    h = d
    for m in range(1, 1000):
        for num in (m * (b - m) * x / ((a + 2 * m - 1) * (a + 2 * m)),
                    -(a + m) * (a + b + m) * x / ((a + 2 * m) * (a + 2 * m + 1))):
            d = 1 + num * d
            d = 1 / (tiny if abs(d) < tiny else d)
            c = 1 + num / c
            c = tiny if abs(c) < tiny else c
            h *= d * c
        if abs(d * c - 1) < 1e-15:
            break
    return math.exp(log_front) * h / a


def ratio_quantile(dof_top: float, dof_other: float, alpha: float) -> float:
    """Level r that the ratio of two independent means of line/background ratios exceeds with
    probability `alpha` when both have the same expectation: the mean over lines with `dof_top`
    degrees of freedom in all over one with `dof_other` is then F(dof_top, dof_other)."""
    def upper(r: float) -> float:  # P(F >= r)
        return 1.0 - beta_i(dof_top / 2, dof_other / 2, dof_top * r / (dof_top * r + dof_other))
    lo, hi = 1.0, 2.0
    while upper(hi) > alpha:
        lo, hi = hi, hi * 2
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (mid, hi) if upper(mid) > alpha else (lo, mid)
    return hi
