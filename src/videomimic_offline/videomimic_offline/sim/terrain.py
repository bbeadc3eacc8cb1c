"""Terrain for plain-MuJoCo scenes: a ``heightfield.npz`` as an hfield geom, and the default step.

MuJoCo collides meshes as convex hulls (a staircase becomes a ramp), so reconstructed terrain goes
in as an hfield. The simulated robot (``sim_g1``) and training's sim2sim check both build their
scene with :func:`add_heightfield`, so they stand on the same ground.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from videomimic_offline.artifacts import read_npz
from videomimic_offline.errors import InputError

HEIGHTFIELD_SCHEMA = "videomimic.heightfield"
TERRAIN_GROUP = 0  # geom group of the terrain (visible and ray-castable)


@dataclass
class Heightfield:
    """World-frame heights on a regular grid: row index = y, column index = x; NaN = unknown."""

    heights: np.ndarray  # (H, W) m
    origin_xy: np.ndarray  # (2,) world xy of cell [0, 0] centre
    resolution: float
    yaw: float = 0.0  # rotation of the grid about world z (from T_world_scene)

    @property
    def known(self) -> np.ndarray:
        return np.isfinite(self.heights)

    def height_at(self, xy: np.ndarray) -> np.ndarray:
        """Nearest-cell height at world points ``xy`` (..., 2); NaN outside or unknown."""
        xy = np.asarray(xy, dtype=np.float64)
        c, s = np.cos(-self.yaw), np.sin(-self.yaw)
        d = xy - self.origin_xy
        local = np.stack([c * d[..., 0] - s * d[..., 1], s * d[..., 0] + c * d[..., 1]], axis=-1)
        ij = np.rint(local / self.resolution).astype(np.int64)
        h, w = self.heights.shape
        inside = (ij[..., 0] >= 0) & (ij[..., 0] < w) & (ij[..., 1] >= 0) & (ij[..., 1] < h)
        out = np.full(xy.shape[:-1], np.nan)
        out[inside] = self.heights[ij[..., 1][inside], ij[..., 0][inside]]
        return out


def load_heightfield(path: Path) -> Heightfield:
    """Read a ``heightfield.npz`` (schema videomimic.heightfield v1); a scene folder works too."""
    path = Path(path)
    if path.is_dir():
        path = path / "heightfield.npz"
    data = read_npz(path, schema=HEIGHTFIELD_SCHEMA, max_version=1)
    try:
        heights = np.asarray(data["heights"], dtype=np.float64)
        origin = np.asarray(data["origin_xy"], dtype=np.float64).reshape(2)
        res = float(data["resolution"])
    except KeyError as exc:
        raise InputError(f"{path} lacks {exc}; re-run the real2sim scene stage") from exc
    if "known" in data:
        heights = np.where(np.asarray(data["known"], dtype=bool), heights, np.nan)
    T = np.asarray(data.get("T_world_scene", np.eye(4)), dtype=np.float64)
    if heights.ndim != 2 or min(heights.shape) < 2 or res <= 0:
        raise InputError(f"{path}: heights must be (H>=2, W>=2) with resolution > 0")
    if not np.allclose(T[2, :3], [0, 0, 1], atol=1e-6):
        raise InputError(f"{path}: T_world_scene tilts the scene; only yaw + translation can be simulated")
    yaw = float(np.arctan2(T[1, 0], T[0, 0]))
    c, s = np.cos(yaw), np.sin(yaw)
    origin_w = np.array([c * origin[0] - s * origin[1], s * origin[0] + c * origin[1]]) + T[:2, 3]
    return Heightfield(heights + T[2, 3], origin_w, res, yaw)


def step_heightfield(
    step_x: float = 0.35, step_height: float = 0.1, size: float = 8.0, resolution: float = 0.04
) -> Heightfield:
    """The default scene: flat ground at z = 0 and a step up of ``step_height`` for x >= ``step_x``.

    The hfield interpolates between samples, so the step face is a one-cell ramp ending at the first
    sample at or past ``step_x``. 4 cm keeps ray casts (the simulated LiDAR) and foot contacts cheap:
    at 2 cm both cost about twice as much.
    """
    n = int(round(size / resolution)) + 1
    xs = -size / 2 + np.arange(n) * resolution
    heights = np.where(xs[None, :] >= step_x - 1e-9, step_height, 0.0) * np.ones((n, 1))
    return Heightfield(heights, np.array([-size / 2, -size / 2]), resolution)


def add_heightfield(spec, field: Heightfield, name: str = "terrain"):  # spec: mujoco.MjSpec -> MjsGeom
    """Add ``field`` to ``spec`` as an hfield geom (unknown cells take the lowest known height)."""
    import mujoco

    h = field.heights
    if not np.isfinite(h).any():
        raise InputError("heightfield has no known cell; nothing to stand on")
    filled = np.where(np.isfinite(h), h, np.nanmin(h))
    lo, hi = float(filled.min()), float(filled.max())
    span = max(hi - lo, 1e-3)
    nrow, ncol = filled.shape
    hf = spec.add_hfield()
    hf.name = name
    hf.nrow, hf.ncol = nrow, ncol
    rx, ry = (ncol - 1) * field.resolution / 2, (nrow - 1) * field.resolution / 2
    base = 0.1  # thickness below the lowest point
    hf.size = [rx, ry, span, base]
    hf.userdata = ((filled - lo) / span).reshape(-1).tolist()
    geom = spec.worldbody.add_geom()
    geom.name = name
    geom.type = mujoco.mjtGeom.mjGEOM_HFIELD
    geom.hfieldname = name
    geom.group = TERRAIN_GROUP
    c, s = np.cos(field.yaw), np.sin(field.yaw)
    centre_local = np.array([rx, ry])
    centre = field.origin_xy + np.array(
        [c * centre_local[0] - s * centre_local[1], s * centre_local[0] + c * centre_local[1]]
    )
    geom.pos = [float(centre[0]), float(centre[1]), lo]
    geom.quat = [float(np.cos(field.yaw / 2)), 0.0, 0.0, float(np.sin(field.yaw / 2))]
    return geom


def scene_spec(field: Heightfield | None = None, variant: str = "23dof"):  # -> mujoco.MjSpec
    """G1 (torque actuators) standing on ``field`` (default: :func:`step_heightfield`)."""
    from videomimic_offline.robot.model import g1_spec

    spec = g1_spec(variant, actuators=True, floor=False)  # type: ignore[arg-type]
    add_heightfield(spec, field if field is not None else step_heightfield())
    return spec
