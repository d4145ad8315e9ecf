"""Recordings in: one channel of samples, with what the file says about its rate and speed."""

from __future__ import annotations

import csv
import wave
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np


@dataclass
class Recording:
    samples: np.ndarray  # float64, in the file's unit (scaled by the caller's --scale)
    fs_hz: float | None  # None: the file does not say
    shaft_hz: float | None
    channel: str


class RecordingError(ValueError):
    """A file that cannot be read as a recording; the message says what was expected."""


def read(path: Path, channel: str | None = None) -> Recording:
    suffix = path.suffix.lower()
    if suffix == ".wav":
        return _wav(path, channel)
    if suffix in (".csv", ".txt"):
        return _csv(path, channel)
    if suffix == ".mat":
        return _mat(path, channel)
    raise RecordingError(f"{path.name}: expected a .wav, .csv or .mat file")


def _wav(path: Path, channel: str | None) -> Recording:
    try:
        with wave.open(str(path), "rb") as w:
            width, channels, fs = w.getsampwidth(), w.getnchannels(), w.getframerate()
            raw = w.readframes(w.getnframes())
    except (wave.Error, EOFError) as e:  # e.g. IEEE-float WAV, which the stdlib does not read
        return _wav_float(path, channel, e)
    if width == 3:  # 24-bit: widen to 32 bits
        b = np.frombuffer(raw, np.uint8).reshape(-1, 3)
        data = (b[:, 0].astype(np.int32) << 8 | b[:, 1].astype(np.int32) << 16
                | b[:, 2].astype(np.int32) << 24) >> 8
        full = 2.0**23
    else:
        kinds = {1: (np.uint8, 128.0), 2: (np.int16, 2.0**15), 4: (np.int32, 2.0**31)}
        if width not in kinds:
            raise RecordingError(f"{path.name}: expected 8-, 16-, 24- or 32-bit PCM")
        kind, full = kinds[width]
        data = np.frombuffer(raw, kind).astype(np.int64)
        if width == 1:
            data = data - 128
    pick = _channel_index(channel, channels, path)
    x = data.reshape(-1, channels)[:, pick].astype(np.float64) / full  # full scale = 1.0
    return Recording(x, float(fs), None, f"channel {pick}")


def _wav_float(path: Path, channel: str | None, cause: Exception) -> Recording:
    try:
        from scipy.io import wavfile
    except ImportError:
        raise RecordingError(f"{path.name}: {cause} (float WAV needs the analyze extra)") from None
    fs, data = wavfile.read(str(path))
    data = np.asarray(data, np.float64)
    if data.ndim == 1:
        data = data[:, None]
    pick = _channel_index(channel, data.shape[1], path)
    return Recording(data[:, pick], float(fs), None, f"channel {pick}")


def _channel_index(channel: str | None, channels: int, path: Path) -> int:
    pick = int(channel) if channel is not None else 0
    if not 0 <= pick < channels:
        raise RecordingError(f"{path.name}: channel {pick} of {channels} (0..{channels - 1})")
    return pick


def _csv(path: Path, channel: str | None) -> Recording:
    """Numbers in columns; a header row names them. `channel` is a name or a column number;
    default: the last column (a first column is usually time)."""
    with path.open(newline="") as f:
        rows = [r for r in csv.reader(f) if r and not r[0].lstrip().startswith("#")]
    if not rows:
        raise RecordingError(f"{path.name}: expected rows of numbers")
    header: list[str] | None = None
    try:
        float(rows[0][-1])
    except ValueError:
        header, rows = [h.strip() for h in rows[0]], rows[1:]
    try:
        table = np.array([[float(v) for v in r] for r in rows])
    except ValueError as e:
        raise RecordingError(f"{path.name}: expected numbers ({e})") from None
    if table.ndim != 2 or not len(table):
        raise RecordingError(f"{path.name}: expected rows of numbers")
    if channel is None:
        col = table.shape[1] - 1
    elif header and channel in header:
        col = header.index(channel)
    elif channel.isdigit() and int(channel) < table.shape[1]:
        col = int(channel)
    else:
        raise RecordingError(f"{path.name}: no column {channel!r} (columns: {header or table.shape[1]})")
    fs = None
    if header and header[0].lower().startswith("t") and table.shape[0] > 1:  # a time column
        span = float(table[-1, 0] - table[0, 0])
        fs = (table.shape[0] - 1) / span if span > 0 else None
    name = header[col] if header else f"column {col}"
    return Recording(table[:, col], fs, None, name)


def _mat(path: Path, channel: str | None) -> Recording:
    """MATLAB 5 files, as the CWRU and MFPT bearing data sets publish them. CWRU: variables
    `X<nnn>_DE_time` (drive end; FE, BA the others) and `X<nnn>RPM`. MFPT: a struct `bearing`
    with `gs` (samples), `sr` (rate) and `rate` (shaft Hz)."""
    try:
        from scipy.io import loadmat
    except ImportError:
        raise RecordingError(".mat files need scipy: pip install 'gatewayd[analyze]'") from None
    try:
        data: dict[str, Any] = loadmat(str(path))
    except (ValueError, OSError, NotImplementedError) as e:
        raise RecordingError(f"{path.name}: not a MATLAB 5 file scipy reads ({e})") from None
    names = [k for k in data if not k.startswith("__")]
    if "bearing" in data and data["bearing"].dtype.names:  # MFPT
        s = data["bearing"][0, 0]
        fields = s.dtype.names
        pick = channel or ("gs" if "gs" in fields else fields[0])
        if pick not in fields:
            raise RecordingError(f"{path.name}: no field {pick!r} in bearing ({', '.join(fields)})")
        fs = float(np.ravel(s["sr"])[0]) if "sr" in fields else None
        shaft = float(np.ravel(s["rate"])[0]) if "rate" in fields else None
        return Recording(np.ravel(s[pick]).astype(np.float64), fs, shaft, f"bearing.{pick}")
    arrays = [k for k in names if isinstance(data[k], np.ndarray) and data[k].size > 1000]
    if channel is None:
        drive_end = [k for k in arrays if k.endswith("_DE_time")]
        channel = drive_end[0] if drive_end else (max(arrays, key=lambda k: data[k].size)
                                                   if arrays else None)
    if channel not in data:
        raise RecordingError(f"{path.name}: no variable {channel!r} (variables: {', '.join(names)})")
    rpm = [k for k in names if k.endswith("RPM")]
    shaft = float(np.ravel(data[rpm[0]])[0]) / 60 if rpm else None
    return Recording(np.ravel(data[channel]).astype(np.float64), None, shaft, channel)
