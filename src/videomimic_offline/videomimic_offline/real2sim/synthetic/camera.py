"""Phone cameras for the synthetic clips, one path generator per casual-video regime.

Why these shapes: casual phone video is mostly a tripod or a phone held still, a pan that rotates
without translating, a hand that drifts a few centimetres, or an operator walking behind the
person; SfM only has an easy time with the orbit (the original benchmark camera). Each path keeps
the whole person (every joint and the head top) in view, has the amplitudes a phone has (shake
~0.3-0.9 degrees at 0.6-3 Hz, walking bob ~2 cm at the step frequency), and reports what it did in
an ``info`` dict that goes to ``meta.json``.

Focal length: phone main cameras are 24-28 mm full-frame equivalent; the equivalent focal is
defined across the frame's long side (36 mm), so ``f_px = f_mm / 36 * long_side_px`` (video crops
the sensor to 16:9 along the short side, and portrait video swaps the axes).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from scipy.ndimage import gaussian_filter1d

from videomimic_offline.body.model import axis_angle_to_mat

#: Full-frame width (mm) that a 35 mm-equivalent focal length refers to, across the long side.
FULL_FRAME_LONG_SIDE_MM = 36.0
#: Range of phone main-camera focal lengths (35 mm equivalent).
PHONE_FOCAL_MM = (24.0, 28.0)


def focal_px(focal_mm_equiv: float, image_size: tuple[int, int]) -> float:
    """Focal length in pixels of a ``focal_mm_equiv`` (35 mm equivalent) lens on this frame."""
    return float(focal_mm_equiv / FULL_FRAME_LONG_SIDE_MM * max(image_size))


def focal_mm_equiv(f_px: float, image_size: tuple[int, int]) -> float:
    """Inverse of :func:`focal_px`."""
    return float(f_px / max(image_size) * FULL_FRAME_LONG_SIDE_MM)


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


def must_see(joints_w: np.ndarray, height_m: float) -> np.ndarray:
    """Points (T,J+1,3) that every camera keeps in view: the joints plus the top of the head."""
    head_top = joints_w[:, 5:6] + np.array([0.0, 0.0, 0.1 * height_m])
    return np.concatenate([joints_w, head_top], axis=1)


def in_view(
    T_world_cam: np.ndarray, pts: np.ndarray, K: np.ndarray, image_size: tuple[int, int], margin_px: float
) -> bool:
    """True when every point (T,N,3) projects at least ``margin_px`` inside the image, 0.3 m ahead."""
    w, h = image_size
    uv, z = project(pts, T_world_cam, K)
    ok = (z > 0.3).all() and (uv[..., 0] >= margin_px).all() and (uv[..., 0] <= w - 1 - margin_px).all()
    return bool(ok and (uv[..., 1] >= margin_px).all() and (uv[..., 1] <= h - 1 - margin_px).all())


def _shake(rng: np.random.Generator, t: np.ndarray, amp: float, n: int = 3) -> np.ndarray:
    """Sum of ``n`` random sinusoids per axis (T,3), 0.6-3 Hz, overall amplitude ~``amp``."""
    out = np.zeros((len(t), 3))
    for _ in range(n):
        f = rng.uniform(0.6, 3.0, 3)
        ph = rng.uniform(0, 2 * np.pi, 3)
        out += np.sin(2 * np.pi * f[None] * t[:, None] + ph[None]) * rng.uniform(0.4, 1.0, 3)[None]
    return out * amp / n


def orbit_path(
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
    pts = must_see(joints_w, height_m)
    dist = dist0
    for _attempt in range(12):
        pos = centre + np.stack([dist * np.cos(phi), dist * np.sin(phi), cam_dz + 0.0 * phi], 1)
        pos = gaussian_filter1d(pos, 0.35 * fps, axis=0, mode="nearest") + shake_p
        target = gaussian_filter1d(centre, 0.2 * fps, axis=0, mode="nearest")
        R = look_at(pos, target) @ axis_angle_to_mat(shake_r)
        Tw = np.tile(np.eye(4), (T, 1, 1))
        Tw[:, :3, :3] = R
        Tw[:, :3, 3] = pos
        if in_view(Tw, pts, K, image_size, margin_px):
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
        "regime": "orbit",
    }
    return Tw, info


# ----------------------------------------------------------------------------------------------
# the casual-video regimes

#: Ground height under world xy points (N,2) -> (N,): where a tripod or an operator stands.
Ground = Callable[[np.ndarray], np.ndarray]


def _drift(rng: np.random.Generator, t: np.ndarray, amp: float, n: int = 3) -> np.ndarray:
    """Slow wander (T,3) of a hand holding still: 0.05-0.4 Hz sinusoids, largest excursion from
    the mean exactly ``amp`` metres."""
    out = np.zeros((len(t), 3))
    for _ in range(n):
        f = rng.uniform(0.05, 0.4, 3)
        ph = rng.uniform(0, 2 * np.pi, 3)
        out += np.sin(2 * np.pi * f[None] * t[:, None] + ph[None]) * rng.uniform(0.4, 1.0, 3)[None]
    out -= out.mean(0)
    return out * amp / max(np.linalg.norm(out, axis=1).max(), 1e-9)


def _roll(angle: float) -> np.ndarray:
    """Rotation about the camera's optical axis (applied on the right of a camera-to-world R)."""
    return axis_angle_to_mat(np.array([0.0, 0.0, angle]))


