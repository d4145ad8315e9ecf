"""Golden cases of the point stage: each file in cases/ is one point's config, a trace of raw
values with their device quality, and the readings and alarm events that must come out. A
field bug becomes a new file named after it."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from gatewayd.config import parse
from gatewayd.model import Event, Point, Quality, Reading
from gatewayd.points.stage import PointStage, transform_of

CASES = sorted((Path(__file__).parent / "cases").glob("*.toml"))


def _value(v: Any) -> Any:
    if v == "none":
        return None
    return float(v) if isinstance(v, str) else v


def _stage(keys: dict[str, Any], events: list[Event]) -> PointStage:
    """The point as a Modbus register (any kind's point takes the same keys)."""
    raw = {"kind": "modbus", "name": "d", "points": [{"alias": 1, "name": "p", "register": 0,
                                                      **keys}]}
    pc = parse({"gateway": {"id": "t"}, "devices": [raw]}).devices[0].points[0]
    point: Point = pc.point("d")
    return PointStage("d", [point], {1: transform_of(pc, point)}, events.append)


@pytest.mark.parametrize("path", CASES, ids=lambda p: p.stem)
def test_case(path: Path) -> None:
    """The readings and alarm events the case file expects, exactly, in order."""
    case = tomllib.loads(path.read_text())
    events: list[Event] = []
    stage = _stage(case["point"], events)
    out: list[Reading] = []
    for t, raw, quality in case["trace"]:
        out += stage.process([Reading(1, t, _value(raw), Quality[quality.upper()])])
    got = [(r.ts_ms, r.value, Quality(r.quality).label) for r in out]
    want = [(t, _value(v), q) for t, v, q in case["expect"]]
    assert [(t, q) for t, _, q in got] == [(t, q) for t, _, q in want]
    assert [v for _, v, _ in got] == [v if v is None else pytest.approx(v) for _, v, _ in want]
    assert [type(v) for _, v, _ in got] == [type(v) for _, v, _ in want]
    assert [(e.ts_ms, e.fields["level"], e.fields["state"]) for e in events] == [
        tuple(e) for e in case.get("events", [])]
