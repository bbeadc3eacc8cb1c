"""A handheld-like camera that follows the person: smooth orbit + lag + shake.

Why this shape: SfM needs the camera to translate (parallax), the benchmark needs the person
fully in view, and a phone video has low-frequency drift plus small high-frequency shake.
"""

from __future__ import annotations

import numpy as np
from scipy.ndimage import gaussian_filter1d

from videomimic_offline.body.model import axis_angle_to_mat


def look_at(position: np.ndarray, target: np.ndarray) -> np.ndarray:
    """OpenCV camera-to-world rotations (T,3,3) looking from ``position`` at ``target`` (T,3)."""
    z = target - position
    z /= np.linalg.norm(z, axis=-1, keepdims=True)
    x = np.cross(z, np.array([0.0, 0.0, 1.0]))
    x /= np.linalg.norm(x, axis=-1, keepdims=True)
    y = np.cross(z, x)
    return np.stack([x, y, z], axis=-1)


def project(points_w: np.ndarray, T_world_cam: np.ndarray, K: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Pixels (T,N,2) and camera depths (T,N) of world points (T,N,3) for per-frame cameras."""
    R = T_world_cam[:, :3, :3]
    t = T_world_cam[:, :3, 3]
    pc = (points_w - t[:, None, :]) @ R  # R^T (p - t) for every point, as one batched matmul
    z = pc[..., 2]
    uv = (pc @ np.asarray(K).T)[..., :2] / np.maximum(z[..., None], 1e-9)
    return uv, z


def _shake(rng: np.random.Generator, t: np.ndarray, amp: float, n: int = 3) -> np.ndarray:
    """Sum of ``n`` random sinusoids per axis (T,3), 0.6-3 Hz, overall amplitude ~``amp``."""
    out = np.zeros((len(t), 3))
    for _ in range(n):
        f = rng.uniform(0.6, 3.0, 3)
        ph = rng.uniform(0, 2 * np.pi, 3)
        out += np.sin(2 * np.pi * f[None] * t[:, None] + ph[None]) * rng.uniform(0.4, 1.0, 3)[None]
    return out * amp / n


def handheld_path(
    joints_w: np.ndarray,
    fps: float,
    rng: np.random.Generator,
    K: np.ndarray,
    image_size: tuple[int, int],
    height_m: float,
    *,
    margin_px: float = 8.0,
) -> tuple[np.ndarray, dict[str, float]]:
    """Camera-to-world transforms (T,4,4) that keep every joint (and the head top) in view.

    The camera orbits the person's smoothed centre on the -y side by a random 15-35 degrees at
    2.6-3.4 m (for a 1.75 m person), lags behind the person, and shakes (~0.5 degree, ~1 cm). If the person leaves the
    image the orbit radius grows until everything fits.
    """
    T = len(joints_w)
    t = np.arange(T) / fps
    centre = gaussian_filter1d(joints_w.mean(1), 0.5 * fps, axis=0, mode="nearest")
    phi0 = np.radians(rng.uniform(-125, -55))
    dphi = np.radians(rng.uniform(15, 35)) * rng.choice([-1, 1])
    dist0 = rng.uniform(2.6, 3.4) * height_m / 1.75
    cam_dz = rng.uniform(-0.05, 0.4)
    rot_amp = np.radians(rng.uniform(0.3, 0.7))
    pos_amp = rng.uniform(0.004, 0.012)
    shake_r = _shake(rng, t, rot_amp)
    shake_p = _shake(rng, t, pos_amp)
    s = t / max(t[-1], 1e-9)
    phi = phi0 + dphi * (s - 0.5)
    # points that must stay visible: joints plus the top of the head
    head_top = joints_w[:, 5:6] + np.array([0.0, 0.0, 0.1 * height_m])
    pts = np.concatenate([joints_w, head_top], axis=1)
    w, h = image_size
    dist = dist0
    for _attempt in range(12):
        pos = centre + np.stack([dist * np.cos(phi), dist * np.sin(phi), cam_dz + 0.0 * phi], 1)
        pos = gaussian_filter1d(pos, 0.35 * fps, axis=0, mode="nearest") + shake_p
        target = gaussian_filter1d(centre, 0.2 * fps, axis=0, mode="nearest")
        R = look_at(pos, target) @ axis_angle_to_mat(shake_r)
        Tw = np.tile(np.eye(4), (T, 1, 1))
        Tw[:, :3, :3] = R
        Tw[:, :3, 3] = pos
        uv, z = project(pts, Tw, K)
        ok = (z > 0.3).all() and (uv[..., 0] >= margin_px).all() and (uv[..., 0] <= w - 1 - margin_px).all()
        ok = ok and (uv[..., 1] >= margin_px).all() and (uv[..., 1] <= h - 1 - margin_px).all()
        if ok:
            break
        dist *= 1.12
    info = {
        "orbit_start_deg": float(np.degrees(phi0 - dphi / 2)),
        "orbit_sweep_deg": float(np.degrees(dphi)),
        "distance_m": float(dist),
        "height_above_person_centre_m": float(cam_dz),
        "shake_deg": float(np.degrees(rot_amp)),
        "shake_m": float(pos_amp),
        "path": "orbit-follow + lag + shake",
    }
    return Tw, info
