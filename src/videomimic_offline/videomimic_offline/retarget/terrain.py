"""Terrain height queries against the reconstructed heightfield (NaN = never seen).

The retargeter keeps feet on, and every collision point above, this surface. Queries use the
value of the cell that contains a point (a heightfield is piecewise constant); constraints use a
copy dilated by a couple of centimetres so a foot crossing a step edge between two solver
iterations cannot sink into the riser.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from videomimic_offline import artifacts
from videomimic_offline.errors import InputError

SCHEMA = "videomimic.heightfield"
VERSION = 1


@dataclass
class Terrain:
    """A heightfield (row = y, column = x) or, with ``heights`` None, the flat floor z = 0."""

    heights: np.ndarray | None = None  # (H, W), NaN unknown
    origin_xy: np.ndarray = field(default_factory=lambda: np.zeros(2))
    resolution: float = 0.05
    source: str = ""
    dilated: np.ndarray | None = None

    @property
    def is_flat(self) -> bool:
        return self.heights is None

    def _cells(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        ij = np.rint((np.asarray(xy)[..., :2] - self.origin_xy) / self.resolution).astype(np.int64)
        col, row = ij[..., 0], ij[..., 1]
        H, W = self.heights.shape  # type: ignore[union-attr]
        inside = (row >= 0) & (row < H) & (col >= 0) & (col < W)
        return np.clip(row, 0, H - 1), np.clip(col, 0, W - 1), inside

    def height(self, xy: np.ndarray, dilated: bool = False) -> np.ndarray:
        """Surface height under each xy (NaN outside the grid or over unknown cells)."""
        xy = np.asarray(xy, dtype=np.float64)
        if self.heights is None:
            return np.zeros(xy.shape[:-1])
        row, col, inside = self._cells(xy)
        grid = self.dilated if dilated and self.dilated is not None else self.heights
        h = grid[row, col]
        return np.where(inside, h, np.nan)

    def known(self, xy: np.ndarray) -> np.ndarray:
        """True where the surface under xy was observed."""
        return np.isfinite(self.height(xy))


def flat() -> Terrain:
    """The flat floor at z = 0 (used when no heightfield is given)."""
    return Terrain(heights=None, source="")


def from_heights(
    heights: np.ndarray, origin_xy, resolution: float, source: str = "", dilate_m: float = 0.02
) -> Terrain:
    """Build a Terrain and its dilated copy (max filter over ``dilate_m``; unknown cells stay unknown)."""
    from scipy.ndimage import maximum_filter

    h = np.asarray(heights, dtype=np.float64)
    r = max(1, int(np.ceil(dilate_m / resolution)))
    filled = np.where(np.isfinite(h), h, -np.inf)
    dil = maximum_filter(filled, size=2 * r + 1, mode="nearest")
    dil = np.where(np.isfinite(h), dil, np.nan)
    return Terrain(h, np.asarray(origin_xy, np.float64), float(resolution), source, dil)


def read_heightfield(path: Path) -> Terrain:
    """Read ``heightfield.npz`` (schema videomimic.heightfield v1), mapped into the motion world frame."""
    data = artifacts.read_npz(Path(path), schema=SCHEMA, max_version=VERSION)
    for key in ("heights", "origin_xy", "resolution"):
        if key not in data:
            raise InputError(f"{path}: key '{key}' is missing; re-run the stage that wrote the heightfield")
    heights = np.asarray(data["heights"], np.float64)
    if "known" in data:
        heights = np.where(np.asarray(data["known"], bool), heights, np.nan)
    T = np.asarray(data.get("T_world_scene", np.eye(4)), np.float64)
    if not np.allclose(T[:3, :3], np.eye(3), atol=1e-6):
        raise InputError(
            f"{path}: T_world_scene rotates the scene; re-export the heightfield in the motion world frame"
        )
    heights = heights + T[2, 3]
    origin = np.asarray(data["origin_xy"], np.float64) + T[:2, 3]
    return from_heights(heights, origin, float(data["resolution"]), source=str(path))


def write_heightfield(path: Path, heights: np.ndarray, origin_xy, resolution: float) -> None:
    """Write schema videomimic.heightfield v1 (tests, bench and synthetic scenes)."""
    heights = np.asarray(heights, np.float64)
    artifacts.write_npz(
        Path(path),
        schema=SCHEMA,
        version=VERSION,
        heights=heights,
        known=np.isfinite(heights),
        origin_xy=np.asarray(origin_xy, np.float64),
        resolution=np.float64(resolution),
        T_world_scene=np.eye(4),
    )


def staircase(
    n_steps: int = 4, rise: float = 0.12, run: float = 0.35, start_x: float = 1.0, resolution: float = 0.02,
    x_range=(-1.0, 5.0), y_range=(-1.0, 1.0),
) -> tuple[np.ndarray, np.ndarray, float]:  # fmt: skip
    """A straight staircase along +x (flat floor, ``n_steps`` steps, then a landing): (heights, origin, res)."""
    xs = np.arange(x_range[0], x_range[1] + 1e-9, resolution)
    ys = np.arange(y_range[0], y_range[1] + 1e-9, resolution)
    step = np.clip(np.floor((xs - start_x) / run) + 1, 0, n_steps)
    h_x = step * rise
    heights = np.tile(h_x[None, :], (len(ys), 1))
    return heights, np.array([xs[0], ys[0]]), resolution
