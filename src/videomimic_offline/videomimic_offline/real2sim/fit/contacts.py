"""Foot contacts and the surface under the feet, and the zero-phase low-pass used between passes."""

from __future__ import annotations

import numpy as np
from scipy.signal import butter, filtfilt

from videomimic_offline.body.skeleton import index
from videomimic_offline.contracts.human_motion import detect_foot_contacts

FEET = (index("left_ankle"), index("right_ankle"))


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
    """Height of the scene under each xy (median z of the highest nearby points; floor 0 if none)."""
    from scipy.spatial import cKDTree

    out = np.zeros(len(xy))
    if len(points) == 0:
        return out
    tree = cKDTree(points[:, :2])
    for i, nb in enumerate(tree.query_ball_point(xy, radius)):
        if len(nb) >= 3:
            z = points[nb, 2]
            out[i] = float(np.percentile(z, 75))
    return np.maximum(out, 0.0)


def stance_segments(contacts: np.ndarray, min_frames: int = 3) -> list[tuple[int, int, int]]:
    """(foot, first frame, last frame + 1) of every run of at least ``min_frames`` planted frames."""
    out = []
    for k in range(contacts.shape[1]):
        c = np.r_[False, contacts[:, k].astype(bool), False]
        starts = np.flatnonzero(~c[:-1] & c[1:])
        ends = np.flatnonzero(c[:-1] & ~c[1:])
        out += [(k, int(a), int(b)) for a, b in zip(starts, ends, strict=True) if b - a >= min_frames]
    return sorted(out, key=lambda s: s[1])


def group_levels(heights: np.ndarray, tol: float) -> tuple[np.ndarray, np.ndarray]:
    """Cluster heights (N,) into levels no closer than ``tol``: (N,) level index, (L,) level heights.

    Sorted heights are cut where the gap exceeds ``tol``; each level's height is its median. Feet
    standing on one floor (or one step) over a clip scatter by the fit's noise; separate surfaces
    differ by a step's rise.
    """
    if len(heights) == 0:
        return np.zeros(0, int), np.zeros(0)
    order = np.argsort(heights)
    cut = np.r_[0, np.cumsum(np.diff(heights[order]) > tol)]
    labels = np.empty(len(heights), int)
    labels[order] = cut
    return labels, np.array([np.median(heights[labels == k]) for k in range(cut[-1] + 1)])
