"""Names of the features the analyser produces, without importing numpy: the config loader
needs them, and a gateway with no vibration sensor should not pay numpy's memory for them."""

from __future__ import annotations

HARMONICS = 3


def feature_names(bands: list[str], defects: list[str]) -> list[str]:
    """Every feature the analyser produces, in the order of `Analyzer.values`."""
    names = ["rms_g", "peak_g", "crest", "kurtosis", "velocity_mm_s", "iso_zone", "shaft_hz"]
    names += [f"order{h}_g" for h in range(1, HARMONICS + 1)]
    names += [f"band_{b}_g" for b in bands]
    if defects:
        names += ["env_band_hz", "bearing_index", "bearing_defect"]
    for d in defects:
        names += [f"{d}_{h}x_g" for h in range(1, HARMONICS + 1)] + [f"{d}_index"]
    return names
