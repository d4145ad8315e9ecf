"""The real records the vibration tests use, from tests/vibration/data (see PROVENANCE.md there):
one channel each, float32, so a fresh clone tests with no data beside the repository."""

from __future__ import annotations

from pathlib import Path

import numpy as np

DATA = Path(__file__).resolve().parent / "data"

# Defect frequencies as multiples of shaft speed (PROVENANCE.md).
SKF_6205 = {"bpfo": 3.5848, "bpfi": 5.4152, "bsf": 2.3567, "ftf": 0.39828}  # CWRU drive end
MFPT_RIG = {"bpfo": 3.2450, "bpfi": 4.7550, "bsf": 2.5546, "ftf": 0.40562}

# name: (file, sample rate Hz, shaft Hz from the record)
RECORDS: dict[str, tuple[str, float, float]] = {
    "cwru97": ("cwru_97_de.npy", 48_000.0, 1796 / 60),
    "cwru105": ("cwru_105_de.npy", 12_000.0, 1797 / 60),
    "cwru130": ("cwru_130_de.npy", 12_000.0, 1796 / 60),
    "cwru222": ("cwru_222_de.npy", 12_000.0, 1796 / 60),
    "mfpt_or1": ("mfpt_outer_race_vload_1.npy", 48_828.0, 25.0),
}


def record(name: str) -> tuple[np.ndarray, float, float]:
    """(samples in g as float64, sample rate Hz, shaft speed Hz)."""
    file, fs, shaft = RECORDS[name]
    return np.load(DATA / file).astype(np.float64), fs, shaft
