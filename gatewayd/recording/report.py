"""A recording through the gateway's analyser, window by window, and the verdict at the end.

The same `Analyzer` and the same alarm (level from the false-alarm rate, judged once per
averaged envelope spectrum) as the vibration source: what this prints is what the gateway
would have published for the same signal."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from ..analysis.bearing import DEFECTS
from ..analysis.spectrum import UNCERTAIN, Analyzer, Spec
from ..points.alarms import Threshold

DEFECT_NAMES = {"bpfo": "outer race (BPFO)", "bpfi": "inner race (BPFI)",
                "bsf": "rolling element (BSF)", "ftf": "cage (FTF)"}
COLUMNS = ("rms_g", "peak_g", "crest", "kurtosis", "velocity_mm_s", "iso_zone", "shaft_hz",
           "env_band_hz", "bearing_index", "bearing_defect")


@dataclass
class Report:
    spec: Spec
    rows: list[dict[str, float]] = field(default_factory=list)  # one per window
    events: list[str] = field(default_factory=list)  # alarm changes, with their times
    alarm_on: float = math.nan
    alarm_off: float = math.nan
    spectrum_hz: np.ndarray | None = None  # the mean acceleration spectrum (g, peak)
    spectrum_g: np.ndarray | None = None
    envelope_hz: np.ndarray | None = None  # the last averaged envelope spectrum (g)
    envelope_g: np.ndarray | None = None
    band_hz: tuple[float, float] | None = None
    kurtosis: float = math.nan
    shaft_hz: float = math.nan
    defect: str | None = None  # the defect named by the last averaged spectrum
    # over the alarm level and not told apart by their own lines (one when a defect is named):
    # defect, index, mean over its own lines, how many own lines
    candidates: list[dict[str, object]] = field(default_factory=list)
    index: dict[str, float] = field(default_factory=dict)
    evidence: dict[str, list[dict[str, object]]] = field(default_factory=dict)
    alarm: bool = False  # the alarm's state at the end of the recording

    def verdict(self) -> str:
        if not self.index:
            return ("no verdict: the recording is too short for one averaged envelope spectrum "
                    f"({self.spec.envelope_averages} spans of 1/{self.spec.envelope_resolution_hz:g}"
                    " s overlapping by half)" if self.spec.defects else
                    "no bearing given: overall levels only")
        name = DEFECT_NAMES[self.defect] if self.defect else "none"
        value = self.index.get(self.defect or "", math.nan)
        if self.alarm and len(self.candidates) > 1:
            return (f"ALARM: bearing defect of uncertain type: {_candidates(self.candidates)} "
                    f"(raised at {self.alarm_on:.2f}; their own lines do not tell them apart at "
                    f"significance {self.spec.naming_significance:g})")
        if self.alarm:
            return (f"ALARM: {name}, index {value:.2f} (raised at {self.alarm_on:.2f}, a level "
                    f"noise reaches with probability {self.spec.false_alarm:g} per averaged "
                    f"spectrum; clears below {self.alarm_off:.2f})")
        return (f"no bearing defect: largest index {value:.2f} ({name}) under the alarm level "
                f"{self.alarm_on:.2f}")


def analyse(x: np.ndarray, spec: Spec, persistence: int = 1) -> Report:
    """Run every window of `x` (hop from `spec`) and collect features, alarms and spectra."""
    a = Analyzer(spec)
    n, hop = spec.window_len, a.hop
    if len(x) < n:
        raise ValueError(f"expected at least one window: {n} samples, the recording has {len(x)}")
    report = Report(spec, alarm_on=a.bearing_alarm_on, alarm_off=a.bearing_alarm_off)
    alarm = (Threshold("bearing_index", a.bearing_alarm_on, a.bearing_alarm_off, persistence)
             if a.finder else None)
    mean_mag = np.zeros(n // 2 + 1)
    windows = 0
    for start in range(0, len(x) - n + 1, hop):
        v = a.run(x[start : start + n])
        t = (start + n) / spec.fs_hz
        report.rows.append({"t_s": t, **{c: float(v[a.index[c]]) for c in COLUMNS
                                         if c in a.index}})
        mean_mag += a.mag
        windows += 1
        if a.bearing_updated:
            _keep_average(report, a)
        if alarm is not None and a.bearing_updated:
            change = alarm.update(float(v[a.index["bearing_index"]]))
            if change:
                code = int(v[a.index["bearing_defect"]])
                name = (DEFECT_NAMES[DEFECTS[code - 1]] if 0 < code < UNCERTAIN else
                        "uncertain type, " + _candidates(_candidate_dicts(a)) if code else "none")
                report.events.append(f"{t:8.2f} s  bearing alarm {change}: {name}, index "
                                     f"{v[a.index['bearing_index']]:.2f}")
    report.spectrum_hz = np.arange(n // 2 + 1) * a.df
    report.spectrum_g = mean_mag / windows * 2 / (n * float(a.w.mean()))
    report.shaft_hz = float(np.nanmedian([r["shaft_hz"] for r in report.rows]))
    env = a.envelope
    if env is not None and env.width and report.band_hz is None:
        report.band_hz, report.kurtosis = env.band_hz(), env.kurtosis
    report.alarm = bool(alarm and alarm.active)
    return report


def _keep_average(report: Report, a: Analyzer) -> None:
    """The latest averaged envelope spectrum and what it says (kept if the band changes later
    and the recording ends before a new average)."""
    env, finder = a.envelope, a.finder
    assert env is not None and finder is not None
    report.envelope_hz = np.arange(len(env.spectrum)) * env.df
    report.envelope_g = env.spectrum.copy()
    report.index = {d: float(finder.index[i]) for i, d in enumerate(a.defects)}
    code = int(a.values[a.index["bearing_defect"]])
    report.defect = DEFECTS[code - 1] if 0 < code < UNCERTAIN else None
    report.candidates = _candidate_dicts(a)
    report.evidence = a.evidence()
    report.shaft_hz = finder.shaft_hz
    report.band_hz, report.kurtosis = env.band_hz(), env.kurtosis


def _candidate_dicts(a: Analyzer) -> list[dict[str, object]]:
    return [{"defect": d, "index": round(index, 2), "own_lines_mean": round(own, 2),
             "own_lines": n} for d, index, own, n in a.candidates]


def _candidates(candidates: list[dict[str, object]]) -> str:
    return " or ".join(f"{DEFECT_NAMES[str(c['defect'])]} (index {c['index']:.2f})"
                       for c in candidates)


def table(report: Report) -> str:
    """Features per window as aligned text (one line per window)."""
    cols = ["t_s", *[c for c in COLUMNS if report.rows and c in report.rows[0]]]
    lines = [" ".join(f"{c:>13}" for c in cols)]
    for r in report.rows:
        lines.append(" ".join(_cell(r[c]) for c in cols))
    return "\n".join(lines)


def _cell(x: float) -> str:
    return f"{'-':>13}" if x != x else f"{x:13.4g}"


def summary(report: Report) -> str:
    out = []
    if report.band_hz:
        lo, hi = report.band_hz
        out.append(f"envelope band {lo:.0f}-{hi:.0f} Hz (spectral kurtosis {report.kurtosis:.2f})")
    out.append(f"shaft speed {report.shaft_hz:.2f} Hz")
    if report.index:
        out.append("defect indices (mean line power over background, alarm at "
                   f"{report.alarm_on:.2f}): "
                   + ", ".join(f"{d} {v:.2f}" for d, v in report.index.items()))
        shown = ([report.defect] if report.defect and len(report.candidates) <= 1 else
                 [str(c["defect"]) for c in report.candidates])
        for defect in shown:
            out.append(f"evidence for {DEFECT_NAMES[defect]}:")
            for e in report.evidence.get(defect, []):
                flag = ("  (ambiguous: a shaft order or mains could sit here; not counted)"
                        if e["ambiguous"] else
                        "  (another defect's lines fall here too)" if e["shared"] else "")
                out.append(f"  {e['line']:<11} {e['hz']:8.2f} Hz  {e['amplitude_g']:.4g} g  "
                           f"{e['over_background']:.2f} x background{flag}")
    out += report.events
    out.append("verdict: " + report.verdict())
    return "\n".join(out)
