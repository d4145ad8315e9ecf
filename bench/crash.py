"""Readings lost when the daemon is killed: the real daemon SIGKILLed at random moments while
it polls Modbus TCP units whose register 0 counts the reads they served (issue 11).

    .venv/bin/python bench/crash.py [--kills 20] [--units 10] [--registers 100]

Each kill comes 1.5-3.5 s after a start, the daemon is restarted at once, and a clean SIGTERM
ends the run; a persistent QoS 1 subscriber records every data message. Last line:
kills=… readings_lost_per_kill=… (target 0) polls_lost=… polls_in_flight_at_kill=…
polls_seen=… seq_conflicts=… (target 0) seqs_missing=…
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from gatewayd.testing import crashloop


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--kills", type=int, default=20)
    ap.add_argument("--units", type=int, default=10, help="Modbus TCP units, 100 ms each")
    ap.add_argument("--registers", type=int, default=100)
    ap.add_argument("--seed", type=int, default=11)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-crash-") as d:
        rep = crashloop.run(Path(d), args.kills, args.units, args.registers, seed=args.seed)
    for hole in rep.holes:
        print(f"lost: device {hole[0]} read {hole[1]}, answered {hole[2]} ms before the nearest "
              "kill (negative: after it)")
    print(rep.line() + " target_readings_lost_per_kill=0")


if __name__ == "__main__":
    main()
