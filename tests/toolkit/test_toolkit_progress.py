"""The progress line: fits its width, says how long is left."""

from __future__ import annotations

from gatewayd.toolkit.progress import render


def test_line_fits_and_estimates() -> None:
    """Half done after 10 s leaves 10 s; the line never exceeds the terminal width."""
    line = render("drain", 50, 100, 10.0, 80)
    assert "50/100" in line and "50%" in line and "10 s left" in line and len(line) <= 80
    assert len(render("a very long label " * 5, 1, 3, 1.0, 40)) <= 40
    assert render("build", 3, 3, 2.0).endswith("3/3 100%")
