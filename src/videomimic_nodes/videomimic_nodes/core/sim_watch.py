"""What the simulator reports about its robot: leaving the known terrain, falling, getting up.

The reconstructed terrain is only what the camera saw. Beyond it the simulator puts a floor at the
lowest known height (as it does for unknown cells inside the heightfield), so a robot that walks
off the scan does not fall out of the world; but it is no longer on terrain anyone measured, and
the run says so. A fall is a torso that stays tilted beyond ``fall_tilt``, or a pelvis that stays
lower than ``fall_height`` above the lowest ground around it (the floor beside a bench, not the
seat under a sitting robot).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from videomimic_offline.contracts.heightfield import Heightfield

from videomimic_nodes.core.fall import Held, tilt_of
from videomimic_nodes.core.spawn import footprint


@dataclass
class WatchConfig:
    fall_tilt: float = 1.0  # rad (57 deg): pelvis tilt that, held, is a fall
    fall_height: float = 0.35  # m: pelvis this close to the lowest ground nearby, held, is a fall
    hold_s: float = 0.2  # s of simulated time a sign must hold
    near_radius: float = 0.5  # m: "ground nearby" for the pelvis height


@dataclass(frozen=True)
class Report:
    kind: str  # off_terrain | on_terrain | fall | upright
    text: str


class SimWatch:
    """Edge-triggered reports from the pelvis pose (call at the odometry rate, with simulated time)."""

    def __init__(self, field: Heightfield, cfg: WatchConfig | None = None) -> None:
        self.field, self.cfg = field, cfg or WatchConfig()
        self.floor = float(field.surface.min())
        self.on_terrain = True
        self.fallen = False
        self._fall = Held(self.cfg.hold_s)
        self._up = Held(self.cfg.hold_s)
        self.n_falls = 0
        self.n_off_terrain = 0

    def height_above_ground(self, pelvis_pos: np.ndarray) -> float:
        """Pelvis height above the lowest ground within ``near_radius`` (the floor where none is known)."""
        h = self.field.height_at(footprint(pelvis_pos[:2], self.cfg.near_radius, step=0.1))  # NaN off the grid
        return float(pelvis_pos[2] - (np.nanmin(h) if np.isfinite(h).any() else self.floor))

    def update(self, t: float, pelvis_pos: np.ndarray, pelvis_quat: np.ndarray) -> list[Report]:
        out: list[Report] = []
        x, y, z = (float(v) for v in pelvis_pos)
        known = bool(self.field.known_at(np.array([x, y])))
        if known != self.on_terrain:
            self.on_terrain = known
            if known:
                out.append(
                    Report("on_terrain", f"robot back on the known terrain at ({x:.2f}, {y:.2f}) m, t {t:.2f} s")
                )
            else:
                self.n_off_terrain += 1
                out.append(Report("off_terrain", f"robot left the known terrain at ({x:.2f}, {y:.2f}) m, t {t:.2f} s: "
                                                 "it now stands on the simulator's floor, not on the scan"))  # fmt: skip
        tilt = tilt_of(pelvis_quat)
        height = self.height_above_ground(np.array([x, y, z]))
        down = tilt > self.cfg.fall_tilt or height < self.cfg.fall_height
        if not self.fallen and self._fall.update(down, t):
            self.fallen = True
            self.n_falls += 1
            out.append(Report("fall", f"robot fell at ({x:.2f}, {y:.2f}) m, t {t:.2f} s: pelvis tilt "
                                      f"{np.degrees(tilt):.0f} deg, {height:.2f} m above the ground"))  # fmt: skip
        elif self.fallen and self._up.update(not down, t):
            self.fallen = False
            out.append(Report("upright", f"robot upright again at ({x:.2f}, {y:.2f}) m, t {t:.2f} s"))
        if not self.fallen:
            self._up.update(False, t)
        else:
            self._fall.update(False, t)
        return out
