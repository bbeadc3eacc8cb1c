"""MegaSaM / MonST3R outputs as the camera + scene source (``camera_backend="megasam"``).

Reads the npz those tools write (MegaSaM's ``sgd_cvd_hr.npz`` layout): ``depths`` (T,h,w) float,
``intrinsic`` (3,3) px at depth resolution, ``cam_c2w`` (T,4,4) camera-to-world (OpenCV axes);
``images`` is optional. Depth and poses share one (unknown) scale, fixed later by the person's
height like SfM's. Scene points are back-projected depths on a sparse pixel grid.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from videomimic_offline.errors import ConfigError, InputError
from videomimic_offline.real2sim.cameras import CameraTrack

REQUIRED = ("depths", "intrinsic", "cam_c2w")


def open_megasam(path: Path | None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Depths (T,h,w), intrinsics (3,3) and camera-to-world poses (T,4,4) of a MegaSaM npz, checked."""
    if path is None:
        raise ConfigError(
            "--cameras.backend megasam needs --cameras.megasam-npz: the local path of MegaSaM's output npz"
        )
    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path} does not exist: run MegaSaM/MonST3R yourself and give the output npz")
    try:
        with np.load(path, allow_pickle=False) as z:
            missing = [k for k in REQUIRED if k not in z.files]
            if missing:
                raise InputError(f"{path} lacks {', '.join(missing)}: expected MegaSaM keys {', '.join(REQUIRED)}")
            depths, K, c2w = (
                z["depths"].astype(np.float64),
                z["intrinsic"].astype(np.float64),
                z["cam_c2w"].astype(np.float64),
            )
    except InputError:
        raise
    except Exception as exc:
        raise InputError(f"{path} is not a readable npz ({type(exc).__name__}: {exc})") from exc
    if depths.ndim != 3 or c2w.shape != (len(depths), 4, 4) or K.shape != (3, 3):
        raise InputError(f"{path}: shapes depths {depths.shape}, cam_c2w {c2w.shape}, intrinsic {K.shape} disagree")
    if not (np.isfinite(c2w).all() and np.isfinite(K).all()):
        raise InputError(f"{path} holds NaN/inf poses or intrinsics")
    return depths, K, c2w


def read_megasam(
    path: Path | None, num_frames: int, image_size: tuple[int, int], stride: int = 8, max_views: int = 40
) -> CameraTrack:
    """CameraTrack at the processing resolution ``image_size`` (w, h) from a MegaSaM npz."""
    depths, K, c2w = open_megasam(path)
    if len(depths) != num_frames:
        raise InputError(f"{path} has {len(depths)} frames but the video has {num_frames}: give the matching run")
    T, h, w = depths.shape
    W, H = image_size
    sx, sy = W / w, H / h
    K_img = np.diag([sx, sy, 1.0]) @ K
    pts = []
    for t in np.linspace(0, T - 1, min(max_views, T)).round().astype(int):
        v, u = np.mgrid[stride // 2 : h : stride, stride // 2 : w : stride]
        d = depths[t, v, u]
        ok = np.isfinite(d) & (d > 0)
        rays = np.stack([(u[ok] - K[0, 2]) / K[0, 0], (v[ok] - K[1, 2]) / K[1, 1], np.ones(ok.sum())], axis=1)
        pc = rays * d[ok][:, None]
        pts.append(pc @ c2w[t, :3, :3].T + c2w[t, :3, 3])
    points = np.concatenate(pts) if pts else np.zeros((0, 3))
    return CameraTrack(K_img, c2w, points, np.full((len(points), 3), 160, np.uint8), np.arange(T), (W, H))
