"""Rolling-element bearing defect frequencies, as multiples of shaft speed.

Classic kinematics (no slip), outer race fixed, inner race turning with the shaft:
    FTF  = 1/2 (1 - d/D cos a)            cage
    BPFO = n/2 (1 - d/D cos a)            ball pass, outer race
    BPFI = n/2 (1 + d/D cos a)            ball pass, inner race
    BSF  = D/(2d) (1 - (d/D cos a)^2)     ball spin (a ball defect shows at 2 x BSF too)
"""

from __future__ import annotations

import math

DEFECTS = ("bpfo", "bpfi", "bsf", "ftf")


def defect_multiples(
    balls: int, ball_diameter: float, pitch_diameter: float, contact_angle_deg: float = 0.0
) -> dict[str, float]:
    """Defect frequencies per unit shaft frequency for one bearing geometry."""
    r = ball_diameter / pitch_diameter * math.cos(math.radians(contact_angle_deg))
    return {
        "bpfo": balls / 2 * (1 - r),
        "bpfi": balls / 2 * (1 + r),
        "bsf": pitch_diameter / (2 * ball_diameter) * (1 - r * r),
        "ftf": (1 - r) / 2,
    }
