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
