"""Heightfield ``heightfield.npz``: schema ``videomimic.heightfield`` v1 — the record, its one writer,
its one reader, and the one policy for unknown cells and transforms.

Written by real2sim's scene stage (and by tests, benches and the sample data); read by
retargeting, training and the simulator, which therefore stand the robot on the same ground.

Conventions (as stored):

- ``heights`` (H,W) metres, world frame z up. Row index = y, column index = x: cell ``[r, c]`` is
  centred at ``origin_xy + (c, r) * resolution``. NaN = unknown (never seen).
- ``known`` (H,W) bool = ``isfinite(heights)``; ``origin_xy`` (2,) world xy of cell [0, 0]'s
  centre; ``resolution`` () metres per cell.
- ``T_world_scene`` (4,4) maps the grid's frame to the motion's world frame. The writer always
  stores the identity (a record is in the world frame); files from elsewhere may carry one.
- ``source`` (H,W) uint8, optional: where each cell's height came from — 0 unknown, 1 dense stereo /
  TSDF, 2 SfM points, 3 a contact-derived solid (floor, step, seat). ``from_contact`` (H,W) bool,
  optional: real2sim set (or fused) the cell's height from a planted foot's sole.

The policy, applied once, here, on reading:

- **Transforms**: a translation is applied exactly; a rotation about z (yaw) is resampled once onto
  a world-aligned grid of the same resolution (nearest cell; cells outside the rotated grid are
  unknown); a tilt is refused (a heightfield cannot represent it).
- **Unknown cells**: a query at an unknown cell answers the *lowest known height* of the field
  (:attr:`Heightfield.surface`): the ground physics needs somewhere, and never a phantom obstacle.
  Whether a cell was seen is asked separately (:meth:`Heightfield.known_at`): retargeting refuses to
  plant a foot on an unseen cell.
- **Outside the grid**: NaN from :meth:`Heightfield.height_at`; each consumer says what it puts
  there (training: a floor at the lowest height around the patch; the simulator: nothing).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import numpy as np

from videomimic_offline import artifacts
from videomimic_offline.errors import ArtifactError

SCHEMA = "videomimic.heightfield"
VERSION = 1
FILE = "heightfield.npz"

#: ``source`` codes per cell.
SOURCE_UNKNOWN, SOURCE_DENSE, SOURCE_SFM, SOURCE_CONTACT = 0, 1, 2, 3


@dataclass(eq=False)
class Heightfield:
    """A world-aligned height grid (see the module docstring for the unknown-cell policy)."""

    heights: np.ndarray  # (H, W) m, NaN = unknown
    origin_xy: np.ndarray  # (2,) world xy of cell [0, 0] centre
    resolution: float
    source: np.ndarray | None = None  # (H, W) uint8 codes
    from_contact: np.ndarray | None = None  # (H, W) bool
    name: str = field(default="", compare=False)  # where it came from, for messages

    def __post_init__(self) -> None:
        self.heights = np.asarray(self.heights, np.float64)
        self.origin_xy = np.asarray(self.origin_xy, np.float64).reshape(2)
        self.resolution = float(self.resolution)
        where = self.name or "heightfield"
        if self.heights.ndim != 2 or min(self.heights.shape) < 2 or not self.resolution > 0:
            raise ArtifactError(
                f"{where}: heights {self.heights.shape} at resolution {self.resolution}; "
                "need (H>=2, W>=2) cells and a resolution > 0"
            )

    @property
    def known(self) -> np.ndarray:
        return np.isfinite(self.heights)

    @cached_property
    def surface(self) -> np.ndarray:
        """(H, W) the ground everyone uses: unknown cells at the lowest known height."""
        if not self.known.any():
            raise ArtifactError(f"{self.name or 'heightfield'} has no known cell: nothing to stand on")
        return np.where(self.known, self.heights, np.nanmin(self.heights))

    @property
    def extent(self) -> tuple[float, float]:
        """(x, y) size in metres between the outer cell centres."""
        H, W = self.heights.shape
        return ((W - 1) * self.resolution, (H - 1) * self.resolution)

    @property
    def center_xy(self) -> np.ndarray:
        ex, ey = self.extent
        return self.origin_xy + np.array([ex / 2, ey / 2])

    def cells(self, xy: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(row, column, inside) of the cell containing each world point ``xy`` (..., 2); indices clipped."""
        ij = np.rint((np.asarray(xy, np.float64)[..., :2] - self.origin_xy) / self.resolution).astype(np.int64)
        col, row = ij[..., 0], ij[..., 1]
        H, W = self.heights.shape
        inside = (row >= 0) & (row < H) & (col >= 0) & (col < W)
        return np.clip(row, 0, H - 1), np.clip(col, 0, W - 1), inside

    def height_at(self, xy: np.ndarray, grid: np.ndarray | None = None) -> np.ndarray:
        """Ground height under each xy (unknown cells: the lowest known height; outside: NaN).

        ``grid`` (H, W): query another grid of the same layout instead (e.g. a dilated surface).
        """
        row, col, inside = self.cells(xy)
        h = (self.surface if grid is None else grid)[row, col]
        return np.where(inside, h, np.nan)

    def known_at(self, xy: np.ndarray) -> np.ndarray:
        """True where the cell under xy was observed."""
        row, col, inside = self.cells(xy)
        return inside & self.known[row, col]


