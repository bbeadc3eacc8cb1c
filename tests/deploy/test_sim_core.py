"""Terrain from heightfield.npz, PD and the simulated G1 (MuJoCo)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from videomimic_nodes.core.cloud import pose_matrix
from videomimic_nodes.core.lowcmd import MotorArrays
from videomimic_nodes.core.sim import LidarConfig, SimConfig, SimG1
from videomimic_offline.artifacts import write_npz
from videomimic_offline.contracts.heightfield import Heightfield, read_heightfield, write_heightfield
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


# ---- spawn, the terrain beyond the scan, and what the simulator reports (issue #13 item 0) -------------


def _scan_like_field(tmp_path, x0: float = 1.2, x1: float = 7.9) -> Path:
    """A reconstruction's heightfield: known only from x0 to x1 (the camera stood at the origin)."""
    res = 0.05
    xs = np.arange(0.0, 9.0, res)
    h = np.where((xs >= x0) & (xs <= x1), 0.02, np.nan)[None, :] * np.ones((60, 1))
    h[:, xs >= 4.0] = np.where(np.isfinite(h[:, xs >= 4.0]), 0.17, np.nan)  # a step up at x = 4
    path = tmp_path / "heightfield.npz"
    write_heightfield(path, Heightfield(h, np.array([0.0, -1.5]), res))
    return path


def _robot_motion(tmp_path, xy, yaw: float) -> Path:
    from videomimic_offline.contracts.robot_motion import RobotMotion, write_robot_motion

    T, names = 3, (g1.ROOT_LINK, g1.TORSO_LINK)
    pos = np.zeros((T, 2, 3), np.float32)
    pos[:, :, :2] = xy
    quat = np.zeros((T, 2, 4), np.float32)
    quat[..., 0], quat[..., 3] = np.cos(yaw / 2), np.sin(yaw / 2)
    z29, z2 = np.zeros((T, 29), np.float32), np.zeros((T, 2, 3), np.float32)
    path = tmp_path / "robot_motion.npz"
    write_robot_motion(path, RobotMotion(50.0, z29, z29, pos, quat, z2, z2, names, np.zeros((T, 2), bool)))
    return path


def test_spawn_follows_the_robot_motion_onto_known_terrain(tmp_path):
    from videomimic_nodes.core.spawn import resolve_spawn

    field = read_heightfield(_scan_like_field(tmp_path))
    sp = resolve_spawn(field, str(_robot_motion(tmp_path, (5.0, 0.3), np.pi / 2)))
    assert sp.xy == pytest.approx([5.0, 0.3], abs=1e-5) and sp.yaw == pytest.approx(np.pi / 2, abs=1e-5)
    assert sp.ground_z == pytest.approx(0.17)
    sim = SimG1(SimConfig(lidar=LidarConfig(points_per_scan=100)), field, spawn=sp)
    pos, quat = sim.pelvis_pose()
    assert pos == pytest.approx([5.0, 0.3, 0.17 + g1.DEFAULT_PELVIS_HEIGHT + 0.02], abs=1e-3)
    assert 2 * np.arctan2(quat[3], quat[0]) == pytest.approx(np.pi / 2, abs=1e-3)  # facing the motion's way
    assert sim.stand_torso_height == pytest.approx(0.844, abs=0.02)


def test_spawn_off_the_scan_is_refused_or_moved(tmp_path):
    from videomimic_nodes.core.spawn import resolve_spawn
    from videomimic_offline.errors import InputError

    field = read_heightfield(_scan_like_field(tmp_path))
    with pytest.raises(InputError, match="not on known terrain"):
        resolve_spawn(field, "0,0")  # where the camera stood: nothing was scanned there
    with pytest.raises(InputError, match="x,y"):
        resolve_spawn(field, "nowhere")
    sp = resolve_spawn(field, "")  # no motion given: the known spot nearest to the origin
    assert 1.2 + 0.19 <= sp.xy[0] <= 1.5 and abs(sp.xy[1]) < 0.06, sp.describe()


def test_robot_off_the_scan_stays_in_the_world_and_is_reported(tmp_path):
    """Issue #13: in the main job the robot fell from 0.84 m to -30.9 m. Beyond the scan there is now a
    floor at the lowest known height, and leaving the known terrain and falling are reported."""
    from videomimic_nodes.core.sim_watch import SimWatch
    from videomimic_nodes.core.spawn import resolve_spawn

    field = read_heightfield(_scan_like_field(tmp_path))
    sim = SimG1(SimConfig(lidar=LidarConfig(points_per_scan=100)), field, spawn=resolve_spawn(field, "1.45,0,3.1416"))
    watch = SimWatch(field)
    reports = []
    sim.release_gantry()
    sim.data.qvel[0] = -1.5  # pushed backwards, off the scan's edge at x = 1.2
    for k in range(1500):  # 3 s, no motor command: it collapses
        sim.step()
        if k % 10 == 0:
            reports += watch.update(sim.time, *sim.pelvis_pose())
    pos, _ = sim.pelvis_pose()
    kinds = [r.kind for r in reports]
    assert pos[2] > 0.0, f"pelvis at {pos}: fell out of the world"
    assert "off_terrain" in kinds and kinds.count("fall") == 1, reports
    assert watch.n_falls == 1 and not watch.on_terrain
