"""Each artifact's record survives its writer and reader, optional keys included, and keeps its conventions."""

from __future__ import annotations

import os
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from scipy.spatial.transform import Rotation
from videomimic_offline.body.skeleton import HUMAN_JOINTS
from videomimic_offline.contracts.cameras import Cameras, read_cameras, write_cameras
from videomimic_offline.contracts.feasibility import Feasibility, read_feasibility, write_feasibility
from videomimic_offline.contracts.human_motion import (
    detect_foot_contacts,
    pelvis_quat,
    point_speed,
    read_human_motion,
    write_human_motion,
)
from videomimic_offline.contracts.report_inputs import ReportInputs, read_report_inputs, write_report_inputs
from videomimic_offline.contracts.robot_motion import from_qpos, read_robot_motion, write_robot_motion
from videomimic_offline.contracts.scene import SceneInfo, Solid, read_scene_info, write_scene_info
from videomimic_offline.errors import ArtifactError, InputError
from videomimic_offline.retarget.procedural import fk_clip, fk_joint_trajectory
from videomimic_offline.robot import g1

from videomimic_offline import artifacts


def test_human_motion_round_trip_with_optional_keys(tmp_path: Path) -> None:
    motion, _ = fk_clip(20)
    T = motion.num_frames
    seat = np.zeros(T, bool)
    seat[5:9] = True
    motion = replace(motion, seat_contact=seat, contacts=None)
    write_human_motion(tmp_path / "motion.npz", motion)
    back = read_human_motion(tmp_path / "motion.npz")
    np.testing.assert_allclose(back.joints_w, motion.joints_w, atol=1e-5)  # stored float32
    assert back.contacts is None  # not labelled stays not labelled (never "all swing")
    np.testing.assert_array_equal(back.seat_contact, seat)
    np.testing.assert_allclose(back.rest_joints, motion.rest_joints, atol=1e-6)
    assert back.height_m == pytest.approx(1.32) and back.fps == 50.0
    raw = np.load(tmp_path / "motion.npz")
    assert list(raw["joint_names"]) == list(HUMAN_JOINTS)
    np.testing.assert_allclose(raw["root_quat_w"], pelvis_quat(motion.joints_w), atol=1e-6)


def test_human_motion_in_another_joint_order_is_reordered_by_name(tmp_path: Path) -> None:
    motion, _ = fk_clip(10)
    order = np.arange(len(HUMAN_JOINTS))[::-1]
    artifacts.write_npz(tmp_path / "m.npz", schema="videomimic.human_motion", version=1, fps=np.array(50.0),
                        joint_names=np.array(HUMAN_JOINTS)[order], joints_w=motion.joints_w[:, order],
                        rest_joints=motion.rest_joints[order])  # fmt: skip
    back = read_human_motion(tmp_path / "m.npz")
    np.testing.assert_allclose(back.joints_w, motion.joints_w)
    np.testing.assert_allclose(back.rest_joints, motion.rest_joints)
    assert np.isnan(back.height_m) and back.contacts is None


def test_pelvis_quat_is_wxyz_x_forward_y_left_and_sign_continuous() -> None:
    J = np.zeros((3, len(HUMAN_JOINTS), 3))
    i = HUMAN_JOINTS.index
    J[:, i("left_hip")] = [0.0, 0.1, 0.0]
    J[:, i("right_hip")] = [0.0, -0.1, 0.0]
    J[:, i("spine")] = [0.02, 0.0, 0.1]  # a forward lean is orthogonalised away from the hip axis
    q = pelvis_quat(J)
    np.testing.assert_allclose(q[0, 0], np.cos(np.arctan2(0.02, 0.1) / 2), atol=1e-9)  # w first
    R = Rotation.from_quat(q[0, [1, 2, 3, 0]]).as_matrix()
    np.testing.assert_allclose(R[:, 1], [0, 1, 0], atol=1e-9)
    assert R[2, 0] < 0 and (np.sum(q[1:] * q[:-1], axis=1) > 0).all()


def test_the_one_contact_rule() -> None:
    fps = 50.0
    t = np.arange(50) / fps
    feet = np.zeros((50, 2, 3))
    feet[:, 0, 0] = 1.0 * t  # left foot slides at 1 m/s: never planted
    feet[20:22, 1, 2] = 0.1  # the right foot stays on the ground but for a 2-frame lift
    c = detect_foot_contacts(feet, np.zeros((50, 2)), fps, max_speed=0.35, max_height=0.05, min_frames=3)
    assert not c[:, 0].any()
    assert c[:18, 1].all() and not c[19:23, 1].any() and c[25:, 1].all()