def _pose(pos: np.ndarray, R: np.ndarray) -> np.ndarray:
    T = len(R)
    Tw = np.tile(np.eye(4), (T, 1, 1))
    Tw[:, :3, :3] = R
    Tw[:, :3, 3] = pos
    return Tw


def tripod_path(
    joints_w: np.ndarray,
    fps: float,
    rng: np.random.Generator,
    K: np.ndarray,
    image_size: tuple[int, int],
    height_m: float,
    ground: Ground,
    *,
    margin_px: float = 8.0,
) -> tuple[np.ndarray, dict[str, float]]:
    """A fixed camera (identical pose in every frame) that frames the person's whole path.

    It stands on the -y side (anywhere from behind the start to beyond the end, never over the
    wall side) at 0.9-1.6 m above the ground, aimed at the centre of everything the person
    occupies, with up to 1.5 degrees of roll (a phone propped or on a small tripod). Of four
    random directions the one that needs the shortest distance is kept, as a person setting up a
    tripod would do.
    """
    T = len(joints_w)
    pts = must_see(joints_w, height_m)
    flat = pts.reshape(-1, 3)
    target = 0.5 * (flat.min(0) + flat.max(0))
    cam_h = float(rng.uniform(0.9, 1.6))
    roll = float(np.radians(rng.uniform(-1.5, 1.5)))
    best: tuple[float, float, np.ndarray] | None = None
    for phi in np.radians(rng.uniform(-160, -20, 4)):
        d = 1.5
        for _ in range(80):
            xy = target[:2] + d * np.array([np.cos(phi), np.sin(phi)])
            pos = np.array([xy[0], xy[1], float(ground(xy[None])[0]) + cam_h])
            R = look_at(pos[None], target[None])[0] @ _roll(roll)
            Tw = _pose(np.tile(pos, (T, 1)), np.tile(R, (T, 1, 1)))
            if in_view(Tw, pts, K, image_size, margin_px):
                break
            d *= 1.05
        if best is None or d < best[0]:
            best = (d, float(phi), Tw)
    assert best is not None
    d, phi, Tw = best
    info = {
        "regime": "tripod",
        "path": "fixed pose framing the whole walk",
        "azimuth_deg": float(np.degrees(phi)),
        "distance_m": float(d),
        "camera_height_m": cam_h,
        "roll_deg": float(np.degrees(roll)),
    }
    return Tw, info


def _follow_rotation(pos: np.ndarray, joints_w: np.ndarray, fps: float, smooth_s: float, lag_s: float) -> np.ndarray:
    """Camera rotations (T,3,3) from ``pos`` aimed at the person's smoothed, lagged centre: an
    operator keeps the person framed but reacts a little late."""
    centre = gaussian_filter1d(joints_w.mean(1), max(smooth_s * fps, 1e-3), axis=0, mode="nearest")
    lag = int(round(lag_s * fps))
    aim = np.concatenate([np.repeat(centre[:1], lag, 0), centre[: len(centre) - lag]]) if lag else centre
    return look_at(pos, aim)


