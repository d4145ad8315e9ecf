"""The two real CWRU records: 105 (inner-race fault) flagged as BPFI, 97 (normal) not flagged."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal
from vib_records import SKF_6205, record

from gatewayd.analysis.alarms import Threshold
from gatewayd.analysis.spectrum import Analyzer, Spec

N = 4096


def verdicts(x: np.ndarray, fs: float, shaft_hz: float) -> tuple[list[str], Analyzer]:
    a = Analyzer(Spec(fs, N, shaft_hz=shaft_hz, defects=SKF_6205))
    alarm = Threshold("bearing_index", on=3.0, off=2.0, persistence=3)
    events = []
    for i in range(0, len(x) - N, N // 2):
        v = a.run(x[i : i + N])
        if change := alarm.update(v[a.index["bearing_index"]]):
            events.append(f"{change}:{int(v[a.index['bearing_defect']])}")
    return events, a


def test_cwru_105_is_flagged_as_inner_race() -> None:
    """Record 105 at 12 kHz raises the bearing alarm once, naming BPFI near 162 Hz."""
    x, _, shaft = record("cwru105")
    events, a = verdicts(x, 12_000, shaft)
    assert events == ["raised:2"]  # 2 = bpfi, and it never clears
    k = np.argmax(a.envelope.spectrum[40:70]) + 40
    assert k * a.df == pytest.approx(162.2, abs=2 * a.df)
    assert a.values[a.index["kurtosis"]] > 4


def test_cwru_97_is_not_flagged() -> None:
    """Normal record 97, decimated from 48 kHz to 12 kHz, never raises the bearing alarm."""
    x, _, shaft = record("cwru97")
    x = signal.decimate(x, 4, ftype="fir")
    events, a = verdicts(x, 12_000, shaft)
    assert events == []
    assert a.values[a.index["iso_zone"]] == 1  # deep in zone A, as the README notes
