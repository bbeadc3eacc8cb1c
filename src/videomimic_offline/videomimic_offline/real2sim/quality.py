"""How good a reconstruction is without ground truth: the figures a real clip is judged by.

A real video has no ground truth, but the reconstruction can still be checked against what it was
made from and against physics:

- **reprojection**: the fitted body projected through the fitted cameras, against the 2D detector's
  keypoints (median px, and as % of the image height so clips of any size compare);
- **ground contact**: a planted foot's sole against the reconstructed ground under it (mm);
- **foot slide**: how far a planted foot moves per frame (mm/frame);
- **smoothness**: RMS joint acceleration of the motion (m/s^2; jitter shows up here first).

real2sim's export computes them into ``report.json`` (``"quality"``); ``bench/real_videos.py``
reads them from there.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from videomimic_offline.body.skeleton import HUMAN_JOINTS

_IDX = HUMAN_JOINTS.index
ANKLES = (_IDX("left_ankle"), _IDX("right_ankle"))
TOES = (_IDX("left_toe"), _IDX("right_toe"))

HeightFn = Callable[[np.ndarray], np.ndarray]  # xy (...,2) -> ground height (...), NaN = unknown


def reprojection_px(
    joints_w: np.ndarray, T_world_cam: np.ndarray, K: np.ndarray, kp2d: np.ndarray, conf: np.ndarray, min_conf: float
) -> np.ndarray:
    """(T,J) pixel distance between each fitted joint's projection and the detector's keypoint;
    NaN where the detector had no keypoint above ``min_conf`` or the joint is behind the camera."""
    from videomimic_offline.real2sim.visualize import project

    uv, z = project(joints_w, T_world_cam, K)
    err = np.linalg.norm(uv - kp2d, axis=-1)
    ok = (conf >= min_conf) & (conf > 0) & np.isfinite(kp2d).all(-1) & (z > 0)
    return np.where(ok, err, np.nan)


def sole_ground_mm(joints_w: np.ndarray, contacts: np.ndarray, ground: HeightFn, ankle_height_m: float) -> np.ndarray:
    """(N,) |sole height - ground height| (mm) for every planted foot and frame whose ground is known.

    The sole is the ankle minus ``ankle_height_m`` (the fit's own sole model); the ground is the
    median known height under the sole's footprint (``scene.sole_samples``).
    """
    from videomimic_offline.real2sim.scene import sole_samples

    c = np.asarray(contacts, bool)
    out = []
    for k in range(2):
        t = np.flatnonzero(c[:, k])
        if len(t) == 0:
            continue
        ankle, toe = joints_w[t, ANKLES[k]], joints_w[t, TOES[k]]
        h = np.asarray(ground(sole_samples(ankle, toe)), np.float64)  # (N,K)
        known = np.isfinite(h).any(axis=1)
        if not known.any():
            continue
        g = np.nanmedian(h[known], axis=1)
        out.append(np.abs(ankle[known, 2] - ankle_height_m - g) * 1000.0)
    return np.concatenate(out) if out else np.zeros(0)


def foot_slide_mm_per_frame(joints_w: np.ndarray, contacts: np.ndarray) -> float:
    """Mean horizontal motion (mm/frame) of a planted foot's centre (ankle-toe midpoint) between
    consecutive frames in which it is planted; NaN when no foot stays planted for two frames."""
    c = np.asarray(contacts, bool)
    centre = 0.5 * (joints_w[:, list(ANKLES), :2] + joints_w[:, list(TOES), :2])  # (T,2,2)
    step = np.linalg.norm(np.diff(centre, axis=0), axis=-1)  # (T-1,2)
    both = c[1:] & c[:-1]
    return float(step[both].mean() * 1000.0) if both.any() else float("nan")


def joint_accel_rms(joints_w: np.ndarray, fps: float) -> float:
    """RMS over frames and joints of the joints' acceleration magnitude (m/s^2)."""
    if len(joints_w) < 3:
        return float("nan")
    a = np.diff(joints_w, n=2, axis=0) * fps**2
    return float(np.sqrt(np.nanmean(np.sum(a**2, axis=-1))))


def quality(
    joints_w: np.ndarray,
    contacts: np.ndarray,
    fps: float,
    T_world_cam: np.ndarray,
    K: np.ndarray,
    image_height: int,
    kp2d: np.ndarray,
    conf: np.ndarray,
    min_conf: float,
    ground: HeightFn,
    ankle_height_m: float,
) -> dict[str, object]:
    """Every figure above as one JSON-able dict (``report.json``'s ``"quality"``)."""
    rep = reprojection_px(joints_w, T_world_cam, K, kp2d, conf, min_conf)
    per_frame = np.full(len(rep), np.nan)
    seen = np.isfinite(rep).any(axis=1)
    per_frame[seen] = np.nanmedian(rep[seen], axis=1)
    med = float(np.nanmedian(rep)) if np.isfinite(rep).any() else float("nan")
    g = sole_ground_mm(joints_w, contacts, ground, ankle_height_m)
    planted = int(np.asarray(contacts, bool).sum())

    def r(x: float, n: int = 2) -> float | None:
        return round(float(x), n) if np.isfinite(x) else None

    return {
        "reproj_median_px": r(med),
        "reproj_pct_of_height": r(100.0 * med / image_height, 3),
        "reproj_px_per_frame": [r(v, 1) for v in per_frame],
        "ground_median_mm": r(np.median(g)) if len(g) else None,
        "ground_p95_mm": r(np.percentile(g, 95)) if len(g) else None,
        "ground_known_fraction": r(len(g) / planted, 3) if planted else None,
        "planted_foot_frames": planted,
        "slide_mm_per_frame": r(foot_slide_mm_per_frame(joints_w, contacts), 3),
        "joint_accel_rms": r(joint_accel_rms(joints_w, fps), 3),
    }
