"""The ground-truth heightfield of a synthetic clip: the terrain (floor, stairs, curb, seat) the
person used, gridded like real2sim's ``heightfield.npz``.

Why: retargeting and training read terrain as a heightfield; with the true one a test or a bench
can tell reconstruction error from retargeting error (retarget the ground-truth motion on the
ground-truth terrain), and the metrics can score a reconstruction against the same grid.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from videomimic_offline.real2sim.synthetic.scenes import Scene, top_surface_height

#: Scene parts that are terrain (what a robot stands or sits on); walls and props are background.
TERRAIN_PARTS = ("floor", "feature")


def terrain_faces(gt: dict[str, np.ndarray]) -> np.ndarray:
    """Faces (F,3) of the clip's terrain parts (floor + the feature: stairs, curb, bench, chair, ledge)."""
    names = [str(n) for n in gt["scene_part_names"]]
    keep = np.isin(gt["scene_face_part"], [k for k, n in enumerate(names) if n in TERRAIN_PARTS])
    return np.asarray(gt["scene_faces"])[keep]


def heights_over(
    vertices: np.ndarray, faces: np.ndarray, xy: np.ndarray, resolution: float = 0.02, margin_m: float = 1.0
) -> tuple[np.ndarray, np.ndarray, float]:
    """(heights (H,W), origin_xy (2,), resolution): the highest upward-facing face of the mesh over
    each cell centre, on a grid covering the points ``xy`` (N,2) plus ``margin_m`` (row = y, column = x)."""
    xy = np.asarray(xy, np.float64).reshape(-1, 2)
    lo = np.floor((xy.min(0) - margin_m) / resolution) * resolution
    hi = xy.max(0) + margin_m
    xs = lo[0] + np.arange(int(np.ceil((hi[0] - lo[0]) / resolution)) + 1) * resolution
    ys = lo[1] + np.arange(int(np.ceil((hi[1] - lo[1]) / resolution)) + 1) * resolution
    X, Y = np.meshgrid(xs, ys)
    return top_surface_height(vertices, faces, np.stack([X, Y], -1)), lo, float(resolution)


def gt_heights(
    gt: dict[str, np.ndarray], resolution: float = 0.02, margin_m: float = 1.0
) -> tuple[np.ndarray, np.ndarray, float]:
    """The clip's terrain as a heightfield over the person's path plus ``margin_m`` (see :func:`heights_over`)."""
    return heights_over(gt["scene_vertices"], terrain_faces(gt), gt["joints_w"][..., :2], resolution, margin_m)


def scene_heights(
    scene: Scene, xy: np.ndarray, resolution: float = 0.02, margin_m: float = 1.0
) -> tuple[np.ndarray, np.ndarray, float]:
    """A generated :class:`Scene`'s terrain (before any rendering) as a heightfield over ``xy``."""
    parts = [p for p in scene.parts if p.name in TERRAIN_PARTS]
    offsets = np.cumsum([0] + [len(p.vertices) for p in parts[:-1]])
    v = np.vstack([p.vertices for p in parts])
    f = np.vstack([p.faces + o for p, o in zip(parts, offsets, strict=True)])
    return heights_over(v, f, xy, resolution, margin_m)


def write_gt_heightfield(clip_dir: Path, out: Path, resolution: float = 0.02) -> Path:
    """Write the clip's ground-truth terrain as ``heightfield.npz`` (schema videomimic.heightfield v1)."""
    from videomimic_offline.contracts.heightfield import Heightfield, write_heightfield
    from videomimic_offline.real2sim.synthetic.clip import load_gt

    H, origin, res = gt_heights(load_gt(Path(clip_dir)), resolution)
    write_heightfield(Path(out), Heightfield(H, origin, res))
    return Path(out)