def write_heightfield(path: Path, hf: Heightfield) -> None:
    """Write ``heightfield.npz`` in the world frame (the only writer of this schema)."""
    optional: dict[str, np.ndarray] = {}
    if hf.source is not None:
        optional["source"] = np.asarray(hf.source, np.uint8)
    if hf.from_contact is not None:
        optional["from_contact"] = np.asarray(hf.from_contact, bool)
    artifacts.write_npz(
        Path(path), schema=SCHEMA, version=VERSION, heights=hf.heights, known=hf.known, origin_xy=hf.origin_xy,
        resolution=np.float64(hf.resolution), T_world_scene=np.eye(4), **optional,
    )  # fmt: skip


def read_heightfield(path: Path) -> Heightfield:
    """Read ``heightfield.npz`` (or a scene folder holding one) into the world frame, applying the
    transform policy above (the only reader of this schema)."""
    path = Path(path)
    if path.is_dir():
        path = path / FILE
    d = artifacts.read_npz(path, schema=SCHEMA, max_version=VERSION)
    missing = [k for k in ("heights", "origin_xy", "resolution") if k not in d]
    if missing:
        raise ArtifactError(f"{path} lacks {missing}; re-run the stage that wrote the heightfield")
    heights = np.asarray(d["heights"], np.float64)
    if "known" in d:
        heights = np.where(np.asarray(d["known"], bool), heights, np.nan)
    layers = {k: d[k] for k in ("source", "from_contact") if k in d}
    origin = np.asarray(d["origin_xy"], np.float64).reshape(2)
    res = float(d["resolution"])
    T = np.asarray(d.get("T_world_scene", np.eye(4)), np.float64)
    if not np.allclose(T[2, :3], [0.0, 0.0, 1.0], atol=1e-6) or not np.allclose(T[:2, 2], 0.0, atol=1e-6):
        raise ArtifactError(
            f"{path}: T_world_scene tilts the scene; a heightfield can only be translated or turned about z"
        )
    yaw = float(np.arctan2(T[1, 0], T[0, 0]))
    if abs(yaw) > 1e-9:
        heights, origin, layers = _resample_yawed(heights, origin, res, yaw, layers)
    return Heightfield(
        heights + T[2, 3], origin + T[:2, 3], res,
        source=layers.get("source"), from_contact=layers.get("from_contact"), name=str(path),
    )  # fmt: skip


def _resample_yawed(
    heights: np.ndarray, origin: np.ndarray, res: float, yaw: float, layers: dict[str, np.ndarray]
) -> tuple[np.ndarray, np.ndarray, dict[str, np.ndarray]]:
    """A grid turned by ``yaw`` about the world origin, resampled (nearest cell) onto world axes."""
    c, s = np.cos(yaw), np.sin(yaw)
    R = np.array([[c, -s], [s, c]])
    H, W = heights.shape
    corners = origin + np.array([[0, 0], [W - 1, 0], [0, H - 1], [W - 1, H - 1]]) * res
    world = corners @ R.T
    lo, hi = world.min(axis=0), world.max(axis=0)
    nx, ny = (np.floor((hi - lo) / res).astype(int) + 1).tolist()
    X, Y = np.meshgrid(lo[0] + np.arange(nx) * res, lo[1] + np.arange(ny) * res)
    local = np.stack([X, Y], axis=-1) @ R  # world -> grid frame (R^T applied to row vectors)
    ij = np.rint((local - origin) / res).astype(np.int64)
    inside = (ij[..., 0] >= 0) & (ij[..., 0] < W) & (ij[..., 1] >= 0) & (ij[..., 1] < H)
    r, col = np.clip(ij[..., 1], 0, H - 1), np.clip(ij[..., 0], 0, W - 1)
    out = np.where(inside, heights[r, col], np.nan)
    resampled = {k: np.where(inside, v[r, col], 0).astype(v.dtype) for k, v in layers.items()}
    return out, lo, resampled
