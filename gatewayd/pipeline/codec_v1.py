"""Reading version-1 data payloads, which may still sit in a gateway's queue from before an
upgrade to version 2. Nothing writes version 1 any more (docs/payload.md, "Versions").

Version 1 quantised every float to the resolution its birth declared, and did not say the
step in the message, so these payloads need the resolutions of their (version-1) birth.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ..model import Reading


def _times(spec: list[int], n: int, base: int) -> list[int]:
    t = base + spec[0]
    if len(spec) == n:  # deltas (n == 2 is the same either way)
        out = [t]
        for d in spec[1:]:
            t += d
            out.append(t)
        return out
    if len(spec) == 2:
        return [t + i * spec[1] for i in range(n)]
    raise ValueError(f"times of {len(spec)} entries for {n} values")


def _codes(spec: int | list[int], n: int) -> list[int]:
    if isinstance(spec, int):
        return [spec] * n
    out: list[int] = []
    for code, count in zip(spec[::2], spec[1::2], strict=True):
        out += [code] * count
    return out


def decode_data(msg: dict[str, Any], resolution: Mapping[int, float | None],
                ) -> tuple[dict[str, Any], list[Reading]]:
    from .codec import decimal_step, step_value

    readings: list[Reading] = []
    for alias, tspec, deltas, qspec in msg["p"]:
        n = len(deltas)
        res = resolution.get(alias) or 1.0
        m, e = decimal_step(res)
        q = 0
        for ts, d, code in zip(_times(tspec, n, msg["t"]), deltas, _codes(qspec, n), strict=True):
            if d is None:
                readings.append(Reading(alias, ts, None, code))
                continue
            q += d
            readings.append(Reading(alias, ts, q if res == 1.0 else step_value(q, m, e), code))
    return {k: msg[k] for k in ("v", "seq", "b", "t")}, readings
