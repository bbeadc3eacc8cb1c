"""Ego-view RGB-D along a retargeted motion: the ``videomimic.egoview`` artifact.

Output folder (written atomically, resumable by input hash):
- ``egoview.npz`` — schema ``videomimic.egoview`` v1: ``fps`` (), ``time_s`` (T,) s from the
  motion's start, ``image_size`` (2,) (w, h) px, ``K`` (3,3) px (OpenCV), ``T_world_cam`` (T,4,4)
  head camera poses (OpenCV axes: x right, y down, z forward) in the motion world frame,
  ``depth_m`` (T,H,W) float16 camera-z depth in metres (0 where invalid; float16 resolves 0.05 %,
  finer than the sensor's own ~2 % error at 2 m), ``valid`` (T,H,W) bool (a surface of the
  reconstructed scene within the sensor's depth range), ``depth_range_m`` (2,), and, with
  ``--rgb-in-npz``, ``rgb`` (T,H,W,3) uint8.
- ``egoview.mp4`` — RGB | colour-mapped depth side by side (H.264); invalid depth is black.
- ``info.json`` — scene geometry, coloured share, valid share, render speed; ``config.json``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from videomimic_offline import artifacts

SCHEMA = "videomimic.egoview"
VERSION = 1
#: Depth colour scale of the video [m] (turbo colour map, near = blue).
DEPTH_VIS_RANGE_M = (0.3, 4.0)


@dataclass
class EgoFrames:
    """Rendered frames: rgb (T,H,W,3) uint8, depth (T,H,W) float32 m (0 invalid), valid (T,H,W)."""

    times: np.ndarray
    T_world_cam: np.ndarray
    K: np.ndarray
    rgb: np.ndarray
    depth: np.ndarray
    valid: np.ndarray
    render_s: float


def render_frames(
    scene,  # EgoScene
    K: np.ndarray,
    size: tuple[int, int],
    times: np.ndarray,
    poses: np.ndarray,
    depth_range: tuple[float, float],
    progress: Callable[[int], None] | None = None,
) -> EgoFrames:
    """Rasterise every pose; depth outside ``depth_range`` (the sensor's) counts as invalid."""
    from videomimic_offline.egoview.gl import MeshRasterizer

    w, h = size
    rgb = np.zeros((len(poses), h, w, 3), np.uint8)
    depth = np.zeros((len(poses), h, w), np.float32)
    rast = MeshRasterizer(w, h)
    try:
        rast.add_mesh(scene.vertices, scene.faces, scene.colors)
        t0 = time.perf_counter()
        for i, T in enumerate(poses):
            rgb[i], depth[i] = rast.render(K, T, near=0.02, far=max(50.0, 2 * depth_range[1]))
            if progress:
                progress(1)
        render_s = time.perf_counter() - t0
    finally:
        rast.release()
    valid = (depth >= depth_range[0]) & (depth <= depth_range[1])
    depth[~valid] = 0.0
    return EgoFrames(times, poses, K, rgb, depth, valid, render_s)


def depth_to_colour(depth: np.ndarray, valid: np.ndarray, lo: float, hi: float) -> np.ndarray:
    """(H,W) metres -> (H,W,3) uint8 turbo colours, black where invalid."""
    import cv2

    x = np.clip((depth - lo) / (hi - lo), 0.0, 1.0)
    img = cv2.applyColorMap((x * 255).astype(np.uint8), cv2.COLORMAP_TURBO)[:, :, ::-1]
    img[~valid] = 0
    return img


def side_by_side(rgb: np.ndarray, depth: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """One video frame: RGB | depth, labelled, with the depth scale written on it."""
    import cv2

    lo, hi = DEPTH_VIS_RANGE_M
    frame = np.concatenate([rgb, depth_to_colour(depth, valid, lo, hi)], axis=1).copy()
    w = rgb.shape[1]
    font, s = cv2.FONT_HERSHEY_SIMPLEX, max(0.4, w / 1300)
    for x, text in ((8, "head camera RGB (from the video)"), (w + 8, f"depth {lo:g}-{hi:g} m (black: unknown)")):
        cv2.putText(frame, text, (x, int(24 * s / 0.5)), font, s, (0, 0, 0), 3, cv2.LINE_AA)
        cv2.putText(frame, text, (x, int(24 * s / 0.5)), font, s, (255, 255, 255), 1, cv2.LINE_AA)
    return frame


def write_egoview(out_dir: Path, frames: EgoFrames, depth_range: tuple[float, float], fps: float,
                  rgb_in_npz: bool) -> None:  # fmt: skip
    """Write egoview.npz and egoview.mp4 into ``out_dir`` (an atomic_dir temp folder)."""
    from videomimic_offline.real2sim.visualize import encode_mp4

    h, w = frames.depth.shape[1:]
    extra = {"rgb": frames.rgb} if rgb_in_npz else {}
    artifacts.write_npz(
        Path(out_dir) / "egoview.npz",
        schema=SCHEMA,
        version=VERSION,
        fps=np.array(fps),
        time_s=frames.times.astype(np.float64),
        image_size=np.array([w, h]),
        K=frames.K.astype(np.float64),
        T_world_cam=frames.T_world_cam.astype(np.float64),
        depth_m=frames.depth.astype(np.float16),
        valid=frames.valid,
        depth_range_m=np.array(depth_range, np.float64),
        **extra,
    )
    encode_mp4(
        (side_by_side(r, d, v) for r, d, v in zip(frames.rgb, frames.depth, frames.valid, strict=True)),
        Path(out_dir) / "egoview.mp4",
        fps,
    )


def read_egoview(path: Path) -> dict[str, np.ndarray]:
    """Load ``egoview.npz`` with its schema checked."""
    return artifacts.read_npz(Path(path), schema=SCHEMA, max_version=VERSION)
