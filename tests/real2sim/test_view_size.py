"""The keypoint detector's skeleton size depends on the view; the fit's bones follow it."""

from __future__ import annotations

import numpy as np
from videomimic_offline.body.skeleton import HUMAN_JOINTS
from videomimic_offline.real2sim.keypoints import MEDIAPIPE_VIEW_SIZE, facing_cos, view_size_factor

K = np.array([[500.0, 0, 320], [0, 500, 180], [0, 0, 1]])


def _pose(yaw_deg: float, n: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """A person in camera axes (x right, y down, z away) turned ``yaw_deg`` from facing the camera."""
    at = {"pelvis": (0, 0, 0), "neck": (0, -0.5, 0), "left_hip": (0.1, 0, 0), "right_hip": (-0.1, 0, 0),
          "left_shoulder": (0.18, -0.45, 0), "right_shoulder": (-0.18, -0.45, 0)}  # fmt: skip
    a = np.radians(yaw_deg)
    R = np.array([[np.cos(a), 0, np.sin(a)], [0, 1, 0], [-np.sin(a), 0, np.cos(a)]])  # about the vertical
    local = np.zeros((n, len(HUMAN_JOINTS), 3))
    for name, p in at.items():
        local[:, HUMAN_JOINTS.index(name)] = R @ np.array(p, float)
    kp = np.tile(K[:2, 2], (n, len(HUMAN_JOINTS), 1))  # the pelvis on the optical axis
    return local, kp


def test_facing_the_camera_is_plus_one_and_the_back_minus_one() -> None:
    for yaw, want in ((0, 1.0), (90, 0.0), (180, -1.0), (-90, 0.0)):
        local, kp = _pose(yaw)
        assert np.allclose(facing_cos(local, kp, K), want, atol=1e-6), yaw


def test_side_views_shrink_the_skeleton_and_back_views_grow_it() -> None:
    (_, back), (_, front), side = MEDIAPIPE_VIEW_SIZE
    assert np.isclose(view_size_factor("mediapipe", *_pose(0), K), front)
    assert np.isclose(view_size_factor("mediapipe", *_pose(90), K), side)
    assert np.isclose(view_size_factor("mediapipe", *_pose(180), K), back)
    half = np.concatenate([_pose(90)[0], _pose(180)[0]]), np.concatenate([_pose(90)[1], _pose(180)[1]])
    assert np.isclose(view_size_factor("mediapipe", *half, K), 0.5 * (side + back))
    # another detector has its own landmarks: no correction is assumed for it
    assert view_size_factor("vitpose", *_pose(90), K) == 1.0
