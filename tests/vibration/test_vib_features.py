"""Feature correctness against signals with known answers and independent scipy computations."""

from __future__ import annotations

import math
import tracemalloc

import numpy as np
import pytest
from scipy import signal, stats

from gatewayd.analysis.ring import Ring
from gatewayd.analysis.spectrum import Analyzer, Spec
from gatewayd.testing.vibration import SKF_6205, Machine, sine

FS, N = 25_600, 4096


def window_of(x_fn, fs: float = FS, n: int = N) -> np.ndarray:
    return x_fn(np.arange(n) / fs)


def test_sine_gives_exact_rms_peak_and_velocity() -> None:
    """A 2 g sine at a line-centred 156.25 Hz: RMS 2/sqrt2, peak 2, velocity A*g/(2 pi f)/sqrt2."""
    f, amp = 25 * FS / N, 2.0
    v = Analyzer(Spec(FS, N, shaft_hz=f)).run(window_of(lambda t: sine(t, amp, f)))
    assert v[0] == pytest.approx(amp / math.sqrt(2), rel=1e-9)
    assert v[1] == pytest.approx(amp, rel=1e-9)
    assert v[2] == pytest.approx(math.sqrt(2), rel=1e-9)
    assert v[3] == pytest.approx(1.5, rel=1e-9)  # kurtosis of a sine
    expected = amp * 9806.65 / (2 * math.pi * f) / math.sqrt(2)
    assert v[4] == pytest.approx(expected, rel=5e-3)
    assert v[7] == pytest.approx(amp, rel=1e-6)  # 1x order amplitude


def test_gaussian_noise_has_kurtosis_near_three() -> None:
    """White Gaussian noise: kurtosis within sampling error of 3, crest factor of a few."""
    rng = np.random.default_rng(7)
    a = Analyzer(Spec(FS, N, shaft_hz=30))
    kurt = [a.run(rng.normal(0, 0.3, N))[3] for _ in range(50)]
    assert np.mean(kurt) == pytest.approx(3.0, abs=0.05)


def test_features_agree_with_scipy() -> None:
    """RMS, kurtosis, velocity (welch) and band RMS match independent scipy computations."""
    m = Machine(defect="bpfo", impact_g=0.3)
    x = window_of(m.signal)
    a = Analyzer(Spec(FS, N, shaft_hz=m.shaft_hz, bands_hz={"b": (1000.0, 5000.0)}))
    v = a.run(x)
    d = x - x.mean()
    assert v[0] == pytest.approx(np.std(x), rel=1e-9)
    assert v[3] == pytest.approx(stats.kurtosis(x, fisher=False), rel=1e-9)
    f, psd = signal.welch(d, FS, window="hann", nperseg=N, noverlap=0)
    sel = (f >= 10) & (f <= 1000)
    vel = math.sqrt(np.sum(psd[sel] / (2 * np.pi * f[sel]) ** 2) * (f[1] - f[0])) * 9806.65
    assert v[a.index["velocity_mm_s"]] == pytest.approx(vel, rel=1e-6)
    band = (f >= 1000) & (f <= 5000)
    assert v[a.index["band_b_g"]] == pytest.approx(
        math.sqrt(psd[band].sum() * (f[1] - f[0])), rel=1e-6
    )


