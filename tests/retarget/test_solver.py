"""The solver against known answers: FK round trip and contact preservation on a staircase."""

from __future__ import annotations

import numpy as np
import pytest
from videomimic_offline.retarget.config import RetargetConfig, StanceConfig
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
    # every planted robot foot rests on the tread the person stood on, near where the person stood
    # (footholds move within their tread towards the robot's proportions: retarget/targets.fit_stance)
    feet = [res.motion.body_names.index(n) for n in g1.FOOT_LINKS]
    ankle = res.motion.body_pos_w[:, feet]  # (T, 2, 3)
    c = res.targets.contacts
    assert c.any(axis=0).all()
    ground = stairs.height(ankle[..., :2])
    gap = (ankle[..., 2] - ground - ANKLE_HEIGHT)[c]
    assert np.abs(gap).max() < 0.02, np.abs(gap).max()  # a foot near a riser rests on the 2 cm dilated edge
    from videomimic_offline.body.skeleton import HUMAN_JOINTS

    h = res.targets.human[:, [HUMAN_JOINTS.index("left_ankle"), HUMAN_JOINTS.index("right_ankle")]]
    assert np.abs(stairs.height(ankle[..., :2]) - stairs.height(h[..., :2]))[c].max() < 1e-9
    reach = RetargetConfig().stance.max_shift
    assert np.linalg.norm(ankle[..., :2] - h[..., :2], axis=-1)[c].max() < reach + 0.03
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


def test_sole_gap_is_measured_from_the_capsule_bottom_when_the_foot_pitches():
    """A flat foot's sole corner is its capsule end's lowest point; a pitched one's is not: the end
    sphere reaches ``r (1 - cos θ)`` lower (2.5 mm at 41°, the toe-off penetration on the CMU walks)."""
    from videomimic_offline.retarget import terrain as tr
    from videomimic_offline.retarget.solver import foot_sole_corners, foot_sole_radius, sole_sphere_gaps
    from videomimic_offline.robot.model import g1_model

    m = g1_model("29dof", actuators=False)
    sole, r = foot_sole_corners(m), foot_sole_radius(m)
    assert 0.005 < r < 0.02
    toe = sole[0]
    for pitch in (0.0, np.radians(41.0)):  # toe down about the foot's y axis
        c, s = np.cos(pitch), np.sin(pitch)
        R = np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])
        xpos = -(R @ toe)  # the toe corner exactly on the floor
        gap, _, h = sole_sphere_gaps(xpos, R.ravel(), toe[None], r, tr.flat())
        assert h[0] == 0.0
        np.testing.assert_allclose(gap[0], -r * (1 - c), atol=1e-12)


def test_pitched_feet_stay_out_of_the_ground(stairs, stair_holds):
    """Toe-off and heel strike on the procedural stairs walk: 2.2 mm into the floor when the terrain
    rows held the flat-foot sole corners; the capsule bottoms are held now."""
    res = retarget(walking_clip(stairs, stair_holds), stairs)
    assert res.report.max_penetration_mm < 1.0, res.report.max_penetration_mm
    assert res.report.foot_slide_mm_per_frame < 0.2


def test_a_frame_after_a_jump_is_iterated_until_it_settles():
    """real2sim stairs_down (seed 1): a trailing foot at its ankle-pitch limit jumps, the next frame's
    constant-velocity prediction starts its heel 12 cm inside the tread, and two Gauss-Newton steps
    left it 6 mm in; the frame now takes extra steps while it still moves."""
    from videomimic_offline.body.model import BodyShape, build_body
    from videomimic_offline.contracts.human_motion import HumanMotion
    from videomimic_offline.real2sim.synthetic.motion import generate_motion
    from videomimic_offline.real2sim.synthetic.scenes import SCENE_KINDS, build_scene
    from videomimic_offline.retarget import terrain as tr

    ss = np.random.SeedSequence([1, SCENE_KINDS.index("stairs_down")])  # as bench/retarget.py's r2s clips
    r_shape, r_scene, r_motion, *_ = (np.random.default_rng(s) for s in ss.spawn(6))
    shape = BodyShape(height_m=float(r_shape.uniform(1.55, 1.9)))
    scene = build_scene("stairs_down", r_scene, seconds=4.0)
    motion = generate_motion(scene, build_body(shape, seed=0), r_motion, 4.0, 30.0)
    j = motion.joints_w
    lo, hi = j[..., :2].reshape(-1, 2).min(0) - 1.0, j[..., :2].reshape(-1, 2).max(0) + 1.0
    xs, ys = np.arange(lo[0], hi[0], 0.02), np.arange(lo[1], hi[1], 0.02)
    X, Y = np.meshgrid(xs, ys)
    heights = scene.surface_height(np.stack([X.ravel(), Y.ravel()], 1)).reshape(X.shape)
    human = HumanMotion(fps=30.0, joints_w=j.astype(np.float64), contacts=motion.contacts.astype(bool),
                        height_m=shape.height_m, source="real2sim:stairs_down:1")  # fmt: skip
    stairs = tr.from_heights(heights, [xs[0], ys[0]], 0.02)
    # at the person's footholds (the case this was found on): with the stance fitted (the default),
    # a swing heel leaving a tread at another time clips its edge by ~5 mm instead
    rep = retarget(human, stairs, RetargetConfig(stance=StanceConfig(enabled=False))).report
    assert rep.max_penetration_mm < 3.0, rep.max_penetration_mm
    assert rep.foot_slide_mm_per_frame < 0.25 and rep.self_collisions == 0 and rep.limit_violations == 0
    rep = retarget(human, stairs).report
    assert rep.usable and rep.max_penetration_mm < 6.0, rep.max_penetration_mm
    assert rep.foot_slide_mm_per_frame < 0.25 and rep.self_collisions == 0 and rep.limit_violations == 0
