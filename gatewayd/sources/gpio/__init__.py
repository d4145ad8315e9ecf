"""Digital inputs (kind "gpio"): states, counters, pulse rates, run hours and OEE per shift."""
