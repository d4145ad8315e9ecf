"""Test equipment: models of devices and machines for the tests, the benchmarks and
`scripts/demo`.

Each is written from the device's datasheet or protocol so a wrong register, byte order or
function code fails a test. The daemon imports this package only when a simulated world is
selected for the whole process (`gatewayd --simulate <world>`, `GATEWAYD_SIMULATE`, see
worlds.py); a config cannot name a simulator, and a real installation never imports it.
"""
