"""Window functions (periodic, for spectral analysis) and the corrections they need."""

from __future__ import annotations

import numpy as np

# Cosine-sum coefficients (Harris 1978; flat top as in ISO 18431-2 / common analyser practice).
COSINE_SUMS: dict[str, tuple[float, ...]] = {
    "rect": (1.0,),
    "hann": (0.5, 0.5),
    "hamming": (0.54, 0.46),
    "blackman": (0.42, 0.5, 0.08),
    "flattop": (0.21557895, 0.41663158, 0.277263158, 0.083578947, 0.006947368),
}


def make_window(name: str, n: int) -> np.ndarray:
    """A periodic window of length n (the DFT-even form: no repeated end sample)."""
    if name not in COSINE_SUMS:
        raise ValueError(f"expected a window among {', '.join(COSINE_SUMS)}")
    phase = 2 * np.pi * np.arange(n) / n
    w = np.zeros(n)
    for k, a in enumerate(COSINE_SUMS[name]):
        w += (-1) ** k * a * np.cos(k * phase)
    return w


def coherent_gain(w: np.ndarray) -> float:
    """Mean of the window: divides a sine's spectral peak to give its amplitude."""
    return float(w.mean())


def power_gain(w: np.ndarray) -> float:
    """Mean square of the window: divides summed spectral power to give mean square."""
    return float(np.mean(w * w))
