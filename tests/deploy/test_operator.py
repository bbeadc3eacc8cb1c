"""`vm_operator`: the e-stop and the gamepad's mode buttons from a terminal, without `ros2 topic pub`
(issue #16: docs/real_robot.md's e-stop command does not exist without a ROS install)."""

from __future__ import annotations

import subprocess
import threading
import time
from pathlib import Path

import pytest

pytest.importorskip("rclpy")
pytestmark = pytest.mark.ros

from rosprobe import NODE_LIB, Probe, start_node, stop_node  # noqa: E402

if not NODE_LIB.is_dir():
    pytest.skip("videomimic_nodes not built: run bash scripts/setup.sh", allow_module_level=True)


def _operator(*args: str, timeout: float = 60) -> subprocess.CompletedProcess:
    return subprocess.run([str(NODE_LIB / "vm_operator"), *args], capture_output=True, text=True, timeout=timeout)


def test_operator_without_a_graph_says_so(ros_domain: int) -> None:
    res = _operator("estop", "--discovery", "1")
    assert res.returncode == 1 and "no g1_bridge answered" in res.stderr and "ROS_DOMAIN_ID" in res.stderr


def test_operator_drives_the_bridge(tmp_path: Path, ros_domain: int) -> None:
    from unitree_hg.msg import LowState
    from videomimic_nodes.ros_common import TOPIC_QOS as Q
    from videomimic_offline.robot import g1

    proc = start_node("g1_bridge", tmp_path / "log", arm_on_start=True, ramp_s=0.2, lowstate_timeout=0.25)
    probe = Probe()
    stop = threading.Event()
    try:
        pub = probe.node.create_publisher(LowState, "/lowstate", Q["lowstate"])

        def robot() -> None:  # the robot's 500 Hz LowState, standing in the default pose
            msg = LowState()
            msg.imu_state.quaternion = [1.0, 0.0, 0.0, 0.0]
            for i, name in enumerate(g1.JOINT_NAMES_29):
                msg.motor_state[i].q = g1.DEFAULT_POSE.get(name, 0.0)
            while not stop.is_set():
                pub.publish(msg)
                time.sleep(0.002)

        threading.Thread(target=robot, daemon=True).start()
        assert _operator("state").stdout.startswith("vm_operator: bridge mode: damping\n")
        res = _operator("stand")
        assert res.returncode == 0 and "bridge now in stand" in res.stdout, res.stderr
        res = _operator("estop")
        assert res.returncode == 0 and "bridge now in estop" in res.stdout, res.stderr
        res = _operator("damp", "--timeout", "2")  # refused while the e-stop topic holds
        assert res.returncode == 1 and "stays in estop" in res.stderr
        assert _operator("release").returncode == 0
        res = _operator("damp")
        assert res.returncode == 0 and "bridge now in damping" in res.stdout, res.stderr
        res = _operator("policy", "--timeout", "2")  # not from damping, and no policy targets: refused, and said
        assert res.returncode == 1 and "refused" in res.stderr
    finally:
        stop.set()
        probe.close()
        stop_node(proc)
    assert "E-STOP" in (tmp_path / "log").read_text()
