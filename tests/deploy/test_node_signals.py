"""Every node exits 0, without a traceback, when signalled once or twice at any moment.

A terminal's Ctrl-C reaches every node of a launched graph, and ``ros2 launch`` (or ``vm_launch``)
then signals each one again. With rclpy's default handling the second SIGINT became a
``KeyboardInterrupt`` wherever the node was (an import, ``destroy_node``), and a callback that
published while rclpy shut the context down raised "publisher's context is invalid". Each node
is signalled here while it is still starting (importing rclpy, numpy, MuJoCo) and while it runs,
for lidar_ingest and g1_bridge with their inputs streaming so their callbacks publish as it lands.
"""

from __future__ import annotations

import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("rclpy")
pytestmark = pytest.mark.ros

from rosprobe import NODE_LIB, REPO, Probe, start_node  # noqa: E402

if not NODE_LIB.is_dir():
    pytest.skip("videomimic_nodes not built: run bash scripts/setup.sh", allow_module_level=True)

#: Nodes whose inputs the probe streams during the running phase (they publish from callbacks).
STREAMED = ("lidar_ingest", "g1_bridge")
#: Nodes that take seconds to start (MuJoCo, onnxruntime): their runs are in the slow subset.
HEAVY = ("sim_g1", "policy", "recorder", "state_estimator", "joy_script", "elevation_map", "joy_teleop")


def _params(name: str, tmp: Path, student: Path) -> dict[str, object]:
    return {
        "sim_g1": {"lidar_points_per_scan": 500},
        "policy": {"policy_path": str(student)},
        "recorder": {"output_dir": str(tmp), "topics": "[joy, lowstate]"},
        "joy_script": {"script": str(REPO / "config" / "joy_demo.yaml")},
    }.get(name, {})


def _stream(probe: Probe, name: str, stop: threading.Event) -> None:
    """Feed ``name``'s inputs at its real rate until ``stop``."""
    from nav_msgs.msg import Odometry
    from sensor_msgs.msg import PointCloud2, PointField
    from unitree_hg.msg import LowState
    from videomimic_nodes.core.cloud import xyz_to_cloud2_fields
    from videomimic_nodes.ros_common import TOPIC_QOS as Q

    n = probe.node
    if name == "lidar_ingest":
        pub, odom = n.create_publisher(PointCloud2, "/livox/points", Q["lidar_points"]), None
        odom = n.create_publisher(Odometry, "/vm/odom", Q["odom"])
        fields, data, step = xyz_to_cloud2_fields(np.random.default_rng(0).normal(0, 3, (2000, 3)))
        msg = PointCloud2(height=1, width=2000, point_step=step, row_step=step * 2000, data=data)
        msg.fields = [PointField(name=k, offset=o, datatype=d, count=1) for k, o, d in fields]
        o = Odometry()
        o.pose.pose.orientation.w = 1.0
        while not stop.is_set():
            o.header.stamp = msg.header.stamp = n.get_clock().now().to_msg()
            odom.publish(o)
            pub.publish(msg)
            time.sleep(0.02)
    else:  # g1_bridge, armed: every LowState is answered with a LowCmd from the callback
        pub = n.create_publisher(LowState, "/lowstate", Q["lowstate"])
        state = LowState()
        while not stop.is_set():
            pub.publish(state)
            time.sleep(0.002)


def _signal_twice(proc: subprocess.Popen, gap: float = 0.1) -> int:
    proc.send_signal(signal.SIGINT)
    time.sleep(gap)
    if proc.poll() is None:
        proc.send_signal(signal.SIGINT)
    try:
        return proc.wait(60)
    except subprocess.TimeoutExpired:
        proc.kill()
        return -9


def _check(tmp: Path, log: Path, rc: int, when: str) -> None:
    text = log.read_text()
    assert rc == 0, f"{when}: exit code {rc}\n{text[-3000:]}"
    for bad in ("Traceback", "KeyboardInterrupt", "context is invalid"):
        assert bad not in text, f"{when}: {bad}\n{text[-3000:]}"


@pytest.mark.parametrize(
    "name",
    [pytest.param(n, marks=pytest.mark.slow) if n in HEAVY else n for n in
     ("lidar_ingest", "g1_bridge", "elevation_map", "joy_teleop", "state_estimator", "joy_script", "recorder",
      "policy", "sim_g1")],
)  # fmt: skip
def test_node_exits_cleanly_on_one_or_two_signals(name: str, tmp_path: Path, ros_domain: int, student_onnx) -> None:
    params = _params(name, tmp_path, student_onnx)
    if name == "g1_bridge":
        params["arm_on_start"] = True
    # --- while starting: the signal lands in the imports / constructor -----------------------
    log = tmp_path / "start.log"
    proc = start_node(name, log, **params)
    time.sleep(0.3)
    _check(tmp_path, log, _signal_twice(proc), "signalled while starting")
    # --- while running (inputs streaming for the nodes that publish from callbacks) -------------
    log = tmp_path / "run.log"
    probe = Probe()
    stop = threading.Event()
    try:
        proc = start_node(name, log, **params)
        probe.wait_for(lambda: name in probe.node.get_node_names() or proc.poll() is not None, 60, f"{name} up")
        assert proc.poll() is None, log.read_text()
        if name in STREAMED:
            threading.Thread(target=_stream, args=(probe, name, stop), daemon=True).start()
            time.sleep(1.0)  # callbacks busy publishing
        rc = _signal_twice(proc, gap=0.05)
    finally:
        stop.set()
        probe.close()
        if proc.poll() is None:
            proc.kill()
    _check(tmp_path, log, rc, "signalled twice while running")


def test_sigterm_is_a_clean_stop_too(tmp_path: Path, ros_domain: int) -> None:
    """`ros2 launch` escalates to SIGTERM; `timeout` and systemd send it first."""
    log = tmp_path / "log"
    proc = start_node("joy_teleop", log)
    probe = Probe()
    try:
        probe.wait_for(lambda: "joy_teleop" in probe.node.get_node_names(), 60, "joy_teleop up")
    finally:
        probe.close()
    proc.send_signal(signal.SIGTERM)
    _check(tmp_path, log, proc.wait(60), "SIGTERM")
    assert "vm-sent joy_teleop" in log.read_text()  # it went through the orderly stop


def test_every_executable_answers_help_without_starting(tmp_path: Path) -> None:
    """`<node> --help` says what the node does and lists its parameters; it starts nothing (exit 0, fast)."""
    from videomimic_nodes.entry import NODES

    env = {**os.environ, "ROS_DOMAIN_ID": "0"}
    for name in NODES:
        res = subprocess.run([str(NODE_LIB / name), "--help"], capture_output=True, text=True, timeout=120, env=env)
        assert res.returncode == 0, (name, res.stderr[-2000:])
        out = res.stdout
        assert out.startswith(f"{name}:") and "parameters" in out and "usage: ros2 run videomimic_nodes" in out, out
        assert "realtime_priority" in out
        assert "[INFO]" not in out + res.stderr, (name, "started something")  # no node came up
    res = subprocess.run([str(NODE_LIB / "vm_operator"), "--help"], capture_output=True, text=True, timeout=60)
    assert res.returncode == 0 and "estop" in res.stdout
