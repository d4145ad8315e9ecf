"""The two pictures an engineer looks at first: the acceleration spectrum with the shaft orders,
and the envelope spectrum with every defect's lines marked. matplotlib (the `analyze` extra),
imported only here, with the file-only Agg backend."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..analysis.defects import comb
from .report import DEFECT_NAMES, Report

COLOURS = {"bpfo": "tab:red", "bpfi": "tab:blue", "bsf": "tab:green", "ftf": "tab:purple"}


def save_png(report: Report, path: Path, title: str) -> None:
    try:
        import matplotlib
    except ImportError:
        raise RuntimeError("plots need matplotlib: pip install 'gatewayd[analyze]'") from None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (top, bottom) = plt.subplots(2, 1, figsize=(11, 8))
    _spectrum(top, report)
    _envelope(bottom, report)
    fig.suptitle(f"{title}\n{report.verdict()}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _spectrum(ax: Any, report: Report) -> None:
    assert report.spectrum_hz is not None and report.spectrum_g is not None
    f, g = report.spectrum_hz, report.spectrum_g
    ax.semilogy(f[1:], g[1:], lw=0.7, color="black")
    ax.set_xlabel("frequency (Hz)")
    ax.set_ylabel("acceleration (g, peak)")
    ax.set_title("spectrum (mean over the recording)", fontsize=9)
    ax.set_xlim(0, f[-1])
    shaft = report.shaft_hz
    if shaft == shaft:
        for k in range(1, 4):
            ax.axvline(k * shaft, color="tab:orange", ls=":", lw=0.8)
        ax.text(shaft, ax.get_ylim()[1], " 1x, 2x, 3x shaft", color="tab:orange", fontsize=8,
                va="top")
    if report.band_hz:
        ax.axvspan(*report.band_hz, color="tab:cyan", alpha=0.15, label="envelope band")
        ax.legend(fontsize=8, loc="upper right")


def _envelope(ax: Any, report: Report) -> None:
    ax.set_xlabel("frequency (Hz)")
    ax.set_ylabel("envelope (g, peak)")
    if report.envelope_hz is None or report.envelope_g is None:
        ax.set_title("envelope spectrum: the recording is too short for one average", fontsize=9)
        return
    shaft = report.shaft_hz
    defects = report.spec.defects
    top = 1.45 * max(max(comb(d, defects)[0]) for d in report.index) * shaft  # legend room
    f, g = report.envelope_hz, report.envelope_g
    sel = (f > 0) & (f <= top)
    ax.plot(f[sel], g[sel], lw=0.8, color="black")
    df = f[1] - f[0]
    ax.set_title(f"envelope spectrum: {report.spec.envelope_averages} averages, lines "
                 f"{df:.2f} Hz apart; dashed: each defect's lines (the named one or the "
                 "candidates solid)",
                 fontsize=9)
    ymax = float(g[sel].max()) if sel.any() else 1.0
    candidates = {c["defect"] for c in report.candidates}
    for d in report.index:
        named = d == report.defect or d in candidates
        for e in report.evidence.get(d, []):
            hz = float(e["hz"])  # type: ignore[arg-type]
            ax.axvline(hz, color=COLOURS[d], lw=1.2 if named else 0.7,
                       ls="-" if named else "--", alpha=0.9 if named else 0.5)
            if named:
                height = "n/a" if e["ambiguous"] else f"{e['over_background']}x"
                ax.text(hz, ymax * 1.02, f"{e['line']}\n{height}", fontsize=7,
                        color=COLOURS[d], ha="center", va="bottom")
        ax.plot([], [], color=COLOURS[d], ls="-" if named else "--",
                label=f"{DEFECT_NAMES[d]}: index {report.index[d]:.2f}")
    ax.set_ylim(0, ymax * 1.25)
    ax.set_xlim(0, top)
    ax.legend(fontsize=8, loc="upper right")