def test_point_speed_is_central_and_unknown_at_the_ends() -> None:
    t = np.arange(6, dtype=float)
    p = np.stack([np.c_[0.1 * t, 0 * t, 0 * t], np.c_[0 * t, 0.02 * t**2, 0 * t]], axis=1)  # (6,2,3)
    v = point_speed(p, 30.0)
    assert v.shape == (6, 2) and np.isnan(v[[0, -1]]).all()
    np.testing.assert_allclose(v[1:-1, 0], 3.0)  # 0.1 m/frame at 30 fps
    np.testing.assert_allclose(v[1:-1, 1], 0.02 * 2 * t[1:-1] * 30.0)  # exact for a parabola
    assert np.isnan(point_speed(p[:2], 30.0)).all()


def test_robot_motion_from_qpos_velocities_and_round_trip(tmp_path: Path) -> None:
    Q = fk_joint_trajectory(40)
    motion = from_qpos(Q, 50.0, np.zeros((40, 2), bool))
    pelvis = motion.body_names.index("pelvis")
    # angular velocity: world frame, from the quaternion derivative, equal to the finite rotation rate
    R = Rotation.from_quat(motion.body_quat_w[:, pelvis][:, [1, 2, 3, 0]])
    rate = (R[2:] * R[:-2].inv()).as_rotvec() * 50.0 / 2
    np.testing.assert_allclose(motion.body_ang_vel_w[1:-1, pelvis], rate, atol=2e-3)
    np.testing.assert_allclose(motion.body_lin_vel_w[1:-1, pelvis], (Q[2:, :3] - Q[:-2, :3]) * 25.0, atol=1e-9)
    (tmp_path / "scene").mkdir()
    motion.scene = tmp_path / "scene" / "heightfield.npz"
    write_robot_motion(tmp_path / "out" / "robot_motion.npz", motion)
    back = read_robot_motion(tmp_path / "out" / "robot_motion.npz")
    assert str(np.load(tmp_path / "out" / "robot_motion.npz")["scene"]) == "../scene/heightfield.npz"
    assert back.scene == motion.scene.resolve() and back.joint_names == g1.JOINT_NAMES_29
    np.testing.assert_allclose(back.body_ang_vel_w, motion.body_ang_vel_w, atol=1e-5)
    picked = back.select(g1.JOINT_NAMES_29[::-1], ("pelvis",))
    np.testing.assert_allclose(picked["joint_pos"], back.joint_pos[:, ::-1])
    with pytest.raises(InputError, match="no data for"):
        back.select(("no_such_joint",), ())


def test_cameras_scene_feasibility_and_report_inputs_round_trip(tmp_path: Path) -> None:
    Twc = np.tile(np.eye(4), (5, 1, 1))
    write_cameras(tmp_path / "cameras.npz", Cameras(np.eye(3), Twc, (640, 480), 30.0, "rotation", "prior"))
    cams = read_cameras(tmp_path / "cameras.npz")
    assert cams.K.shape == (5, 3, 3) and cams.image_size == (640, 480) and cams.regime == "rotation"
    with pytest.raises(ArtifactError, match="regime"):
        Cameras(np.eye(3), Twc, (640, 480), 30.0, "wobbly")

    seat = Solid("seat", (1.0, 0.0, 0.22), (0.4, 0.5, 0.45), 0.3)
    write_scene_info(tmp_path / "scene.json", SceneInfo.of_mesh("test", np.eye(3), np.zeros((1, 3)), solids=[seat],
                                                                stats={"dense_fraction": 0.5}))  # fmt: skip
    info = read_scene_info(tmp_path / "scene.json")
    assert info.solids == [seat] and info.stats == {"dense_fraction": 0.5} and info.num_faces == 1

    rep = Feasibility(10, 50.0, 0, 0.1, "j", 0, 0.5, "j", {"j": 1.0}, 2.0, 0.1, 0.3, 0, float("nan"))
    write_feasibility(tmp_path / "feasibility.json", rep)
    back = read_feasibility(tmp_path / "feasibility.json")
    assert np.isnan(back.keypoint_err_mm) and back.max_penetration_mm == 2.0 and not back.usable

    rec = ReportInputs(tmp_path, {"report": "done in 1.0 s"}, {"bag": tmp_path / "bag"}, {"retarget": rep.as_dict()})
    write_report_inputs(tmp_path / "main_job.json", rec)
    assert read_report_inputs(tmp_path) == rec


def test_outputs_take_the_users_umask(tmp_path: Path) -> None:
    old = os.umask(0o027)
    try:
        artifacts.write_json(tmp_path / "a.json", {"x": 1})
        artifacts.write_npz(tmp_path / "b.npz", schema="s", version=1, x=np.zeros(1))
        with artifacts.atomic_dir(tmp_path / "c") as tmp:
            (tmp / "f").write_text("x")
    finally:
        os.umask(old)
    assert (tmp_path / "a.json").stat().st_mode & 0o777 == 0o640
    assert (tmp_path / "b.npz").stat().st_mode & 0o777 == 0o640
    assert (tmp_path / "c").stat().st_mode & 0o777 == 0o750
