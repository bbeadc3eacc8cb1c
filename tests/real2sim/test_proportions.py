"""Leg proportions from the 2D keypoints: a short-legged person is seen as one."""

from __future__ import annotations

import numpy as np
from videomimic_offline.body.model import BodyShape
from videomimic_offline.body.model import rest_joints as model_rest_joints
from videomimic_offline.body.skeleton import HUMAN_JOINTS
from videomimic_offline.real2sim.body_template import bone_lengths
from videomimic_offline.real2sim.proportions import estimate_proportions

PELVIS = HUMAN_JOINTS.index("pelvis")
K = np.array([[900.0, 0.0, 640.0], [0.0, 900.0, 360.0], [0.0, 0.0, 1.0]])


def _in_camera(joints: np.ndarray, yaw: float, depth: float) -> np.ndarray:
    """Body frame (z up) -> camera frame (x right, y down, z forward), turned by ``yaw``."""
    c, s = np.cos(yaw), np.sin(yaw)
    turn = np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])
    to_cam = np.array([[0.0, 1.0, 0.0], [0.0, 0.0, -1.0], [1.0, 0.0, 0.0]])
    p = (joints - joints[PELVIS]) @ turn.T @ to_cam.T
    return p + [0.0, 0.0, depth]


def _leg_estimate(leg_ratio: float) -> float:
    """The estimator's leg factor for a 1.75 m person with ``leg_ratio`` legs, seen turning on the
    spot, when the 3D prior has average proportions (as MediaPipe's does)."""
    h = 1.75
    true = model_rest_joints(BodyShape(height_m=h, leg_ratio=leg_ratio))
    average = model_rest_joints(BodyShape(height_m=h))
    yaws = np.linspace(0.0, np.pi, 24)
    cams = np.array([_in_camera(true, y, 4.0) for y in yaws])
    kp2d = np.einsum("ij,tkj->tki", K, cams)
    kp2d = kp2d[..., :2] / kp2d[..., 2:]
    local = np.array([_in_camera(average, y, 0.0) for y in yaws])
    tau = cams[:, PELVIS]
    leg, _, info = estimate_proportions(local, tau, kp2d, np.ones(kp2d.shape[:2]), K, bone_lengths(h))
    assert info["proportion_frames"] == len(yaws)
    return leg


def test_short_and_long_legs_are_told_from_average_ones() -> None:
    """With the old tight prior (0.04) the dev clips' estimates moved only 0.17 of the way from
    1 to the truth; the prior now only keeps the fit from running off."""
    short, long = _leg_estimate(0.95), _leg_estimate(1.05)
    assert abs(short - 0.95) < 0.015 and abs(long - 1.05) < 0.015
    assert abs(_leg_estimate(1.0) - 1.0) < 0.01
