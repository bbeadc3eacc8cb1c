"""The 3D pose prior is estimated along the ray to the person; the fit turns it into camera axes."""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation
from videomimic_offline.body.skeleton import HUMAN_JOINTS
from videomimic_offline.real2sim.fit.body import prior_from_ray

K = np.array([[460.0, 0.0, 320.0], [0.0, 460.0, 180.0], [0.0, 0.0, 1.0]])
PELVIS = HUMAN_JOINTS.index("pelvis")


def _pose(seed: int = 0) -> np.ndarray:
    """A pelvis-centred body-sized point set (camera axes: x right, y down, z away)."""
    rng = np.random.default_rng(seed)
    X = rng.normal(0.0, 0.3, (len(HUMAN_JOINTS), 3))
    return X - X[PELVIS]


def test_a_pose_seen_off_centre_is_turned_back_into_the_camera_axes() -> None:
    # the person walks across a tripod's view at 4.5 m: from 29 deg left of the axis to 29 deg right
    xs = np.linspace(-2.5, 2.5, 6)
    centres = np.c_[xs, np.zeros(6), np.full(6, 4.5)]  # at the height of the optical axis
    truth = np.stack([_pose(k) for k in range(6)])
    kp2d = np.full((6, len(HUMAN_JOINTS), 2), np.nan)
    seen = np.empty_like(truth)
    for t, c in enumerate(centres):
        kp2d[t, PELVIS] = (K @ c)[:2] / c[2]
        # what a camera looking along the ray would report: the pose in the ray's axes
        ray = c / np.linalg.norm(c)
        axis = np.cross([0.0, 0.0, 1.0], ray)
        R = Rotation.from_rotvec(axis / np.linalg.norm(axis) * np.arccos(ray[2])).as_matrix()
        seen[t] = truth[t] @ R  # R^T applied to each point
    out = prior_from_ray(seen, kp2d, K)
    np.testing.assert_allclose(out, truth, atol=1e-9)
    # the error it removes is the ray's angle: ~29 deg of facing at the edges
    yaw_err = np.degrees(np.arccos(np.clip(np.sum(seen[0] * truth[0]) / np.sum(truth[0] ** 2), -1, 1)))
    assert yaw_err > 20


def test_centred_or_undetected_frames_are_left_alone() -> None:
    pose = _pose()[None].repeat(2, 0)
    kp2d = np.full((2, len(HUMAN_JOINTS), 2), np.nan)
    kp2d[0, PELVIS] = K[:2, 2]  # on the optical axis
    np.testing.assert_allclose(prior_from_ray(pose, kp2d, K), pose, atol=1e-12)