def _fixed_centre_path(
    joints_w: np.ndarray,
    fps: float,
    rng: np.random.Generator,
    K: np.ndarray,
    image_size: tuple[int, int],
    height_m: float,
    ground: Ground,
    *,
    drift_m: float,
    rot_shake_deg: float,
    pos_shake_m: float,
    margin_px: float,
) -> tuple[np.ndarray, dict[str, float]]:
    """Shared by ``pan_tilt`` and ``handheld_still``: a camera centre on the -y side of the walk,
    panning/tilting to follow the person, plus ``drift_m`` of slow wander and shake."""
    T = len(joints_w)
    t = np.arange(T) / fps
    pts = must_see(joints_w, height_m)
    flat = pts.reshape(-1, 3)
    target = 0.5 * (flat.min(0) + flat.max(0))
    phi = float(np.radians(rng.uniform(-125, -55)))
    dist0 = float(rng.uniform(2.6, 3.6)) * height_m / 1.75
    cam_h = float(rng.uniform(1.0, 1.6))
    smooth_s, lag_s = float(rng.uniform(0.3, 0.5)), float(rng.uniform(0.05, 0.2))
    wander = _drift(rng, t, drift_m) if drift_m > 0 else np.zeros((T, 3))
    shake_p = _shake(rng, t, pos_shake_m) if pos_shake_m > 0 else np.zeros((T, 3))
    shake_r = _shake(rng, t, np.radians(rot_shake_deg))
    dist = dist0
    for _ in range(40):
        xy = target[:2] + dist * np.array([np.cos(phi), np.sin(phi)])
        centre = np.array([xy[0], xy[1], float(ground(xy[None])[0]) + cam_h])
        pos = centre[None] + wander + shake_p
        R = _follow_rotation(pos, joints_w, fps, smooth_s, lag_s) @ axis_angle_to_mat(shake_r)
        Tw = _pose(pos, R)
        if in_view(Tw, pts, K, image_size, margin_px):
            break
        dist *= 1.08
    yaw = np.unwrap(np.arctan2(R[:, 1, 2], R[:, 0, 2]))  # heading of the optical axis
    info = {
        "azimuth_deg": float(np.degrees(phi)),
        "distance_m": float(dist),
        "camera_height_m": cam_h,
        "pan_range_deg": float(np.degrees(yaw.max() - yaw.min())),
        "follow_smoothing_s": smooth_s,
        "follow_lag_s": lag_s,
        "shake_deg": float(rot_shake_deg),
        "shake_m": float(pos_shake_m),
        "drift_m": float(drift_m),
    }
    return Tw, info


def pan_tilt_path(
    joints_w: np.ndarray,
    fps: float,
    rng: np.random.Generator,
    K: np.ndarray,
    image_size: tuple[int, int],
    height_m: float,
    ground: Ground,
    *,
    margin_px: float = 8.0,
) -> tuple[np.ndarray, dict[str, float]]:
    """Rotation only: the optical centre never moves (identical translation in every frame); the
    camera pans and tilts to follow the person with a small rotational jitter (0.1-0.3 degrees,
    a pan head or a phone pivoted about itself)."""
    rot = float(rng.uniform(0.1, 0.3))
    Tw, info = _fixed_centre_path(
        joints_w, fps, rng, K, image_size, height_m, ground, drift_m=0.0, rot_shake_deg=rot, pos_shake_m=0.0,
        margin_px=margin_px,
    )  # fmt: skip
    info.update(regime="pan_tilt", path="fixed centre, pan/tilt follows the person + jitter")
    return Tw, info


def handheld_still_path(
    joints_w: np.ndarray,
    fps: float,
    rng: np.random.Generator,
    K: np.ndarray,
    image_size: tuple[int, int],
    height_m: float,
    ground: Ground,
    *,
    margin_px: float = 8.0,
) -> tuple[np.ndarray, dict[str, float]]:
    """A person standing still, phone in hand, turning it to follow the subject: the camera
    centre wanders 2-6 cm (largest excursion from its mean) and shakes (0.3-0.8 degrees, 3-8 mm)."""
    drift = float(rng.uniform(0.02, 0.06))
    rot = float(rng.uniform(0.3, 0.8))
    pos = float(rng.uniform(0.003, 0.008))
    Tw, info = _fixed_centre_path(
        joints_w, fps, rng, K, image_size, height_m, ground, drift_m=drift, rot_shake_deg=rot, pos_shake_m=pos,
        margin_px=margin_px,
    )  # fmt: skip
    info.update(regime="handheld_still", path="hand-held standing: cm drift + shake, pans to follow")
    return Tw, info


def _leash(xy: np.ndarray, start: np.ndarray, length: float) -> np.ndarray:
    """Positions (T,2) of someone who starts at ``start`` and walks after ``xy`` (T,2) only when
    it gets farther than ``length`` away (they stop when the person stops, turns or sits)."""
    out = np.zeros_like(xy)
    cur = np.asarray(start, float).copy()
    for i, p in enumerate(xy):
        v = p - cur
        n = float(np.linalg.norm(v))
        if n > length:
            cur = cur + v * (1.0 - length / n)
        out[i] = cur
    return out


