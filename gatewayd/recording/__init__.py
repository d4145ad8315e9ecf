"""`gatewayd vibration analyze FILE`: the gateway's vibration analysis run on a recording.

read.py    WAV, CSV or MATLAB .mat in; samples, and the rate and speed the file states
report.py  the same Analyzer the source runs, window by window; features and the verdict
plot.py    PNG of the spectrum and the envelope spectrum with the defect lines marked
           (matplotlib: the optional `analyze` extra)
cli.py     the command
"""
