"""Cost of the point stage per reading, on a 1,000-point device polled 200 times: points that
ask for nothing (the finite check only), `type = "int"` points (a cast), and points with the
full transform (scale, a 4-20 mA loop with NE43, a mean filter, H/L alarms, deadband and
heartbeat), built from config the way the runner builds them.

Last line: `stage_identity_ns=... stage_int_ns=... stage_full_ns=... target_identity_ns=200`
(untouched points, points cast to int, points with every step).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from gatewayd.config import parse
from gatewayd.model import Reading
from gatewayd.points.stage import PointStage, transform_of

POINTS, POLLS = 1000, 200
FULL = {"scale": 0.001, "loop_4_20ma": {"low": 0, "high": 10}, "filter": "mean", "filter_n": 4,
        "alarms": {"h": 9, "l": 1, "hysteresis": 0.1}, "deadband": 0.01, "heartbeat_s": 60}


def stage(keys: dict[str, object]) -> PointStage:
    points = [{"alias": i, "name": f"p{i}", "register": i, **keys} for i in range(1, POINTS + 1)]
    cfg = parse({"gateway": {"id": "b"}, "devices": [{"kind": "modbus", "name": "d",
                                                      "points": points}]}).devices[0]
    made = [p.point("d") for p in cfg.points]
    return PointStage("d", made, {p.alias: transform_of(pc, p)
                                  for pc, p in zip(cfg.points, made, strict=True)})


def ns_per_reading(st: PointStage) -> float:
    polls = [[Reading(i, k * 100, 12_000 + (k * 7 + i) % 50) for i in range(1, POINTS + 1)]
             for k in range(POLLS)]
    t0 = time.perf_counter()
    for readings in polls:
        st.process(readings)
    return (time.perf_counter() - t0) / (POINTS * POLLS) * 1e9


def main() -> None:
    identity, typed = ns_per_reading(stage({})), ns_per_reading(stage({"type": "int"}))
    full = ns_per_reading(stage(FULL))
    print(f"stage_identity_ns={identity:.0f} stage_int_ns={typed:.0f} stage_full_ns={full:.0f} "
          "target_identity_ns=200")


if __name__ == "__main__":
    main()
