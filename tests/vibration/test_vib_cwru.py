"""Real records (tests/vibration/data, see PROVENANCE.md), each through the analyser as the
gateway runs it, with the alarm level that follows from the false-alarm rate (no level picked
for these records): CWRU 105 (inner race) and 130 (outer race), MFPT outer race at its own
48,828 Hz and decimated, raise one alarm naming the right defect; CWRU 97 (normal) raises none."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import signal
from vib_records import MFPT_RIG, SKF_6205, record

from gatewayd.analysis.alarms import Threshold
from gatewayd.analysis.spectrum import Analyzer, Spec

N = 4096
CODES = {"bpfo": 1, "bpfi": 2, "bsf": 3, "ftf": 4}


def verdicts(x: np.ndarray, fs: float, shaft_hz: float | None,
             bearing: dict[str, float] = SKF_6205) -> tuple[list[str], Analyzer]:
    a = Analyzer(Spec(fs, N, shaft_hz=shaft_hz, defects=bearing))
    alarm = Threshold("bearing_index", on=a.bearing_alarm_on, off=a.bearing_alarm_off,
                      persistence=1)  # debounced by its average: judged once per new average
    events = []
    for i in range(0, len(x) - N + 1, N // 2):
        v = a.run(x[i : i + N])
        if a.bearing_updated and (change := alarm.update(v[a.index["bearing_index"]])):
            events.append(f"{change}:{int(v[a.index['bearing_defect']])}")
    return events, a


def test_cwru_105_is_flagged_as_inner_race() -> None:
    """Record 105 at 12 kHz raises the bearing alarm once, naming BPFI near 162 Hz.
    (The envelope line is now looked for at the envelope spectrum's own line spacing, 1 Hz at
    most, not the window's 2.9 Hz.)"""
    x, fs, shaft = record("cwru105")
    events, a = verdicts(x, fs, shaft)
    assert events == [f"raised:{CODES['bpfi']}"]  # and it never clears
    env = a.envelope
    assert env is not None and env.df <= 1.0
    lo, hi = round(150 / env.df), round(175 / env.df)
    k = lo + int(np.argmax(env.spectrum[lo:hi]))
    assert k * env.df == pytest.approx(162.2, abs=2)  # BPFI, slipping a little
    assert a.values[a.index["kurtosis"]] > 4
    lines = a.evidence()["bpfi"]
    assert lines[0]["line"] == "1xBPFI" and lines[0]["over_background"] > a.bearing_alarm_on


def test_cwru_97_is_not_flagged() -> None:
    """Normal record 97, decimated from 48 kHz to 12 kHz, never raises the bearing alarm."""
    x, fs, shaft = record("cwru97")
    x = signal.decimate(x, 4, ftype="fir")
    events, a = verdicts(x, fs / 4, shaft)
    assert events == []
    assert a.values[a.index["iso_zone"]] == 1  # deep in zone A, as the README notes


def test_cwru_130_is_flagged_as_outer_race() -> None:
    """Record 130 (outer race, 0.007 in) raises one alarm naming BPFO."""
    x, fs, shaft = record("cwru130")
    events, _ = verdicts(x, fs, shaft)
    assert events == [f"raised:{CODES['bpfo']}"]


@pytest.mark.parametrize("decimate", [1, 4])
def test_mfpt_outer_race_at_its_own_rate_and_decimated(decimate: int) -> None:
    """MFPT's outer-race record at 48,828 Hz (lines were 12 Hz apart before) and at 12,207 Hz:
    both name BPFO within the record's three seconds."""
    x, fs, shaft = record("mfpt_or1")
    if decimate > 1:
        x, fs = signal.decimate(x, decimate, ftype="fir"), fs / decimate
    events, a = verdicts(x, fs, shaft, MFPT_RIG)
    assert events == [f"raised:{CODES['bpfo']}"]
    assert a.envelope is not None and a.envelope.df <= 1.0


def test_cwru_222_ball_fault_raises_but_names_no_wrong_defect() -> None:
    """Record 222 (ball, 0.021 in, a hard case): the bearing alarm raises, as it should, but
    its lines do not single out a defect, so the alarm says so (code 5, uncertain) and lists
    the candidates instead of naming inner race, the wrong part. (Its BPFO and BPFI combs pass
    the level largely on lines they share; the own lines of BPFI (1 x, + 1 x shaft), BPFO
    (1 x) and BSF (1 x, 2 x) differ by less than equally strong combs could by chance.)"""
    x, fs, shaft = record("cwru222")
    events, a = verdicts(x, fs, shaft)
    assert events == ["raised:5"]  # and it never clears, nor names a defect
    assert {"bpfi", "bpfo", "bsf"} <= {c[0] for c in a.candidates}  # the ball among them
    assert max(c[1] for c in a.candidates) >= a.bearing_alarm_on  # what raised the alarm


def test_named_records_have_one_candidate() -> None:
    """Where the lines do single out a defect (CWRU 105 and 130), it is the only candidate."""
    for name, defect in (("cwru105", "bpfi"), ("cwru130", "bpfo")):
        x, fs, shaft = record(name)
        _, a = verdicts(x, fs, shaft)
        assert [c[0] for c in a.candidates] == [defect]
