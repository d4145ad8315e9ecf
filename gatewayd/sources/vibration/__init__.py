"""Vibration source: an accelerometer channel analysed in place (see docs/vibration.md)."""
