"""Terrain from heightfield.npz, PD and the simulated G1 (MuJoCo)."""

from __future__ import annotations

import numpy as np
import pytest
from videomimic_nodes.core.cloud import pose_matrix
from videomimic_nodes.core.lowcmd import MotorArrays
from videomimic_nodes.core.sim import LidarConfig, SimConfig, SimG1
from videomimic_offline.artifacts import write_npz
from videomimic_offline.contracts.heightfield import read_heightfield
from videomimic_offline.errors import ArtifactError
from videomimic_offline.robot import g1
from videomimic_offline.sim.terrain import step_heightfield


def stand_command() -> MotorArrays:
    m = MotorArrays.zeros()
    m.mode[:29] = 1
    m.q[:29] = g1.as_array(g1.DEFAULT_POSE, g1.JOINT_NAMES_29)
    m.kp[:29], m.kd[:29] = g1.as_array(g1.KP, g1.JOINT_NAMES_29), g1.as_array(g1.KD, g1.JOINT_NAMES_29)
    return m


def test_heightfield_npz_loads_with_yaw_and_offset(tmp_path):
    h = np.zeros((20, 30))
    h[:, 15:] = 0.2
    h[0, 0] = np.nan
    T = np.eye(4)
    T[:3, 3] = [1.0, 0.0, 0.05]
    write_npz(tmp_path / "heightfield.npz", schema="videomimic.heightfield", version=1, heights=h,
              known=np.isfinite(h), origin_xy=np.array([0.0, -0.5]), resolution=np.array(0.05), T_world_scene=T)  # fmt: skip
    f = read_heightfield(tmp_path)
    assert f.height_at(np.array([[1.1, 0.0], [1.9, 0.0]])) == pytest.approx([0.05, 0.25])
    with pytest.raises(ArtifactError):
        write_npz(tmp_path / "x.npz", schema="other", version=1, a=np.zeros(1))
        read_heightfield(tmp_path / "x.npz")


def test_sim_stands_on_gantry_and_lidar_sees_the_step():
    mount = pose_matrix(np.array([0.0, 0.0, 0.4]), np.array([np.pi, 0.35, 0.0]))  # upside down, tilted forward
    cfg = SimConfig(lidar=LidarConfig(points_per_scan=4000, T_torso_lidar=mount))
    sim = SimG1(cfg, step_heightfield(step_x=0.35, step_height=0.1))
    sim.set_command(stand_command())
    for _ in range(250):  # 0.5 s at 500 Hz
        sim.step()
    q, dq, _ = sim.joint_state29()
    np.testing.assert_allclose(
        q, g1.as_array(g1.DEFAULT_POSE, g1.JOINT_NAMES_29), atol=0.15
    )  # waist sags ~0.12 (no gravity comp.)
    xyz, t, _ = sim.take_scan()
    assert 0.3 * 20000 < len(xyz) < 20000 and np.all(np.diff(t) >= 0)  # 5 scans of 4000 rays, some to the sky
    # points in the world frame: ground at 0 and step top at 0.1 both present
    pos, quat, _, _ = sim.torso_pose()
    p_w = xyz @ mount[:3, :3].T + mount[:3, 3] + pos  # upright on the gantry (torso ~ world axes)
    ground = p_w[np.abs(p_w[:, 2]) < 0.03]
    step = p_w[np.abs(p_w[:, 2] - 0.1) < 0.03]
    assert len(ground) > 50 and len(step) > 50 and step[:, 0].min() > 0.3


def test_damping_only_sags_released_robot_falls():
    sim = SimG1(SimConfig(lidar=LidarConfig(points_per_scan=100)))
    sim.release_gantry()
    for _ in range(500):
        sim.step()
    assert sim.torso_pose()[0][2] < 0.6  # no command: the robot collapses (so the gantry matters)


def test_sim_spawns_on_a_raised_scene(tmp_path):
    h = np.full((50, 50), 0.5)  # a plateau at 0.5 m around the origin
    write_npz(tmp_path / "heightfield.npz", schema="videomimic.heightfield", version=1, heights=h,
              known=np.ones_like(h, bool), origin_xy=np.array([-1.0, -1.0]), resolution=np.array(0.04))  # fmt: skip
    sim = SimG1(SimConfig(lidar=LidarConfig(points_per_scan=100)), read_heightfield(tmp_path))
    assert sim.torso_pose()[0][2] > 0.5 + 0.8
