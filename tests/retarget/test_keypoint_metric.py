"""The keypoint error measures from corresponding pelvis points, for every solver alike."""

from __future__ import annotations

import dataclasses

import numpy as np
from videomimic_offline.body.skeleton import HUMAN_JOINTS
from videomimic_offline.contracts.robot_motion import from_qpos
from videomimic_offline.retarget.feasibility import assess, keypoint_error_mm
from videomimic_offline.retarget.keypoints import robot_points_w
from videomimic_offline.retarget.pipeline import retarget
from videomimic_offline.retarget.procedural import fk_clip
from videomimic_offline.retarget.targets import pelvis_lift

LEGS = [HUMAN_JOINTS.index(f"{s}_{j}") for s in ("left", "right") for j in ("hip", "knee", "ankle", "toe")]


def _low_pelvis(drop: float):
    """The G1's own FK clip, its pelvis point moved ``drop`` m down towards the hips (as BVH/SMPL put it)."""
    motion, Q = fk_clip(T=60, seed=0)
    j = motion.joints_w.copy()
    w, x, y, z = Q[:, 3:7].T
    up = np.stack([2 * (x * z + w * y), 2 * (y * z - w * x), 1 - 2 * (x * x + y * y)], axis=1)
    j[:, HUMAN_JOINTS.index("pelvis")] -= drop * up
    return dataclasses.replace(motion, joints_w=j), Q


def test_pelvis_point_convention_is_not_charged():
    """A skeleton that differs from the G1 only in where its pelvis point sits scores ~0 in the G1's own pose.

    Measured from the robot's pelvis origin instead, every leg point would carry the gap.
    """
    human, Q = _low_pelvis(0.1)
    h = human.joints_w[: len(Q)]
    assert abs(pelvis_lift(h, 1.0) - 0.1) < 0.01  # the G1's origin is 0.1 m above the corresponding point
    rep = assess(from_qpos(Q, human.fps, np.zeros((len(Q), 2), bool)), g1_flat(), h, 1.0)
    assert rep.keypoint_err_mm < 3.0, rep.keypoint_err_mm
    from_origin = keypoint_error_mm(robot_points_w(Q), h, 1.0)  # the old reference: the robot's pelvis origin
    assert from_origin > 60.0


def test_solver_tracks_the_corresponding_pelvis_point():
    """Retargeting that skeleton keeps the G1's own pelvis height (feet on the floor) and scores low.

    (The pelvis bone vectors still start at the origin: the torso leans a little differently, ~9 mm.)
    """
    human, Q = _low_pelvis(0.1)
    res = retarget(human)
    q = res.motion.qpos
    assert np.abs(q[:, 2] - Q[: len(q), 2]).mean() < 0.005  # pelvis height: the G1's, not the human point's
    assert res.report.keypoint_err_mm < 15.0, res.report.keypoint_err_mm


def g1_flat():
    from videomimic_offline.retarget.terrain import flat

    return flat()
