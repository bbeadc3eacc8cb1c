"""The solver against known answers: FK round trip and contact preservation on a staircase."""

from __future__ import annotations

import numpy as np
import pytest
from videomimic_offline.retarget.config import RetargetConfig
from videomimic_offline.retarget.keypoints import ANKLE_HEIGHT
from videomimic_offline.retarget.pipeline import retarget
from videomimic_offline.retarget.procedural import fk_clip, walking_clip
from videomimic_offline.robot import g1

#: Joints the 18-joint skeleton determines (wrists and ankle roll are only set by priors).
OBSERVABLE = [n for n in g1.JOINT_NAMES_29 if "wrist" not in n and "ankle_roll" not in n]


def test_fk_round_trip_recovers_joints():
    motion, Q = fk_clip(T=100, seed=0)
    res = retarget(motion)
    q = res.motion.qpos
    idx = [g1.JOINT_NAMES_29.index(n) for n in OBSERVABLE]
    err = np.abs(q[:, 7:][:, idx] - Q[: len(q), 7:][:, idx])
    assert np.median(err) < 0.01, np.median(err)
    assert err.mean() < 0.03, dict(zip(OBSERVABLE, err.mean(0).round(3), strict=True))
    assert np.abs(q[:, :3] - Q[: len(q), :3]).mean() < 0.01
    rep = res.report
    assert rep.keypoint_err_mm < 5.0
    assert rep.limit_violations == 0 and rep.velocity_violations == 0 and rep.self_collisions == 0


def test_staircase_contacts_kept(stairs, stair_holds):
    human = walking_clip(stairs, stair_holds)
    res = retarget(human, stairs)
    rep = res.report
    assert rep.usable, rep.reasons
    assert rep.foot_slide_mm_per_frame <= 2.0
    assert rep.max_penetration_mm <= 10.0
    assert rep.limit_violations == 0 and rep.self_collisions == 0
    # every planted robot foot rests on the tread the person stood on, where the person stood
    feet = [res.motion.body_names.index(n) for n in g1.FOOT_LINKS]
    ankle = res.motion.body_pos_w[:, feet]  # (T, 2, 3)
    c = res.targets.contacts
    assert c.any(axis=0).all()
    ground = stairs.height(ankle[..., :2])
    gap = (ankle[..., 2] - ground - ANKLE_HEIGHT)[c]
    assert np.abs(gap).max() < 0.02, np.abs(gap).max()  # a foot near a riser rests on the 2 cm dilated edge
    from videomimic_offline.body.skeleton import HUMAN_JOINTS

    h = res.targets.human[:, [HUMAN_JOINTS.index("left_ankle"), HUMAN_JOINTS.index("right_ankle")]]
    assert np.linalg.norm(ankle[..., :2] - h[..., :2], axis=-1)[c].max() < 0.03
    assert (stairs.height(ankle[..., :2])[c] > 0.4).any()  # it did climb to the upper treads


def test_23dof_variant_keeps_wrists_at_zero():
    motion, _ = fk_clip(T=30, seed=0)
    res = retarget(motion, cfg=RetargetConfig(variant="23dof"), report=False)
    wrists = [g1.JOINT_NAMES_29.index(n) for n in g1.LOCKED_JOINTS_23]
    assert res.motion.joint_pos.shape[1] == 29
    assert np.abs(res.motion.joint_pos[:, wrists]).max() == 0.0


def test_shoulders_stay_off_their_limits_on_a_real_clip(shared_data):
    """CMU 131_01: a right arm raised sideways once sent the shoulder yaw into its limit, and the arm
    stayed in that branch for 7 s (wrist 150-280 mm off); the upper-arm twist now has a prior."""
    from videomimic_offline.motion_io.bvh import read_bvh

    path = shared_data / "bvh" / "cmu_131_01_start_walk_stop.bvh"
    if not path.is_file():
        pytest.skip(f"{path} is not present")
    res = retarget(read_bvh(path), report=False)
    names = g1.JOINT_NAMES_29
    sh = [i for i, n in enumerate(names) if "shoulder" in n]
    lo, hi = g1.limits_array(names)
    q = res.motion.joint_pos[:, sh]
    near = ((q - lo[sh]) < 0.02) | ((hi[sh] - q) < 0.02)
    assert near.any(axis=1).sum() <= 5, {names[i]: int(n) for i, n in zip(sh, near.sum(0), strict=True) if n}
