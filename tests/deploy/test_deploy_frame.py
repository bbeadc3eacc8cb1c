"""One frame for a deploy run: the scene's world frame, the heightfield's own (issue #13).

A reconstruction's terrain lies metres from its origin (where the camera stood). The simulator
spawns the G1 there, ``/vm/odom`` (in simulation, the simulator's true torso pose) is in that frame,
and every reader of the bag (``vm_deploy_check``, the report's deploy video and plots) draws the
robot on the heightfield in the same frame, with no offset recorded anywhere else. These tests put
the terrain away from the origin, so a reader or writer that assumed (0, 0) fails.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from graphrun import run_graph
from videomimic_offline.contracts.heightfield import Heightfield, write_heightfield
from videomimic_offline.robot import g1

REPO = Path(__file__).resolve().parents[2]
VM_LAUNCH = REPO / "install" / "videomimic" / "lib" / "videomimic" / "vm_launch"

#: A raised, scanned patch 2.5-4.5 m from the origin: the origin itself is off the known terrain.
ORIGIN_XY, SIZE, RES, GROUND = np.array([2.0, 1.5]), 60, 0.04, 0.3
SPAWN = (3.2, 2.7, 0.5)


def _offset_scene(path: Path) -> Path:
    write_heightfield(path, Heightfield(np.full((SIZE, SIZE), GROUND), ORIGIN_XY, RES))
    return path


def test_the_deploy_video_poses_the_robot_where_the_simulator_has_it() -> None:
    """/vm/odom is torso_link's pose; the video's robot must put its torso (and so its feet) there,
    not its root: posing the pelvis at the torso's pose drew the G1 ~5 cm above its terrain."""
    import mujoco
    from videomimic_nodes.core.sim import SimConfig, SimG1
    from videomimic_nodes.core.spawn import resolve_spawn
    from videomimic_offline.retarget.terrain import from_field
    from videomimic_offline.retarget.video import scene_model
    from videomimic_offline.robot.model import joint_qpos_indices
    from videomimic_offline.viz.deploy_video import pose_from_torso

    field = Heightfield(np.full((SIZE, SIZE), GROUND), ORIGIN_XY, RES)
    sim = SimG1(SimConfig(), field, spawn=resolve_spawn(field, ",".join(map(str, SPAWN))))
    rng = np.random.default_rng(0)
    joints = g1.as_array(g1.DEFAULT_POSE, g1.JOINT_NAMES_29) + rng.normal(0, 0.05, 29)
    joints[g1.JOINT_NAMES_29.index("waist_yaw_joint")] = 0.4  # the torso turned on the pelvis
    sim.data.qpos[sim.pd.qpos_idx] = joints
    mujoco.mj_forward(sim.model, sim.data)
    pos, quat, _, _ = sim.torso_pose()
    q, _, _ = sim.joint_state29()

    m = scene_model(from_field(field), (64, 48))
    d = mujoco.MjData(m)
    pose_from_torso(m, d, q, joint_qpos_indices(m, g1.JOINT_NAMES_29), pos, quat)
    for name in (g1.TORSO_LINK, g1.ROOT_LINK, *g1.FOOT_LINKS):
        np.testing.assert_allclose(d.xpos[m.body(name).id], sim.data.xpos[sim.model.body(name).id], atol=1e-6)
    np.testing.assert_allclose(d.xpos[m.body(g1.ROOT_LINK).id][:2], SPAWN[:2], atol=1e-6)  # the scene frame


pytest_ros = pytest.mark.skipif(not VM_LAUNCH.exists(), reason="vm_launch not built: run bash scripts/setup.sh")


@pytest.mark.ros
@pytest.mark.slow
@pytest_ros
def test_the_recorded_pose_lies_on_the_known_terrain_of_an_offset_scene(tmp_path: Path, ros_domain: int) -> None:
    """The whole sim graph on a scene whose terrain does not contain the origin: the bag's /vm/odom
    (read as the report reads it) starts at the spawn and stays over known terrain at the standing
    height, the spawn event agrees, the bag names the scene, and no MUJOCO_LOG.TXT is left in the cwd."""
    pytest.importorskip("rclpy")
    from videomimic_offline.contracts.heightfield import read_heightfield
    from videomimic_offline.report import _bag_scene, read_bag

    scene = _offset_scene(tmp_path / "heightfield.npz")
    bags, cwd = tmp_path / "bags", tmp_path / "cwd"
    cwd.mkdir()
    env = {**os.environ, "VM_BAG_DIR": str(bags)}
    cmd = [str(VM_LAUNCH), "deploy", "sim:=true", "record:=true", f"scene:={scene}",
           f"spawn:={','.join(map(str, SPAWN))}"]  # fmt: skip
    rc, log = run_graph(cmd, env, cwd, seconds=5.0)  # 5 s of odometry once the robot is placed
    assert rc == 0, log[-4000:]
    assert not (cwd / "MUJOCO_LOG.TXT").exists(), (cwd / "MUJOCO_LOG.TXT").read_text()[-2000:]
    (bag,) = [p for p in bags.iterdir() if not p.name.startswith(".")]
    assert _bag_scene(bag) == scene  # the report finds the terrain the run used
    msgs = read_bag(bag, ("/vm/odom", "/vm/events"))
    odom = np.array([[m.pose.pose.position.x, m.pose.pose.position.y, m.pose.pose.position.z]
                     for _, m in msgs["/vm/odom"]])  # fmt: skip
    assert len(odom) > 20, log[-3000:]
    field = read_heightfield(scene)
    assert field.known_at(odom[:, :2]).all(), odom[~field.known_at(odom[:, :2])][:5]
    np.testing.assert_allclose(odom[0, :2], SPAWN[:2], atol=0.05)  # the scene frame, not (0, 0)
    spawn = [e for e in (json.loads(m.data) for _, m in msgs["/vm/events"]) if e["kind"] == "spawn"]
    assert spawn and np.allclose([spawn[0]["x"], spawn[0]["y"], spawn[0]["ground_z"]], [*SPAWN[:2], GROUND]), spawn
    # on the gantry, unpowered: the torso hangs at the standing height above this terrain (+2 cm spawn clearance)
    above = odom[:, 2] - field.height_at(odom[:, :2])
    assert np.all(np.abs(above - spawn[0]["stand_torso_height"] - 0.02) < 0.05), (above.min(), above.max())
