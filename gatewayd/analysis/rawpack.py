"""One raw window packed for an alarm event: int16 scaled to the window's peak, then zlib."""

from __future__ import annotations

import zlib

import numpy as np


def pack_window(x: np.ndarray, fs_hz: float) -> dict[str, object]:
    """Fields to attach to an event; `unpack_window` inverts it to within scale/2."""
    peak = float(np.max(np.abs(x))) or 1.0
    scale = peak / 32767
    q = np.round(x / scale).astype("<i2")
    return {
        "fs_hz": fs_hz,
        "scale": scale,
        "n": len(x),
        "zlib_i16le": zlib.compress(q.tobytes(), 6),
    }


def unpack_window(fields: dict[str, object]) -> np.ndarray:
    raw = zlib.decompress(fields["zlib_i16le"])  # type: ignore[arg-type]
    samples: np.ndarray = np.frombuffer(raw, dtype="<i2").astype(np.float64)
    scaled: np.ndarray = samples * float(fields["scale"])  # type: ignore[arg-type]
    return scaled
