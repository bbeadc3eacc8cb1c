"""Tiny ray-cast renderer for camera-stage tests: a textured floor (z = 0) and wall (y = 8) seen by
any camera path, and a textured sky sphere for cameras that only rotate. No person, no renderer."""

from __future__ import annotations

import cv2
import numpy as np

W, H = 320, 240
K = np.array([[230.0, 0.0, W / 2], [0.0, 230.0, H / 2], [0.0, 0.0, 1.0]])


def _texture(seed: int, size: int = 1024) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = rng.random((size // 8, size // 8)).astype(np.float32)
    t = cv2.resize(t, (size, size), interpolation=cv2.INTER_NEAREST)
    t += 0.5 * cv2.GaussianBlur(rng.random((size, size)).astype(np.float32), (0, 0), 2)
    return t / t.max()


def _rays(R_wc: np.ndarray) -> np.ndarray:
    u, v = np.meshgrid(np.arange(W) + 0.5, np.arange(H) + 0.5)
    d = np.stack([(u - K[0, 2]) / K[0, 0], (v - K[1, 2]) / K[1, 1], np.ones_like(u)], -1)
    return d @ R_wc.T


def look(yaw_deg: float, pitch_deg: float = 0.0) -> np.ndarray:
    """Camera-to-world rotation (OpenCV axes; world z up) looking along yaw (0 = +y), pitched down."""
    y, p = np.radians(yaw_deg), np.radians(pitch_deg)
    z = np.array([np.sin(y) * np.cos(p), np.cos(y) * np.cos(p), -np.sin(p)])
    x = np.cross(z, [0.0, 0.0, 1.0])
    x /= np.linalg.norm(x)
    return np.stack([x, np.cross(z, x), z], axis=1)


def render_room(T_world_cam: np.ndarray, seed: int = 0) -> np.ndarray:
    """(T,H,W,3) uint8 views of a textured floor and wall (y = 8 m) from camera poses (T,4,4)."""
    floor_tex, wall_tex = _texture(seed), _texture(seed + 1)
    out = []
    for Twc in T_world_cam:
        d, c = _rays(Twc[:3, :3]), Twc[:3, 3]
        with np.errstate(divide="ignore", invalid="ignore"):
            t_floor = np.where(d[..., 2] < -1e-6, -c[2] / d[..., 2], np.inf)
            t_wall = np.where(d[..., 1] > 1e-6, (8.0 - c[1]) / d[..., 1], np.inf)
        t = np.minimum(t_floor, t_wall)
        p = c + d * np.where(np.isfinite(t), t, 0.0)[..., None]
        on_floor = t_floor <= t_wall
        a = np.where(on_floor, p[..., 0], p[..., 0])
        b = np.where(on_floor, p[..., 1], p[..., 2])
        tex = np.where(on_floor, 0, 1)
        img = np.zeros((H, W), np.float32)
        for k, tx in ((0, floor_tex), (1, wall_tex)):
            m = (tex == k) & np.isfinite(t)
            mx = (np.mod(a * 40.0, tx.shape[1] - 1)).astype(np.float32)
            my = (np.mod(b * 40.0, tx.shape[0] - 1)).astype(np.float32)
            img = np.where(m, cv2.remap(tx, mx, my, cv2.INTER_LINEAR), img)
        out.append(np.repeat((img * 255).astype(np.uint8)[..., None], 3, axis=2))
    return np.stack(out)


def render_sky(R_wc: np.ndarray, seed: int = 0) -> np.ndarray:
    """(T,H,W,3) uint8 views of a textured sphere at infinity: what a camera that only rotates sees."""
    tex = _texture(seed, 2048)
    out = []
    for R in R_wc:
        d = _rays(R)
        d /= np.linalg.norm(d, axis=-1, keepdims=True)
        lon = (np.arctan2(d[..., 0], d[..., 1]) / (2 * np.pi) + 0.5) * (tex.shape[1] - 1)
        lat = (np.arcsin(np.clip(d[..., 2], -1, 1)) / np.pi + 0.5) * (tex.shape[0] - 1)
        img = cv2.remap(tex, lon.astype(np.float32), lat.astype(np.float32), cv2.INTER_LINEAR)
        out.append(np.repeat((img * 255).astype(np.uint8)[..., None], 3, axis=2))
    return np.stack(out)


def poses(R: np.ndarray, c: np.ndarray) -> np.ndarray:
    out = np.tile(np.eye(4), (len(R), 1, 1))
    out[:, :3, :3], out[:, :3, 3] = R, c
    return out
