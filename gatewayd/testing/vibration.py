"""Physically plausible vibration signals with known answers, as functions of time (s) -> g.

A machine is a sum of shaft orders (1x, 2x, 3x), optional bearing-defect impulses that ring a
structural resonance (a decaying sine per impact), and Gaussian noise. An outer-race defect
is struck at BPFO with constant force; an inner-race defect at BPFI, amplitude-modulated at
shaft speed as it passes in and out of the load zone. Impact times jitter slightly (rolling
elements slip), which is what makes real bearing spectra need the envelope.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

SKF_6205 = {"bpfo": 3.5848, "bpfi": 5.4152, "bsf": 2.357, "ftf": 0.39828}  # x shaft speed


def sine(t: np.ndarray, amplitude_g: float, freq_hz: float, phase: float = 0.0) -> np.ndarray:
    return amplitude_g * np.sin(2 * np.pi * freq_hz * t + phase)


@dataclass
class Machine:
    """A rotating machine; `signal(t)` evaluates it at any sample times (seconds)."""

    shaft_hz: float = 29.95
    orders_g: tuple[float, ...] = (0.05, 0.02, 0.01)
    noise_g: float = 0.02
    defect: str | None = None  # "bpfo" or "bpfi"
    multiples: dict[str, float] = field(default_factory=lambda: dict(SKF_6205))
    impact_g: float = 1.0
    resonance_hz: float = 3000.0
    damping: float = 0.05
    modulation: float = 0.8  # inner race: depth of the load-zone modulation at shaft speed
    jitter: float = 0.01  # impact timing, fraction of the impact period
    seed: int = 1

    def __post_init__(self) -> None:
        self._rng = np.random.default_rng(self.seed)
        self._jitter = np.random.default_rng(self.seed + 1).normal(0, self.jitter, 4096)

    @property
    def defect_hz(self) -> float:
        return self.shaft_hz * self.multiples[self.defect] if self.defect else 0.0

    def signal(self, t: np.ndarray) -> np.ndarray:
        x = sum(
            (
                sine(t, a, (k + 1) * self.shaft_hz, phase=0.7 * k)
                for k, a in enumerate(self.orders_g)
            ),
            np.zeros(len(t)),
        )
        if self.defect:
            x += self._impacts(t)
        return x + self._rng.normal(0, self.noise_g, len(t))

    def _impacts(self, t: np.ndarray) -> np.ndarray:
        """Each sample rings from the last few impacts before it (the ring dies out in ~ms)."""
        period = 1 / self.defect_hz
        wn = 2 * np.pi * self.resonance_hz
        last = np.floor(t / period).astype(np.int64)
        out = np.zeros(len(t))
        for back in range(4):
            k = last - back
            tk = (k + self._jitter[k % len(self._jitter)]) * period
            age = t - tk
            force = self.impact_g * self._force(tk)
            ring = np.exp(-self.damping * wn * age) * np.sin(
                wn * np.sqrt(1 - self.damping**2) * age
            )
            out += np.where(age >= 0, force * ring, 0.0)
        return out

    def _force(self, tk: np.ndarray) -> np.ndarray:
        if self.defect != "bpfi":
            return np.ones(len(tk))
        return 1 + self.modulation * np.cos(2 * np.pi * self.shaft_hz * tk)
