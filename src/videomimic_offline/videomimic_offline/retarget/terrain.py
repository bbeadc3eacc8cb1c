"""The retargeter's view of the ground: a heightfield (see :mod:`contracts.heightfield`) or the flat floor.

The retargeter keeps feet on, and every collision point above, the heightfield's surface — the same
surface training and the simulator build (unknown cells at the lowest known height). It refuses to
plant a foot on a cell nobody saw (:meth:`Terrain.known`). Queries use the cell that contains a point
(a heightfield is piecewise constant); constraints use a copy dilated by a couple of centimetres
so a foot crossing a step edge between two solver iterations cannot sink into the riser.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from videomimic_offline.contracts.heightfield import Heightfield


@dataclass
class Terrain:
    """A heightfield with its dilated surface or, with ``field`` None, the flat floor z = 0."""

    field: Heightfield | None = None
    dilated: np.ndarray | None = None  # (H, W) max-filtered surface

    @property
    def is_flat(self) -> bool:
        return self.field is None

    @property
    def source(self) -> str:
        return self.field.name if self.field is not None else ""

    def height(self, xy: np.ndarray, dilated: bool = False) -> np.ndarray:
        """Ground height under each xy (unknown cells: the lowest known height; NaN outside the grid)."""
        xy = np.asarray(xy, dtype=np.float64)
        if self.field is None:
            return np.zeros(xy.shape[:-1])
        return self.field.height_at(xy, grid=self.dilated if dilated else None)

    def known(self, xy: np.ndarray) -> np.ndarray:
        """True where the ground under xy was observed (always on the flat floor)."""
        xy = np.asarray(xy, dtype=np.float64)
        if self.field is None:
            return np.ones(xy.shape[:-1], bool)
        return self.field.known_at(xy)


def flat() -> Terrain:
    """The flat floor at z = 0 (used when no heightfield is given)."""
    return Terrain()


def from_field(field: Heightfield, dilate_m: float = 0.02) -> Terrain:
    """The retargeter's terrain for a heightfield: its surface and a copy max-filtered over ``dilate_m``."""
    from scipy.ndimage import maximum_filter

    r = max(1, int(np.ceil(dilate_m / field.resolution)))
    return Terrain(field, maximum_filter(field.surface, size=2 * r + 1, mode="nearest"))


def from_heights(
    heights: np.ndarray, origin_xy, resolution: float, source: str = "", dilate_m: float = 0.02
) -> Terrain:
    """A Terrain from a height grid (NaN = unknown), e.g. a generated scene."""
    return from_field(Heightfield(heights, origin_xy, resolution, name=source), dilate_m)


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
