"""Where the simulated G1 starts: on known terrain, where the retargeted motion starts, facing its way.

A reconstruction's world origin is where the camera stood, usually outside the scanned terrain;
a robot spawned there stands on nothing and falls out of the world. ``sim_g1``'s ``spawn``
parameter therefore takes the robot motion (its first frame's pelvis position and heading), an
explicit ``x,y,yaw``, or nothing (the origin when it is on known terrain, else the known spot
nearest to it). Every spawn is checked against the terrain: the robot's footprint must lie on
known cells.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from videomimic_offline.contracts.heightfield import Heightfield
from videomimic_offline.errors import InputError
from videomimic_offline.robot import g1

#: m: radius of the G1's footprint (feet apart in the default stance, plus margin).
FOOTPRINT_RADIUS = 0.2


@dataclass(frozen=True)
class Spawn:
    """A start pose on the terrain: pelvis xy (m, world), heading (rad), ground height under it."""

    xy: np.ndarray
    yaw: float
    ground_z: float
    source: str  # what chose it, for the log

    def describe(self) -> str:
        x, y = self.xy
        return f"({x:.2f}, {y:.2f}) m, yaw {np.degrees(self.yaw):.0f} deg, ground {self.ground_z:.2f} m ({self.source})"


def footprint(xy: np.ndarray, radius: float = FOOTPRINT_RADIUS, step: float = 0.05) -> np.ndarray:
    """World xy samples (N, 2) on a disc around ``xy``."""
    r = np.arange(-radius, radius + 1e-9, step)
    gx, gy = np.meshgrid(r, r)
    inside = gx**2 + gy**2 <= radius**2 + 1e-12
    return np.asarray(xy, dtype=np.float64) + np.stack([gx[inside], gy[inside]], axis=1)


def ground_under(field: Heightfield, xy: np.ndarray, radius: float = FOOTPRINT_RADIUS) -> float:
    """Highest ground within the footprint at ``xy`` (the feet rest on it); NaN unless every cell was observed."""
    pts = footprint(xy, radius)
    return float(field.height_at(pts).max()) if field.known_at(pts).all() else float("nan")


def nearest_known(field: Heightfield, xy: np.ndarray) -> np.ndarray | None:
    """The cell centre nearest ``xy`` whose whole footprint is known terrain, or None."""
    h, w = field.heights.shape
    cols, rows = np.meshgrid(np.arange(w), np.arange(h))
    cells = field.origin_xy + np.stack([cols.ravel(), rows.ravel()], axis=1) * field.resolution
    known = field.known.ravel()
    order = np.argsort(np.linalg.norm(cells - xy, axis=1))
    for k in order[known[order]]:
        if np.isfinite(ground_under(field, cells[k])):
            return cells[k]
    return None


def motion_start(path: Path) -> tuple[np.ndarray, float]:
    """Pelvis xy and heading of the first frame of a ``robot_motion.npz``."""
    from videomimic_offline.contracts.robot_motion import read_robot_motion

    motion = read_robot_motion(Path(path))
    if g1.ROOT_LINK not in motion.body_names:
        raise InputError(f"{path}: no '{g1.ROOT_LINK}' body; re-run retargeting")
    k = motion.body_names.index(g1.ROOT_LINK)
    pos = np.asarray(motion.body_pos_w[0, k], dtype=np.float64)
    w, x, y, z = np.asarray(motion.body_quat_w[0, k], dtype=np.float64)
    return pos[:2], float(np.arctan2(2 * (w * z + x * y), 1 - 2 * (y * y + z * z)))


def resolve_spawn(field: Heightfield, spec: str = "") -> Spawn:
    """The spawn for ``spec``: "" (origin, or the nearest known spot), "x,y,yaw", or a robot_motion.npz."""
    spec = str(spec).strip()
    if not spec:
        xy, yaw, source = np.zeros(2), 0.0, "origin"
        if not np.isfinite(ground_under(field, xy)):
            near = nearest_known(field, xy)
            if near is None:
                raise InputError("the scene has no known spot large enough for the robot's feet; check the heightfield")
            xy, source = near, "nearest known terrain to the origin"
    elif spec.endswith(".npz") or Path(spec).is_file():
        if not Path(spec).is_file():
            raise InputError(f"spawn:={spec}: no such robot motion file (give a robot_motion.npz or x,y,yaw)")
        xy, yaw = motion_start(Path(spec))
        source = f"first frame of {Path(spec).name}"
    else:
        try:
            values = [float(v) for v in spec.split(",")]
        except ValueError:
            values = []
        if len(values) not in (2, 3):
            raise InputError(f"spawn:={spec!r}: give x,y[,yaw] (m, m, rad), a robot_motion.npz, or leave it empty")
        xy, yaw, source = np.array(values[:2]), (values[2] if len(values) == 3 else 0.0), "given"
    ground = ground_under(field, xy)
    if not np.isfinite(ground):
        raise InputError(
            f"spawn at ({xy[0]:.2f}, {xy[1]:.2f}) m ({source}) is not on known terrain: the robot would fall "
            "out of the world. Pass spawn:= the robot motion of this scene, or x,y on the scanned ground"
        )
    return Spawn(np.asarray(xy, dtype=np.float64), float(yaw), ground, source)
