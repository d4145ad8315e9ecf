"""`gatewayd listen` prints each decoded reading of a gateway as one JSON line."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from listen_kit import FLOW, listen_to_a_gateway


def test_listen_prints_json_lines(tmp_path: Path, broker: Any) -> None:
    """--count N readings, each with name, time, value, unit and quality, then exit 0."""
    code, out = listen_to_a_gateway(broker.url, "gw-listen", tmp_path, "--count", "5",
                                    resolution=0.01)
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == 5
    assert {(r["name"], r["value"], r["unit"], r["quality"], r["quality_name"]) for r in rows} == {
        ("flow", FLOW, "l/min", 0, "good")}
    assert all(isinstance(r["time"], float) for r in rows)
