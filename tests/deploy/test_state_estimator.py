"""state_estimator: odometry from LowState alone, on LowState sequences made with the simulator's G1.

The sequences are kinematic (the sim's MuJoCo model, pelvis moved so that the lower foot stays
planted; the PD-only G1 cannot stand or walk in physics without a policy): the IMU quaternion is
the pelvis's, the accelerometer the second difference of its path (plus noise and a bias), and
the truth is the torso's path. Then the node is run over DDS against the simulated G1.
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest
from videomimic_nodes.core.sim import LidarConfig, SimConfig, SimG1
from videomimic_nodes.core.state_estimator import EstimatorConfig, StateEstimator, quat_to_mat
from videomimic_offline.robot import g1

DT = 0.002
J = {n: i for i, n in enumerate(g1.JOINT_NAMES_29)}


def _yaw_pitch_quat(yaw: float, pitch: float) -> np.ndarray:
    qy = np.array([np.cos(yaw / 2), 0, 0, np.sin(yaw / 2)])
    qp = np.array([np.cos(pitch / 2), 0, np.sin(pitch / 2), 0])
    w1, x1, y1, z1 = qy
    w2, x2, y2, z2 = qp
    return np.array([w1 * w2 - x1 * x2 - y1 * y2 - z1 * z2, w1 * x2 + x1 * w2 + y1 * z2 - z1 * y2,
                     w1 * y2 - x1 * z2 + y1 * w2 + z1 * x2, w1 * z2 + x1 * y2 - y1 * x2 + z1 * w2])  # fmt: skip


def lowstate_sequence(kind: str, seconds: float, seed: int = 0) -> dict[str, np.ndarray]:
    """LowState fields (q29, quat, gyro, acc) and the torso's true path for ``walk`` or ``stand``."""
    import mujoco

    sim = SimG1(SimConfig(gantry=False, lidar=LidarConfig(points_per_scan=1)))
    m, d = sim.model, sim.data
    feet = [m.body(n).id for n in g1.FOOT_LINKS]
    T = int(round(seconds / DT))
    t = np.arange(T) * DT
    q = np.tile(g1.as_array(g1.DEFAULT_POSE, g1.JOINT_NAMES_29), (T, 1))
    yaw, pitch = np.zeros(T), 0.03 * np.sin(2 * np.pi * 0.7 * t)  # a little torso sway
    if kind == "walk":  # 1 Hz gait: the stance hip sweeps monotonically, so the pelvis advances
        phase = 2 * np.pi * t
        for side, off in (("left", 0.0), ("right", np.pi)):
            lift = np.clip(np.sin(phase + off), 0, None)
            q[:, J[f"{side}_hip_pitch_joint"]] += -0.3 * lift + 0.25 * np.cos(phase + off)
            q[:, J[f"{side}_knee_joint"]] += 0.6 * lift
            q[:, J[f"{side}_ankle_pitch_joint"]] += -0.3 * lift - 0.25 * np.cos(phase + off)
        yaw = 0.15 * t  # turning slowly
    else:  # standing: squat and waist twist, both feet down
        depth = 0.5 * (1 - np.cos(2 * np.pi * 0.5 * t))
        for side in ("left", "right"):
            q[:, J[f"{side}_hip_pitch_joint"]] += -0.3 * depth
            q[:, J[f"{side}_knee_joint"]] += 0.6 * depth
            q[:, J[f"{side}_ankle_pitch_joint"]] += -0.3 * depth
        q[:, J["waist_yaw_joint"]] = 0.2 * np.sin(2 * np.pi * 0.4 * t)
    quat = np.array([_yaw_pitch_quat(a, b) for a, b in zip(yaw, pitch, strict=True)])
    pelvis, torso = np.zeros((T, 3)), np.zeros((T, 3))
    anchor, stance = None, 0
    qidx = sim.pd.qpos_idx
    for k in range(T):
        d.qpos[:3], d.qpos[3:7], d.qpos[qidx] = 0.0, quat[k], q[k]
        mujoco.mj_kinematics(m, d)
        rel = [d.xpos[f] - d.xpos[sim.pelvis_id] for f in feet]
        low = int(rel[1][2] < rel[0][2])
        if anchor is None:  # start: pelvis over the origin, the lower ankle at z = 0
            stance, anchor = low, rel[low] * [1, 1, 0]
        elif low != stance:  # touchdown: the lower foot is planted where it is now
            stance, anchor = low, pelvis[k - 1] + rel[low]
        pelvis[k] = anchor - rel[stance]
        torso[k] = pelvis[k] + d.xpos[sim.torso_id] - d.xpos[sim.pelvis_id]
    rng = np.random.default_rng(seed)
    acc_w = np.gradient(np.gradient(pelvis, DT, axis=0), DT, axis=0) + [0, 0, 9.81]
    acc = np.einsum("tji,tj->ti", np.array([quat_to_mat(x) for x in quat]), acc_w)  # R^T a
    acc += rng.normal(0, 0.2, acc.shape) + [0.05, -0.05, 0.1]  # noise and a bias
    q29 = q + rng.normal(0, 0.002, q.shape)  # encoder noise
    return {"q": q29, "quat": quat, "gyro": np.zeros((T, 3)), "acc": acc, "torso": torso, "pelvis": pelvis}


