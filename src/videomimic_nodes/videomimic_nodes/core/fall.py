"""Fall signs shared by the bridge (on the robot) and the simulator (reporting): tilt, held conditions.

A single LowState with a large tilt is a bump or a glitch; a fall is a tilt that stays. Both the
bridge's fall detection and the simulator's reports therefore act on a condition that has held
for a while (a few control cycles), not on one sample.
"""

from __future__ import annotations

import numpy as np


def tilt_of(quat_wxyz: np.ndarray) -> float:
    """Angle (rad) between the body's z axis and world up, from an orientation quaternion (w, x, y, z)."""
    w, x, y, z = (float(v) for v in quat_wxyz)
    n = w * w + x * x + y * y + z * z
    if not np.isfinite(n) or n < 1e-9:
        return float("nan")
    return float(np.arccos(np.clip(1.0 - 2.0 * (x * x + y * y) / n, -1.0, 1.0)))


class Held:
    """Whether a condition has been true continuously for at least ``hold_s`` seconds."""

    def __init__(self, hold_s: float) -> None:
        self.hold_s = hold_s
        self.since: float | None = None

    def update(self, condition: bool, now: float) -> bool:
        if not condition:
            self.since = None
            return False
        if self.since is None:
            self.since = now
        return now - self.since >= self.hold_s
