"""Foot contacts and the surface under the feet, and the zero-phase low-pass used between passes."""

from __future__ import annotations

import numpy as np
from scipy.signal import butter, filtfilt

from videomimic_offline.body.skeleton import index
from videomimic_offline.contracts.human_motion import detect_foot_contacts

FEET = (index("left_ankle"), index("right_ankle"))
TOES = (index("left_toe"), index("right_toe"))


def detect_contacts(joints: np.ndarray, fps: float, speed: float, height: float, floor_z: np.ndarray) -> np.ndarray:
    """(T,2) feet in contact: slow and close to the surface under them (the project's one contact rule)."""
    return detect_foot_contacts(joints[:, list(FEET)], floor_z, fps, max_speed=speed, max_height=height)


def lowpass(x: np.ndarray, fps: float, cutoff: float) -> np.ndarray:
    """Zero-phase Butterworth low-pass along time (no lag, like a bidirectional One-Euro)."""
    if cutoff <= 0 or len(x) < 16 or cutoff >= fps / 2:
        return x
    b, a = butter(2, cutoff / (fps / 2))
    return filtfilt(b, a, x, axis=0, padlen=min(len(x) - 1, 12))


def surface_height(points: np.ndarray, xy: np.ndarray, radius: float) -> np.ndarray:
    """Height of the scene under each xy: the 75th percentile z of the points within ``radius``
    (the tread's top at a step's edge, not its riser); NaN where fewer than 3 points are near."""
    from scipy.spatial import cKDTree

    out = np.full(len(xy), np.nan)
    if len(points) == 0:
        return out
    tree = cKDTree(points[:, :2])
    for i, nb in enumerate(tree.query_ball_point(xy, radius)):
        if len(nb) >= 3:
            out[i] = float(np.percentile(points[nb, 2], 75))
    return out


def stance_segments(contacts: np.ndarray, min_frames: int = 3) -> list[tuple[int, int, int]]:
    """(foot, first frame, last frame + 1) of every run of at least ``min_frames`` planted frames."""
    out = []
    for k in range(contacts.shape[1]):
        c = np.r_[False, contacts[:, k].astype(bool), False]
        starts = np.flatnonzero(~c[:-1] & c[1:])
        ends = np.flatnonzero(c[:-1] & ~c[1:])
        out += [(k, int(a), int(b)) for a, b in zip(starts, ends, strict=True) if b - a >= min_frames]
    return sorted(out, key=lambda s: s[1])


def group_levels(heights: np.ndarray, tol: float, min_rise: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """Cluster heights (N,) into levels: (N,) level index (0 = lowest), (L,) level heights.

    Sorted heights are cut where the gap exceeds ``tol``; then a level less than ``min_rise``
    above the one below joins it (a heel raised, a foot fitted a few centimetres high: not a step).
    Each level's height is its members' median. Feet standing on one floor (or one step) over a
    clip scatter by the fit's noise; separate surfaces differ by a step's rise.
    """
    if len(heights) == 0:
        return np.zeros(0, int), np.zeros(0)
    order = np.argsort(heights)
    cut = np.r_[0, np.cumsum(np.diff(heights[order]) > tol)]
    labels = np.empty(len(heights), int)
    labels[order] = cut
    levels = [np.median(heights[labels == k]) for k in range(cut[-1] + 1)]
    keep = [0]
    for k in range(1, len(levels)):
        if levels[k] - levels[keep[-1]] < min_rise:
            labels[labels == k] = keep[-1]
        else:
            keep.append(k)
    remap = {k: i for i, k in enumerate(keep)}
    labels = np.array([remap[k] for k in labels])
    return labels, np.array([np.median(heights[labels == i]) for i in range(len(keep))])


def ray_stance(
    kp2d: np.ndarray,
    conf: np.ndarray,
    R_wc: np.ndarray,
    K: np.ndarray,
    depth: np.ndarray,
    fps: float,
    speed: float,
    cutoff_hz: float = 4.0,
) -> np.ndarray:
    """(T,2) feet planted, judged by their viewing rays, for a camera that does not translate.

    From a fixed camera centre a planted foot keeps its viewing ray (in the world: the camera's
    rotation is known), whatever its estimated depth does, so stance shows in the image even where
    the body-size depth jitters by a few centimetres a frame and hides it in 3D. A foot counts as
    planted when its ankle's and toe's rays (low-passed at ``cutoff_hz``) turn slower than
    ``speed`` (m/s) at the foot's depth ``depth`` (T,2).
    """
    Kinv = np.linalg.inv(K)
    T = len(kp2d)
    out = np.zeros((T, 2), bool)
    for k, (a, toe) in enumerate(zip(FEET, TOES, strict=True)):
        slow = np.ones(T, bool)
        for j in (a, toe):
            ok = conf[:, j] > 0
            if ok.sum() < 3:
                if j == a:
                    slow[:] = False
                continue
            uv = np.c_[kp2d[:, j], np.ones(T)]
            r = np.einsum("tij,tj->ti", R_wc, uv @ Kinv.T)
            r /= np.linalg.norm(r, axis=1, keepdims=True)
            t = np.arange(T)
            r = np.stack([np.interp(t, t[ok], r[ok, i]) for i in range(3)], axis=1)
            r = lowpass(r, fps, cutoff_hz)
            w = np.linalg.norm(np.gradient(r, axis=0), axis=1) * fps  # rad/s
            v = w * depth[:, k]
            slow &= (v < speed) | ~ok if j == toe else (v < speed) & ok
        out[:, k] = slow
    return out