def _run(seq: dict[str, np.ndarray], variant: str = "23dof") -> np.ndarray:
    est = StateEstimator(EstimatorConfig(variant=variant))
    out = [est.update(seq["q"][k], seq["quat"][k], seq["gyro"][k], seq["acc"][k], DT).position
           for k in range(len(seq["q"]))]  # fmt: skip
    return np.array(out)


@pytest.mark.parametrize("variant", ["23dof", "29dof"])
def test_standing_does_not_drift(variant: str) -> None:
    seq = lowstate_sequence("stand", 4.0)
    est = _run(seq, variant)
    err = est - seq["torso"]
    err -= err[0]  # the odom frame's origin is the start (the truth's z is the ankle's, not the sole's)
    assert np.abs(err[:, :2]).max() < 0.01, np.abs(err).max(0)  # < 1 cm in x, y over 4 s of squats
    assert np.abs(err[:, 2]).max() < 0.03  # height above the start follows the squat
    assert np.ptp(seq["torso"][:, 2]) > 0.05  # (the squat did move the torso)


def test_walking_drift_is_bounded() -> None:
    seq = lowstate_sequence("walk", 4.0)
    est = _run(seq)
    truth = seq["torso"]
    walked = np.linalg.norm(truth[-1, :2] - truth[0, :2])
    assert walked > 0.5, walked  # the gait moves the robot (and turns it)
    err = np.linalg.norm((est - truth)[:, :2], axis=1)
    assert err.max() < 0.02 * walked + 0.01, (err.max(), walked)  # < 2 % of the distance walked (+1 cm)
    dz = est[:, 2] - truth[:, 2]
    assert np.abs(dz - dz[0]).max() < 0.02


def test_orientation_and_torso_offset() -> None:
    """The published pose is the torso's: IMU orientation through the waist, not the pelvis."""
    seq = lowstate_sequence("stand", 0.2)
    est = StateEstimator(EstimatorConfig(variant="23dof"))
    q = seq["q"][0].copy()
    q[J["waist_yaw_joint"]] = 0.5
    e = est.update(q, seq["quat"][0], np.array([0.0, 0.0, 0.3]), np.array([0.0, 0.0, 9.81]), DT)
    yaw = 2 * np.arctan2(e.quat[3], e.quat[0])
    assert yaw == pytest.approx(0.5, abs=0.01)
    assert e.ang_vel[2] == pytest.approx(0.3, abs=0.01) and e.stance in (0, 1)
    assert e.position[2] == pytest.approx(g1.DEFAULT_PELVIS_HEIGHT + 0.05, abs=0.06)  # torso above the pelvis


