"""Vibration analysis in place: pure numpy, no I/O, no logging, no clock.

ring.py      one preallocated ring buffer per channel; overlapping windows out of it
windows.py   window functions and their amplitude / energy corrections
spectrum.py  the per-window analyser: every work array allocated once, features by index
envelope.py  envelope spectrum (band around a configured or detected resonance)
bearing.py   bearing defect frequencies from geometry
iso.py       ISO 10816-3 / 20816-3 zones A..D
alarms.py    hysteresis + persistence as a pure state machine
rawpack.py   one raw window packed (int16, zlib) for an alarm event
"""
