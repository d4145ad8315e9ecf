"""`gatewayd vibration analyze FILE` on real records written as WAV, CSV and MATLAB files."""

from __future__ import annotations

import json
import wave
from pathlib import Path

import numpy as np
import pytest
from scipy import io, signal
from vib_records import SKF_6205, record

from gatewayd.cli import main

BEARING = ",".join(f"{k}={v}" for k, v in SKF_6205.items())


def write_wav(path: Path, x: np.ndarray, fs: int, full_scale_g: float) -> None:
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(fs)
        w.writeframes(np.round(x / full_scale_g * 32767).astype("<i2").tobytes())


def test_wav_of_an_outer_race_fault_raises_the_alarm_and_plots(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """CWRU 130 as a 16-bit WAV (full scale 4 g): features per window, BPFO named with its
    lines, exit status 1 (alarm), and a PNG of both spectra."""
    x, fs, shaft = record("cwru130")
    wav, png = tmp_path / "pump.wav", tmp_path / "pump.png"
    write_wav(wav, x, int(fs), 4.0)
    rc = main(["vibration", "analyze", str(wav), "--scale", "4", "--rpm", str(shaft * 60),
               "--bearing", BEARING, "--plot", str(png)])
    out = capsys.readouterr().out
    assert rc == 1
    assert "ALARM: outer race (BPFO)" in out
    assert "1xBPFO" in out and "x background" in out
    windows = [line for line in out.splitlines() if line.strip()[:1].isdigit()]
    assert len(windows) >= 50  # one line per window (hop 2,048 over 10 s)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and png.stat().st_size > 20_000


def test_csv_of_a_healthy_bearing_says_so(tmp_path: Path,
                                          capsys: pytest.CaptureFixture[str]) -> None:
    """CWRU 97 decimated to 12 kHz as CSV with a time column (which gives the rate): no alarm,
    exit status 0."""
    x, fs, shaft = record("cwru97")
    x, fs = signal.decimate(x, 4, ftype="fir"), fs / 4
    csv = tmp_path / "fan.csv"
    t = np.arange(len(x)) / fs
    np.savetxt(csv, np.column_stack([t, x]), delimiter=",", header="time_s,accel_g",
               comments="", fmt="%.9g")
    rc = main(["vibration", "analyze", str(csv), "--shaft-hz", str(shaft), "--bearing",
               "balls=9,ball=7.94,pitch=39.04", "--quiet"])
    out = capsys.readouterr().out
    assert rc == 0
    assert "verdict: no bearing defect" in out
    assert "at 12000 Hz" in out


def test_mat_file_as_cwru_publishes_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                       ) -> None:
    """A .mat laid out as CWRU's (X105_DE_time, X105RPM): the speed is read from the file,
    the rate given; JSON lines out, the last one the verdict naming BPFI."""
    x, fs, shaft = record("cwru105")
    mat = tmp_path / "105.mat"
    io.savemat(mat, {"X105_DE_time": x[:, None], "X105_FE_time": 0.5 * x[:, None],
                     "X105RPM": np.array([[shaft * 60]])})
    rc = main(["vibration", "analyze", str(mat), "--fs", str(fs), "--bearing", BEARING,
               "--json"])
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert rc == 1
    assert lines[0]["shaft_hz"] == pytest.approx(shaft)
    assert lines[-1]["defect"] == "bpfi" and lines[-1]["alarm"] is True
    assert lines[-1]["evidence"]["bpfi"][0]["line"] == "1xBPFI"


def test_missing_rate_and_bad_bearing_are_explained(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A file that does not state its rate, or a bearing spelled wrong: exit 2 and a message
    saying what is expected."""
    mat = tmp_path / "x.mat"
    io.savemat(mat, {"X001_DE_time": np.zeros((5000, 1))})
    assert main(["vibration", "analyze", str(mat)]) == 2
    assert "give --fs" in capsys.readouterr().err
    assert main(["vibration", "analyze", str(mat), "--fs", "12000", "--bearing", "balls=9"]) == 2
    assert "balls, ball, pitch" in capsys.readouterr().err


def test_uncertain_verdict_prints_its_candidates(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    """CWRU 222 (ball fault) as a WAV: exit 1 (the alarm stands), a verdict of uncertain type
    naming each candidate with its index and the lines of each; --json carries them too."""
    x, fs, shaft = record("cwru222")
    wav = tmp_path / "222.wav"
    write_wav(wav, x, int(fs), 4.0)
    rc = main(["vibration", "analyze", str(wav), "--shaft-hz", str(shaft), "--bearing",
               BEARING, "--quiet"])
    out = capsys.readouterr().out
    assert rc == 1
    verdict = next(line for line in out.splitlines() if line.startswith("verdict:"))
    assert "uncertain type" in verdict
    assert "inner race (BPFI) (index" in verdict and "outer race (BPFO) (index" in verdict
    assert "evidence for inner race (BPFI):" in out and "evidence for outer race (BPFO):" in out
    assert "bearing alarm raised: uncertain type" in out
    rc = main(["vibration", "analyze", str(wav), "--shaft-hz", str(shaft), "--bearing",
               BEARING, "--json"])
    last = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert last["defect"] is None and last["alarm"] is True
    assert {c["defect"] for c in last["candidates"]} == {"bpfi", "bpfo", "bsf"}
