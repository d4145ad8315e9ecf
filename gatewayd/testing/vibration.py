"""Physically plausible vibration signals with known answers, as functions of time (s) -> g.

A machine is a sum of shaft orders (1x, 2x, 3x), optional bearing-defect impulses that ring a
structural resonance (a decaying sine per impact), and Gaussian noise. An outer-race defect
is struck at BPFO with constant force; an inner-race defect at BPFI, amplitude-modulated at
shaft speed as it passes in and out of the load zone. A ball defect strikes both races once per
ball spin (2 x BSF), the inner- and outer-race hits of unequal strength (so 1 x BSF shows too),
amplitude-modulated at the cage speed FTF as the cage carries the ball through the load zone.
Impact times jitter (rolling elements slip) and `slip` lowers the mean rate below the
kinematic one, which is what makes real bearing spectra need the envelope and a tolerance.
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
    defect: str | None = None  # "bpfo", "bpfi" or "bsf"
    multiples: dict[str, float] = field(default_factory=lambda: dict(SKF_6205))
    impact_g: float = 1.0
    resonance_hz: float = 3000.0
    damping: float = 0.05
    modulation: float = 0.8  # inner race: depth of the load-zone modulation at shaft speed
    jitter: float = 0.01  # impact timing, fraction of the impact period
    slip: float = 0.0  # the defect rate falls short of the kinematic one by this fraction
    seed: int = 1

    def __post_init__(self) -> None:
        self._rng = np.random.default_rng(self.seed)
        self._jitter = np.random.default_rng(self.seed + 1).normal(0, self.jitter, 4096)

    @property
    def defect_hz(self) -> float:
        """Rate of the impacts (2 x BSF for a ball: it strikes both races each spin)."""
        if not self.defect:
            return 0.0
        hits = 2 if self.defect == "bsf" else 1
        return hits * self.shaft_hz * self.multiples[self.defect] * (1 - self.slip)

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
            if self.defect == "bsf":  # inner- and outer-race hits alternate, unequal
                force = force * np.where(k % 2 == 0, 1.0, 0.6)
            ring = np.exp(-self.damping * wn * age) * np.sin(
                wn * np.sqrt(1 - self.damping**2) * age
            )
            out += np.where(age >= 0, force * ring, 0.0)
        return out

    def _force(self, tk: np.ndarray) -> np.ndarray:
        if self.defect == "bpfi":  # the defect turns with the shaft through the load zone
            return 1 + self.modulation * np.cos(2 * np.pi * self.shaft_hz * tk)
        if self.defect == "bsf":  # the ball is carried round by the cage
            cage = self.shaft_hz * self.multiples["ftf"]
            return 1 + self.modulation * np.cos(2 * np.pi * cage * tk)
        return np.ones(len(tk))