def test_envelope_line_agrees_with_scipy_hilbert() -> None:
    """The averaged envelope spectrum peaks at BPFO, with the amplitude, like a scipy band-pass
    + Hilbert envelope of the whole signal does. (Changed with issue 13: the envelope spectrum
    now has its own line spacing, 1 Hz at most, and needs a few seconds of signal.)"""
    m = Machine(defect="bpfo", impact_g=0.5, noise_g=0.01)
    x = m.signal(np.arange(4 * FS) / FS)
    a = Analyzer(Spec(FS, N, shaft_hz=m.shaft_hz, defects=SKF_6205, envelope_band_hz=(2000, 4000),
                      whiten=False))
    for i in range(0, len(x) - N + 1, N // 2):
        a.run(x[i : i + N])
    sos = signal.butter(4, (2000, 4000), btype="bandpass", fs=FS, output="sos")
    env = np.abs(signal.hilbert(signal.sosfiltfilt(sos, x)))
    ref = np.abs(np.fft.rfft((env - env.mean()) * np.hanning(len(x)))) * 4 / len(x)
    ref_df = FS / len(x)
    ref_k = round(50 / ref_df) + int(np.argmax(ref[round(50 / ref_df) : round(200 / ref_df)]))
    ours, df = a.envelope.spectrum, a.envelope.df
    assert df <= 1.0
    our_k = round(50 / df) + int(np.argmax(ours[round(50 / df) : round(200 / df)]))
    assert our_k * df == pytest.approx(ref_k * ref_df, abs=df)
    assert our_k * df == pytest.approx(m.defect_hz, abs=df)
    assert ours[our_k] == pytest.approx(ref[ref_k], rel=0.25)


@pytest.mark.parametrize("defect, code", [("bpfo", 1), ("bpfi", 2)])
@pytest.mark.parametrize("fs", [25_600, 12_000])
def test_bearing_defect_is_identified(defect: str, code: int, fs: int) -> None:
    """Outer-race impacts are named BPFO, inner-race (AM at shaft speed) BPFI, index above the alarm
    level (4 s of signal since issue 13: the index comes from averaged spectra)."""
    m = Machine(defect=defect, impact_g=0.5)
    x = m.signal(np.arange(fs * 4) / fs)
    a = Analyzer(Spec(fs, N, shaft_hz=m.shaft_hz, defects=SKF_6205))
    for i in range(0, len(x) - N, N // 2):
        v = a.run(x[i : i + N])
    assert v[a.index["bearing_defect"]] == code
    assert v[a.index["bearing_index"]] > a.bearing_alarm_on


def test_healthy_machine_is_not_flagged() -> None:
    """Shaft orders and noise only: no averaged spectrum reaches the bearing alarm level.
    (Changed with issue 13: 6 s of signal, since the index needs four averaged 1 s spans, and
    the level is the one derived from the false-alarm rate instead of 3.0.)"""
    fs = 12_000
    x = Machine().signal(np.arange(fs * 6) / fs)
    a = Analyzer(Spec(fs, N, shaft_hz=29.95, defects=SKF_6205))
    index = [a.run(x[i : i + N])[a.index["bearing_index"]] for i in range(0, len(x) - N, N // 2)]
    assert np.isfinite(index).sum() >= 4  # the index was computed
    assert np.nanmax(index) < a.bearing_alarm_on


def test_shaft_speed_is_estimated_from_the_spectrum() -> None:
    """With no configured speed, the harmonic product finds 29.95 Hz within half a percent."""
    fs = 12_000
    x = Machine(noise_g=0.01).signal(np.arange(N) / fs)
    v = Analyzer(Spec(fs, N, shaft_search_hz=(10, 60))).run(x)
    assert v[6] == pytest.approx(29.95, rel=5e-3)


def test_iso_zone_follows_velocity() -> None:
    """A 10 mm/s RMS vibration at 50 Hz is zone D for a group 2 machine on a rigid foundation."""
    f = 8 * FS / N * 4  # 200 Hz, line-centred
    amp = 10 * math.sqrt(2) * 2 * math.pi * f / 9806.65
    v = Analyzer(Spec(FS, N, shaft_hz=f)).run(window_of(lambda t: sine(t, amp, f)))
    assert v[4] == pytest.approx(10, rel=5e-3)
    assert v[5] == 4


def test_no_memory_growth_over_thousands_of_windows() -> None:
    """Ring + analyser over 3,000 windows: no net growth, and under 4 KiB peak per window."""
    x = Machine(defect="bpfi").signal(np.arange(N * 4) / FS)
    a = Analyzer(Spec(FS, N, shaft_hz=29.95, defects=SKF_6205, bands_hz={"b": (10.0, 1000.0)}))
    ring, w = Ring(N, N // 2), np.zeros(N)
    block = x[:1024]

    def step(k: int) -> None:
        for _ in range(k):
            ring.write(block)
            while ring.window(w):
                a.run(w)

    step(64)  # warm caches
    tracemalloc.start()
    try:
        step(2000)  # what the first traced windows keep (numpy's internal caches) is kept once
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        step(6000)  # 3,000 windows
        after, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert after - before < 1024
    assert peak - before < 4096