def test_bad_variant_is_refused() -> None:
    with pytest.raises(ValueError, match="29dof or 23dof"):
        StateEstimator(EstimatorConfig(variant="12dof"))


@pytest.mark.ros
def test_node_publishes_odometry_over_dds(ros_domain: int, tmp_path: Path) -> None:
    """The state_estimator executable, fed LowState by a real sim_g1 process, publishes /vm/odom."""
    import os
    import signal
    import subprocess

    rclpy = pytest.importorskip("rclpy")
    from nav_msgs.msg import Odometry
    from videomimic.graph import TOPICS
    from videomimic_nodes.ros_common import TOPIC_QOS

    prefix = Path(__file__).resolve().parents[2] / "install" / "videomimic_nodes" / "lib" / "videomimic_nodes"
    if not (prefix / "state_estimator").exists():
        pytest.skip("state_estimator not built: run bash scripts/setup.sh")
    # sim_g1 publishes its own odometry on /vm/odom: move it aside so only the estimator's arrives
    sim = subprocess.Popen([str(prefix / "sim_g1"), "--ros-args", "-p", "odom_topic:=/sim/odom", "-p",
                            "lidar_points_per_scan:=100"], stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)  # fmt: skip
    log = open(tmp_path / "est.log", "w")  # noqa: SIM115
    est = subprocess.Popen([str(prefix / "state_estimator"), "--ros-args", "-p", "variant:=23dof"],
                           stdout=log, stderr=subprocess.STDOUT, env=os.environ.copy())  # fmt: skip
    ctx = rclpy.Context()
    rclpy.init(context=ctx)
    node = rclpy.create_node("odom_probe", context=ctx)
    got: list = []
    node.create_subscription(Odometry, TOPICS["odom"], got.append, TOPIC_QOS["odom"])
    ex = rclpy.executors.SingleThreadedExecutor(context=ctx)
    ex.add_node(node)
    try:
        end = time.monotonic() + 60
        while len(got) < 20 and time.monotonic() < end and est.poll() is None:
            ex.spin_once(timeout_sec=0.2)
    finally:
        ex.shutdown()
        for p in (est, sim):
            p.send_signal(signal.SIGINT)
        rc = est.wait(20)
        sim.wait(20)
        node.destroy_node()
        rclpy.try_shutdown(context=ctx)
        log.close()
    assert len(got) >= 20, (tmp_path / "est.log").read_text()[-2000:]
    m = got[-1]
    assert m.header.frame_id == "odom" and m.child_frame_id == "torso_link"
    p = m.pose.pose.position
    # On the gantry at the origin, torso ~0.05 m above a 0.8 m pelvis. Nothing commands the legs here,
    # so they hang and swing, and leg odometry drifts with the time sim_g1 ran before this probe matched:
    # on a loaded machine (discovery taking seconds) 0.13 m was seen. Drift itself is bounded by the
    # core tests above (standing, walking); this test is the executable's plumbing.
    assert abs(p.x) < 0.3 and abs(p.y) < 0.3 and 0.7 < p.z < 1.0, p
    assert rc == 0


def test_graph_starts_the_estimator_on_the_real_robot_only(tmp_path: Path) -> None:
    from videomimic.graph import deploy_graph

    def names(**args: str) -> list[str]:
        return [n.name for n in deploy_graph(args, tmp_path)]

    assert "state_estimator" in names(sim="false")  # default odom:=estimator
    assert "state_estimator" not in names(sim="false", odom="external")  # FAST-LIO publishes /vm/odom
    assert "state_estimator" not in names(sim="true")  # sim_g1 publishes the true odometry
    with pytest.raises(ValueError, match="odom:=fastlio is not one of estimator, external"):
        names(sim="false", odom="fastlio")
