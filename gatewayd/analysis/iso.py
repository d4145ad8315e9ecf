"""Evaluation zones of ISO 10816-3:2009 (Annex A), kept unchanged in ISO 20816-3:2022.

Broad-band velocity RMS in mm/s (10-1000 Hz for machines above 600 rpm) measured on bearing
housings of industrial machines from 15 kW to 50 MW. Zone A: newly commissioned; B: unrestricted
long-term operation; C: restricted operation; D: damage likely.
"""

from __future__ import annotations

# (group, foundation) -> velocity RMS boundaries A/B, B/C, C/D in mm/s
ZONE_LIMITS_MM_S: dict[tuple[int, str], tuple[float, float, float]] = {
    (1, "rigid"): (2.3, 4.5, 7.1),  # group 1: large machines, 300 kW..50 MW, shaft height >= 315 mm
    (1, "flexible"): (3.5, 7.1, 11.0),
    (2, "rigid"): (1.4, 2.8, 4.5),  # group 2: medium machines, 15..300 kW, shaft height 160..315 mm
    (2, "flexible"): (2.3, 4.5, 7.1),
}
ZONES = "ABCD"


def zone_limits(group: int, foundation: str) -> tuple[float, float, float]:
    try:
        return ZONE_LIMITS_MM_S[(group, foundation)]
    except KeyError:
        raise ValueError(
            "expected machine group 1 or 2 and foundation 'rigid' or 'flexible'"
        ) from None


def zone_index(velocity_mm_s: float, limits: tuple[float, float, float]) -> int:
    """1..4 for zones A..D (a boundary value belongs to the worse zone)."""
    return 1 + sum(velocity_mm_s >= edge for edge in limits)


def zone_letter(index: int) -> str:
    return ZONES[index - 1]
