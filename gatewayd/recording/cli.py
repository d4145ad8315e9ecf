"""`gatewayd vibration analyze FILE`: for installers and reliability engineers."""

from __future__ import annotations

import argparse
import json
import math
import sys
from pathlib import Path
from typing import Any

from ..analysis.bearing import DEFECTS, defect_multiples
from ..sources.vibration import PLUGIN


def add_commands(sub: Any) -> None:
    # `gatewayd vibration ...`: the command group carries the kind's name
    group = sub.add_parser(PLUGIN.kind, help="vibration tools").add_subparsers(
        dest="vibration_command", required=True)
    p = group.add_parser(
        "analyze", help="the gateway's vibration analysis on a recording (WAV, CSV, .mat)",
        description="Runs the same analysis as the vibration source on a recording: prints the "
        "features of every window, the bearing defect indices with the lines behind them, and "
        "the verdict; --plot writes the spectrum and the envelope spectrum as a PNG.")
    p.add_argument("file", type=Path)
    p.add_argument("--fs", type=float, help="sample rate, Hz (WAV and MFPT files state it)")
    p.add_argument("--channel", help="WAV channel number, CSV column (name or number), or .mat "
                   "variable (default: the drive-end channel, the last CSV column)")
    speed = p.add_mutually_exclusive_group()
    speed.add_argument("--shaft-hz", type=float, help="shaft speed (default: from the file, "
                       "else estimated from the spectrum)")
    speed.add_argument("--rpm", type=float, help="shaft speed in rev/min")
    p.add_argument("--bearing", help="bpfo=..,bpfi=..,bsf=..,ftf=.. (multiples of shaft "
                   "speed) or balls=..,ball=..,pitch=..[,angle=..] (mm and degrees)")
    p.add_argument("--scale", type=float, default=1.0, help="g per file unit (default 1)")
    p.add_argument("--window-len", type=int, default=4096)
    p.add_argument("--overlap", type=float, default=0.5)
    p.add_argument("--resolution-hz", type=float, default=1.0,
                   help="envelope-spectrum line spacing, at most")
    p.add_argument("--averages", type=int, default=4, help="spans averaged per verdict")
    p.add_argument("--band", help="envelope band LO,HI in Hz (default: by spectral kurtosis)")
    p.add_argument("--no-whiten", action="store_true", help="no cepstral pre-whitening")
    p.add_argument("--false-alarm", type=float, default=1e-6,
                   help="chance that one averaged spectrum of noise raises the alarm")
    p.add_argument("--naming-significance", type=float, default=0.01,
                   help="a defect is named only when two equally strong combs would look this "
                   "different less often than this; else the verdict lists the candidates")
    p.add_argument("--plot", type=Path, help="write the spectra as this PNG")
    p.add_argument("--json", action="store_true", help="one JSON object per window, then one "
                   "with the verdict")
    p.add_argument("--quiet", action="store_true", help="no per-window lines")
    p.set_defaults(func=cmd_analyze)


def parse_bearing(text: str) -> dict[str, float]:
    try:
        keys = {k.strip(): float(v) for k, v in (item.split("=") for item in text.split(","))}
    except ValueError:
        raise ValueError(f"--bearing {text!r}: expected key=value pairs separated by commas"
                         ) from None
    if set(keys) == set(DEFECTS):
        return keys
    if {"balls", "ball", "pitch"} <= set(keys) <= {"balls", "ball", "pitch", "angle"}:
        return defect_multiples(int(keys["balls"]), keys["ball"], keys["pitch"],
                                keys.get("angle", 0.0))
    raise ValueError("--bearing: bpfo, bpfi, bsf and ftf, or balls, ball, pitch [and angle]")


def cmd_analyze(args: argparse.Namespace) -> int:
    from .read import RecordingError, read
    from .report import analyse, summary, table

    try:
        rec = read(args.file, args.channel)
        fs = args.fs or rec.fs_hz
        if not fs:
            raise ValueError(f"{args.file.name} does not state its sample rate: give --fs")
        shaft = args.shaft_hz or (args.rpm / 60 if args.rpm else None) or rec.shaft_hz
        defects = parse_bearing(args.bearing) if args.bearing else {}
        band = tuple(float(v) for v in args.band.split(",")) if args.band else None
        if band is not None and len(band) != 2:
            raise ValueError("--band LO,HI")
        hop = max(1, round(args.window_len * (1 - args.overlap)))
        from ..analysis.spectrum import Spec  # numpy: only when a recording is analysed

        spec = Spec(fs, args.window_len, shaft_hz=shaft, defects=defects,
                    envelope_band_hz=band, hop=hop,  # type: ignore[arg-type]
                    envelope_resolution_hz=args.resolution_hz, envelope_averages=args.averages,
                    whiten=not args.no_whiten, false_alarm=args.false_alarm,
                    naming_significance=args.naming_significance,
                    shaft_search_hz=(5.0, min(100.0, fs / 8)))
        report = analyse(rec.samples * args.scale, spec)
    except (RecordingError, ValueError, OSError) as e:
        print(f"gatewayd vibration analyze: {e}", file=sys.stderr)
        return 2
    if args.json:
        for row in report.rows:
            print(json.dumps({k: (None if v != v else v) for k, v in row.items()}))
        print(json.dumps({"verdict": report.verdict(), "alarm": report.alarm,
                          "defect": report.defect, "index": _clean(report.index),
                          "candidates": report.candidates,
                          "alarm_on": report.alarm_on, "evidence": report.evidence}))
    else:
        print(f"{args.file.name}: {rec.channel}, {len(rec.samples)} samples at {fs:g} Hz "
              f"({len(rec.samples) / fs:.2f} s), shaft "
              + (f"{shaft:.3f} Hz" if shaft else "estimated"))
        if not args.quiet:
            print(table(report))
        print(summary(report))
    if args.plot:
        from .plot import save_png

        try:
            save_png(report, args.plot, f"{args.file.name} ({rec.channel}, {fs:g} Hz)")
        except RuntimeError as e:
            print(f"gatewayd vibration analyze: {e}", file=sys.stderr)
            return 2
        if not args.json:
            print(f"plot: {args.plot}")
    return 1 if report.alarm else 0


def _clean(d: dict[str, float]) -> dict[str, float | None]:
    return {k: (None if math.isnan(v) else v) for k, v in d.items()}
