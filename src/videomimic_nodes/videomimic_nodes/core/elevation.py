"""Robot-centric elevation map fused over time, and the policy's 11 x 11 heightmap from it.

The map is an axis-aligned grid in the odom frame that follows the robot in whole cells (like
grid_map's ``move``), so a cell keeps its meaning while it stays in view. Each scan is binned to
cells (mean height per cell); a cell fuses measurements as a 1-D Kalman filter (height and
variance, variance inflating with time so the map can follow changes) and records when it was
last seen. The policy heightmap samples the map at the yaw-aligned torso grid of
:func:`policy.observations.heightmap_points_w`; a cell with no measurement borrows the nearest
known neighbour within ``fill_radius`` (the original used nearest points within 0.15 m), and
falls back to ``g1.HEIGHTMAP_FALLBACK`` beyond.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import ndimage
from videomimic_offline.policy import observations as obs


@dataclass
class MapConfig:
    length: float = 4.0  # m, square
    resolution: float = 0.05
    meas_var: float = 0.02**2  # per-point height variance
    process_var_per_s: float = 0.01**2  # variance growth per second (lets the map forget)
    max_var: float = 0.5**2
    fill_radius: float = 0.15
    max_age_s: float = 10.0  # cells unseen for longer are dropped


class ElevationMap:
    """Height, variance and last-seen time per cell; ``arr[iy, ix]``, x and y ascending."""

    def __init__(self, cfg: MapConfig | None = None) -> None:
        self.cfg = cfg or MapConfig()
        self.n = int(round(self.cfg.length / self.cfg.resolution))
        self.height = np.full((self.n, self.n), np.nan)
        self.var = np.full((self.n, self.n), np.inf)
        self.seen = np.full((self.n, self.n), -np.inf)
        self.centre_ij = np.zeros(2, dtype=np.int64)  # map centre in whole cells of the odom frame
        self.t_last = None

    # ---- geometry -----------------------------------------------------------------------------
    @property
    def origin_xy(self) -> np.ndarray:
        """Odom xy of cell [0, 0]'s centre."""
        return (self.centre_ij - self.n // 2) * self.cfg.resolution

    def recentre(self, xy: np.ndarray) -> None:
        """Move the map (in whole cells) so ``xy`` is at its centre; cells shifted in are unknown."""
        new = np.floor(np.asarray(xy[:2]) / self.cfg.resolution + 0.5).astype(np.int64)
        shift = new - self.centre_ij
        if not shift.any():
            return
        self.centre_ij = new
        for arr, fill in ((self.height, np.nan), (self.var, np.inf), (self.seen, -np.inf)):
            moved = np.full_like(arr, fill)
            sx, sy = int(shift[0]), int(shift[1])
            if abs(sx) < self.n and abs(sy) < self.n:
                src = arr[max(sy, 0) : self.n + min(sy, 0), max(sx, 0) : self.n + min(sx, 0)]
                moved[max(-sy, 0) : self.n + min(-sy, 0), max(-sx, 0) : self.n + min(-sx, 0)] = src
            arr[...] = moved

    # ---- fusion -------------------------------------------------------------------------------
    def integrate(self, xyz_odom: np.ndarray, robot_xy: np.ndarray, now: float) -> int:
        """Fuse one cleaned scan (odom frame); returns the number of cells updated."""
        self._age(now)
        self.recentre(robot_xy)
        xyz = np.asarray(xyz_odom, dtype=np.float64).reshape(-1, 3)
        if len(xyz) == 0:
            return 0
        # column-wise ops: numpy's .all(axis=1) over (N, 3) is several times slower at 20k points
        x, y, z = xyz[:, 0], xyz[:, 1], xyz[:, 2]
        finite = np.isfinite(x + y + z)
        if not finite.all():
            x, y, z = x[finite], y[finite], z[finite]
        inv = 1.0 / self.cfg.resolution
        ox, oy = self.origin_xy
        ix = np.floor((x - ox) * inv + 0.5).astype(np.int64)
        iy = np.floor((y - oy) * inv + 0.5).astype(np.int64)
        ok = (ix >= 0) & (ix < self.n) & (iy >= 0) & (iy < self.n)
        lin = iy[ok] * self.n + ix[ok]
        z = z[ok]
        count = np.bincount(lin, minlength=self.n * self.n)
        zsum = np.bincount(lin, weights=z, minlength=self.n * self.n)
        cells = np.nonzero(count)[0]
        zm = zsum[cells] / count[cells]
        mvar = self.cfg.meas_var / np.sqrt(count[cells])
        h, v, s = self.height.reshape(-1), self.var.reshape(-1), self.seen.reshape(-1)
        prior = np.isfinite(h[cells])
        # Kalman update where known; plain assignment where new.
        hv, vv = h[cells], v[cells]
        with np.errstate(invalid="ignore"):  # inf variances of new cells are not selected
            fused_h = np.where(prior, (hv * mvar + zm * vv) / (vv + mvar), zm)
            fused_v = np.where(prior, vv * mvar / (vv + mvar), mvar)
        h[cells], v[cells], s[cells] = fused_h, fused_v, now
        return int(len(cells))

    def _age(self, now: float) -> None:
        if self.t_last is not None and now > self.t_last:
            self.var += self.cfg.process_var_per_s * (now - self.t_last)
        self.t_last = now
        stale = (now - self.seen > self.cfg.max_age_s) | (self.var > self.cfg.max_var)
        self.height[stale], self.var[stale] = np.nan, np.inf

    # ---- queries ------------------------------------------------------------------------------
    def filled(self) -> np.ndarray:
        """Heights with unknown cells taken from the nearest known cell within ``fill_radius``."""
        known = np.isfinite(self.height)
        if known.all() or not known.any():
            return self.height.copy()
        dist, (iy, ix) = ndimage.distance_transform_edt(~known, return_indices=True)
        out = self.height[iy, ix]
        out[dist * self.cfg.resolution > self.cfg.fill_radius + 1e-9] = np.nan
        return out

    def sample(self, xy: np.ndarray, heights: np.ndarray | None = None) -> np.ndarray:
        """Heights at odom points ``xy`` (..., 2), nearest cell; NaN when unknown or off-map."""
        grid = self.filled() if heights is None else heights
        ij = np.floor((np.asarray(xy) - self.origin_xy) / self.cfg.resolution + 0.5).astype(np.int64)
        ok = (ij >= 0).all(axis=-1) & (ij < self.n).all(axis=-1)
        out = np.full(ij.shape[:-1], np.nan)
        out[ok] = grid[ij[..., 1][ok], ij[..., 0][ok]]
        return out

    def policy_heightmap(self, torso_pos: np.ndarray, torso_yaw: float) -> np.ndarray:
        """(121,) ``torso_z - ground_z`` in the policy's layout, fallback where unknown."""
        pts = obs.heightmap_points_w(torso_pos, torso_yaw)
        return obs.heightmap_values(float(torso_pos[2]), self.sample(pts))

    def age(self, now: float) -> np.ndarray:
        return np.where(np.isfinite(self.seen), now - self.seen, np.inf)
