"""Models of devices and machines used by the tests, the benchmarks and `scripts/demo`.

Each is written from the device's datasheet or protocol so a wrong register, byte order or
function code fails a test. The daemon itself imports these only for a `sim:` bus named in a
config (the demo); a real installation never does.
"""
