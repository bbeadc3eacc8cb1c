"""2D keypoints (and a per-frame 3D pose prior) in ``body.skeleton.HUMAN_JOINTS`` order.

MediaPipe's 33 landmarks are mapped to our 18 joints by fixed linear combinations, so every later
stage works in one joint set. The MediaPipe "world" landmarks (metric, hip-centred, camera-aligned)
become the local-pose prior of the joint optimisation.
"""

from __future__ import annotations

import numpy as np

from videomimic_offline.body.skeleton import HUMAN_JOINTS

# HUMAN_JOINTS name -> {mediapipe index: weight}
_MP_MAP: dict[str, dict[int, float]] = {
    # torso joints lie on the hip-shoulder midline at the body model's fractions
    "pelvis": {23: 0.45, 24: 0.45, 11: 0.05, 12: 0.05},
    "left_hip": {23: 1.0},
    "right_hip": {24: 1.0},
    "spine": {23: 0.27, 24: 0.27, 11: 0.23, 12: 0.23},
    "neck": {23: -0.03, 24: -0.03, 11: 0.53, 12: 0.53},
    "head": {7: 0.5, 8: 0.5},
    "left_shoulder": {11: 1.0},
    "left_elbow": {13: 1.0},
    "left_wrist": {15: 1.0},
    "right_shoulder": {12: 1.0},
    "right_elbow": {14: 1.0},
    "right_wrist": {16: 1.0},
    "left_knee": {25: 1.0},
    "left_ankle": {27: 1.0},
    "left_toe": {31: 1.0},
    "right_knee": {26: 1.0},
    "right_ankle": {28: 1.0},
    "right_toe": {32: 1.0},
}


def mediapipe_matrix() -> np.ndarray:
    """(J,33) matrix M with joints = M @ landmarks."""
    M = np.zeros((len(HUMAN_JOINTS), 33))
    for j, name in enumerate(HUMAN_JOINTS):
        for k, w in _MP_MAP[name].items():
            M[j, k] = w
    return M


def from_mediapipe(mp_2d: np.ndarray, mp_3d: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(T,33,3) landmarks -> kp2d (T,J,2) px, conf (T,J) in [0,1], local3d (T,J,3) m (camera axes).

    MediaPipe world landmarks use x right, y down, z away from the camera, like OpenCV camera axes.
    Missing frames give conf 0 and NaN positions.
    """
    M = mediapipe_matrix()
    kp2d = np.einsum("jk,tkc->tjc", M, np.nan_to_num(mp_2d[..., :2]))
    vis = np.nan_to_num(mp_2d[..., 2])
    # a combined joint is as visible as its least visible landmark
    conf = np.stack([np.min(vis[:, list(_MP_MAP[n])], axis=1) for n in HUMAN_JOINTS], axis=1)
    local3d = np.einsum("jk,tkc->tjc", M, np.nan_to_num(mp_3d))
    missing = np.isnan(mp_2d[:, 0, 0])
    kp2d[missing] = np.nan
    local3d[missing] = np.nan
    conf[missing] = 0.0
    return kp2d, np.clip(conf, 0.0, 1.0), local3d