def follow_behind_path(
    joints_w: np.ndarray,
    fps: float,
    rng: np.random.Generator,
    K: np.ndarray,
    image_size: tuple[int, int],
    height_m: float,
    ground: Ground,
    *,
    margin_px: float = 8.0,
) -> tuple[np.ndarray, dict[str, float]]:
    """The operator walks behind the person at 2.2-3.0 m (scaled by the person's height), up to
    0.35 m off to one side, phone at 1.3-1.55 m above the ground they walk on, with a walking bob
    (1.2-2.5 cm at 1.7-2.0 Hz, 1 cm sway) and shake (0.4-0.9 degrees) while moving.

    The operator walks on the surfaces the person walked (their ground height is the person's at
    the nearest point of the person's path so far), so they climb the stairs after the person.
    """
    T = len(joints_w)
    t = np.arange(T) / fps
    pts = must_see(joints_w, height_m)
    pel = gaussian_filter1d(joints_w[:, 0, :2], 0.3 * fps, axis=0, mode="nearest")
    person_ground = ground(joints_w[:, 0, :2])
    moved = np.linalg.norm(pel - pel[0], axis=1)
    k = int(np.argmax(moved > 0.3)) if (moved > 0.3).any() else T - 1
    heading = pel[k] - pel[0]
    heading = heading / np.linalg.norm(heading) if np.linalg.norm(heading) > 1e-6 else np.array([1.0, 0.0])
    perp = np.array([-heading[1], heading[0]])
    dist0 = float(rng.uniform(2.2, 3.0)) * height_m / 1.75
    side = float(rng.uniform(-0.35, 0.35))
    eye = float(rng.uniform(1.3, 1.55))
    bob_amp, step_hz = float(rng.uniform(0.012, 0.025)), float(rng.uniform(1.7, 2.0))
    bob_ph = float(rng.uniform(0, 2 * np.pi))
    rot_amp = float(rng.uniform(0.4, 0.9))
    shake_r = _shake(rng, t, np.radians(rot_amp))
    shake_p = _shake(rng, t, 0.004)
    dist = dist0
    for _ in range(30):
        start = pel[0] - dist * heading + side * perp
        xy = gaussian_filter1d(_leash(pel, start, dist), 0.25 * fps, axis=0, mode="nearest")
        speed = np.linalg.norm(np.gradient(xy, axis=0), axis=1) * fps
        moving = gaussian_filter1d(np.clip(speed / 0.6, 0, 1), 0.15 * fps, mode="nearest")
        # the operator's ground: the person's at the nearest point of the person's path so far
        dd = np.linalg.norm(pel[None, :, :] - xy[:, None, :], axis=2)
        dd[np.triu_indices(T, 1)] = np.inf
        g = gaussian_filter1d(person_ground[np.argmin(dd, axis=1)], 0.3 * fps, mode="nearest")
        vel = np.gradient(xy, axis=0)
        vdir = vel / np.maximum(np.linalg.norm(vel, axis=1, keepdims=True), 1e-9)
        sway = 0.01 * np.sin(np.pi * step_hz * t + bob_ph)[:, None] * np.stack([-vdir[:, 1], vdir[:, 0]], 1)
        pos = np.column_stack([xy + sway * moving[:, None], g + eye])
        pos[:, 2] += bob_amp * np.sin(2 * np.pi * step_hz * t + bob_ph) * moving
        pos += shake_p
        R = _follow_rotation(pos, joints_w, fps, 0.25, 0.0) @ axis_angle_to_mat(shake_r)
        Tw = _pose(pos, R)
        if in_view(Tw, pts, K, image_size, margin_px):
            break
        dist *= 1.08
    info = {
        "regime": "follow_behind",
        "path": "operator walks behind the person (leash), walking bob + shake",
        "distance_m": float(dist),
        "side_offset_m": side,
        "camera_height_m": eye,
        "bob_m": bob_amp,
        "step_hz": step_hz,
        "shake_deg": rot_amp,
        "travel_m": float(np.linalg.norm(np.diff(pos[:, :2], axis=0), axis=1).sum()),
    }
    return Tw, info


PathFn = Callable[..., tuple[np.ndarray, dict[str, float]]]

#: The path generator of each regime (orbit takes no ground function).
REGIME_PATHS: dict[str, PathFn] = {
    "tripod": tripod_path,
    "pan_tilt": pan_tilt_path,
    "handheld_still": handheld_still_path,
    "follow_behind": follow_behind_path,
}
