"""Vibration analysis throughput and allocation, beside a straightforward scipy version.

25.6 kHz, 4,096-sample windows, 50 % overlap, every feature including the envelope stream
(kurtogram band, whitening, 1 Hz envelope lines averaged over four spans, defect combs).
Prints channel-seconds analysed per CPU-second for both, the tracemalloc peak above the
preallocated state while one window is analysed, the growth over 3,000 windows, and the same
throughput at 51.2 kHz. Last line is the key=value summary with the targets.
"""

from __future__ import annotations

import time
import tracemalloc

import numpy as np
from scipy import signal, stats

from gatewayd.analysis.ring import Ring
from gatewayd.analysis.spectrum import Analyzer, Spec
from gatewayd.testing.vibration import SKF_6205, Machine

FS, N, HOP, SECONDS, REPEATS = 25_600, 4096, 2048, 8, 5
BANDS = {"low": (10.0, 1000.0), "mid": (1000.0, 5000.0), "high": (5000.0, 12000.0)}
SHAFT = 29.95


def naive(x: np.ndarray, sos: np.ndarray) -> dict[str, float]:
    """The same features written the obvious way: welch, butter + hilbert, fresh arrays."""
    d = x - x.mean()
    rms, peak = float(np.sqrt(np.mean(d**2))), float(np.max(np.abs(d)))
    f, psd = signal.welch(d, FS, window="hann", nperseg=N, noverlap=0, scaling="density")
    sel = (f >= 10) & (f <= 1000)
    vel = np.sqrt(np.sum(psd[sel] / (2 * np.pi * f[sel]) ** 2) * (f[1] - f[0])) * 9806.65
    out = {
        "rms": rms,
        "peak": peak,
        "crest": peak / rms,
        "kurt": float(stats.kurtosis(d, fisher=False)),
    }
    out["vel"] = float(vel)
    for name, (lo, hi) in BANDS.items():
        out[name] = float(np.sqrt(np.sum(psd[(f >= lo) & (f < hi)]) * (f[1] - f[0])))
    env = np.abs(signal.hilbert(signal.sosfiltfilt(sos, d)))
    spec = np.abs(np.fft.rfft((env - env.mean()) * np.hanning(N)))
    for name, m in SKF_6205.items():
        k = round(m * SHAFT * N / FS)
        out[name] = float(spec[k - 1 : k + 2].max())
    return out


def per_cpu_second(run: object, x: np.ndarray) -> float:
    """Channel-seconds analysed per CPU-second (windows x hop / fs over process time)."""
    windows = 0
    t0 = time.process_time()
    for _ in range(REPEATS):
        for i in range(0, len(x) - N + 1, HOP):
            run(x[i : i + N])  # type: ignore[operator]
            windows += 1
    return windows * HOP / FS / (time.process_time() - t0)


def ring_run(analyzer: Analyzer, x: np.ndarray) -> float:
    """The in-place path as the source runs it: blocks into the ring, windows out of it."""
    ring, window, windows = Ring(N, HOP, capacity=4 * N), np.zeros(N), 0
    t0 = time.process_time()
    for _ in range(REPEATS):
        for i in range(0, len(x), 1024):
            ring.write(x[i : i + 1024])
            while ring.window(window):
                analyzer.run(window)
                windows += 1
    return windows * HOP / FS / (time.process_time() - t0)


def peak_alloc(analyzer: Analyzer, x: np.ndarray) -> int:
    tracemalloc.start()
    worst = 0
    for i in range(0, 20 * HOP, HOP):
        window = x[i : i + N]
        base = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        analyzer.run(window)
        worst = max(worst, tracemalloc.get_traced_memory()[1] - base)
    tracemalloc.stop()
    return worst


def growth(analyzer: Analyzer, x: np.ndarray, windows: int = 3000) -> int:
    """Bytes still held after `windows` more windows than before them (numpy caches warm)."""
    def step(count: int) -> None:
        for k in range(count):
            i = (k * HOP) % (len(x) - N)
            analyzer.run(x[i : i + N])

    step(200)
    tracemalloc.start()
    step(200)
    before = tracemalloc.get_traced_memory()[0]
    step(windows)
    after = tracemalloc.get_traced_memory()[0]
    tracemalloc.stop()
    return after - before


def at_51k() -> float:
    fs = 51_200
    x = Machine(defect="bpfo", impact_g=0.5).signal(np.arange(fs * 4) / fs)
    a = Analyzer(Spec(fs, N, shaft_hz=SHAFT, defects=SKF_6205))
    windows, t0 = 0, time.process_time()
    for _ in range(REPEATS):
        for i in range(0, len(x) - N + 1, HOP):
            a.run(x[i : i + N])
            windows += 1
    return windows * HOP / fs / (time.process_time() - t0)


def main() -> None:
    x = Machine(defect="bpfi", impact_g=0.5).signal(np.arange(FS * SECONDS) / FS)
    spec = Spec(FS, N, bands_hz=BANDS, shaft_hz=SHAFT, defects=SKF_6205)
    analyzer = Analyzer(spec)
    for i in range(0, 4 * HOP, HOP):  # warm up: first-call caches of numpy's FFT
        analyzer.run(x[i : i + N])
    sos = signal.butter(4, (2000, 8000), btype="bandpass", fs=FS, output="sos")
    fast = ring_run(analyzer, x)
    slow = per_cpu_second(lambda w: naive(w, sos), x)
    alloc = peak_alloc(analyzer, x)
    grown = growth(analyzer, x)
    fast51 = at_51k()
    env = analyzer.envelope
    assert env is not None
    print(f"in place: {fast:.0f} channel-s per CPU-s ({1e6 * HOP / FS / fast:.0f} us per window)")
    print(f"scipy:    {slow:.0f} channel-s per CPU-s ({1e6 * HOP / FS / slow:.0f} us per window)")
    print(
        f"bearing index {analyzer.values[analyzer.index['bearing_index']]:.1f}, "
        f"defect {analyzer.values[analyzer.index['bearing_defect']]:.0f} (2 = bpfi)"
    )
    print(f"51.2 kHz: {fast51:.0f} channel-s per CPU-s; envelope lines {env.df:.3f} Hz apart, "
          f"{env.averages} averages, band {env.band_hz()[0]:.0f}-{env.band_hz()[1]:.0f} Hz; "
          f"alarm level {analyzer.bearing_alarm_on:.2f}")
    print(
        f"realtime_factor={fast:.0f} target_realtime_factor=300 naive_realtime_factor={slow:.0f} "
        f"speedup={fast / slow:.1f} realtime_factor_51k={fast51:.0f} "
        f"peak_alloc_bytes_per_window={alloc} target_peak_alloc_bytes=4096 "
        f"growth_bytes_3000_windows={grown} envelope_df_hz={env.df:.3f} "
        f"bearing_alarm_on={analyzer.bearing_alarm_on:.2f}"
    )


if __name__ == "__main__":
    main()
