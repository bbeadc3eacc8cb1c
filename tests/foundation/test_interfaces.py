"""Each custom interface type round-trips between two processes over real DDS (Fast-DDS)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

rclpy = pytest.importorskip("rclpy")

from grid_map_msgs.msg import GridMap  # noqa: E402
from grid_map_msgs.srv import GetGridMap  # noqa: E402
from livox_ros_driver2.msg import CustomMsg, CustomPoint  # noqa: E402
from rclpy.node import Node  # noqa: E402
from rclpy.serialization import deserialize_message, serialize_message  # noqa: E402
from std_msgs.msg import Float32MultiArray, MultiArrayDimension  # noqa: E402
from unitree_hg.msg import LowCmd, LowState  # noqa: E402

ECHO = Path(__file__).with_name("echo_node.py")
pytestmark = pytest.mark.ros


def _lowcmd() -> LowCmd:
    m = LowCmd(mode_pr=1, mode_machine=5, crc=0xDEADBEEF)
    for i, c in enumerate(m.motor_cmd):
        c.mode, c.q, c.dq, c.tau, c.kp, c.kd, c.reserve = 1, 0.01 * i, -0.5, 0.25, 75.0, 2.0, i
    m.reserve = [1, 2, 3, 4]
    return m


def _lowstate() -> LowState:
    m = LowState(mode_pr=0, mode_machine=4, tick=123456, crc=7)
    m.version = [1, 2]
    m.imu_state.quaternion = [1.0, 0.0, 0.0, 0.0]
    m.imu_state.gyroscope = [0.1, -0.2, 0.3]
    m.imu_state.accelerometer = [0.0, 0.0, 9.81]
    m.imu_state.rpy = [0.01, 0.02, 0.03]
    m.imu_state.temperature = 40
    for i, s in enumerate(m.motor_state):
        s.mode, s.q, s.dq, s.ddq, s.tau_est = 1, -0.02 * i, 0.5, 0.0, 1.5
        s.temperature = [30, 31]
        s.vol = 48.0
        s.sensor = [i, i + 1]
        s.motorstate = i
    m.wireless_remote = list(range(40))
    return m


def _custom() -> CustomMsg:
    m = CustomMsg(timebase=1_700_000_000_000_000_000, lidar_id=3)
    m.header.frame_id = "livox_frame"
    m.rsvd = [1, 2, 3]
    m.points = [CustomPoint(offset_time=i * 1000, x=0.1 * i, y=-0.2, z=1.5, reflectivity=100, tag=16, line=i % 4)
                for i in range(50)]  # fmt: skip
    m.point_num = len(m.points)
    return m


def _gridmap() -> GridMap:
    m = GridMap()
    m.header.frame_id = "odom"
    m.info.resolution, m.info.length_x, m.info.length_y = 0.05, 4.0, 4.0
    m.info.pose.position.x = 1.0
    m.layers = ["elevation", "variance"]
    m.basic_layers = ["elevation"]
    dims = [MultiArrayDimension(label="column_index", size=80, stride=6400),
            MultiArrayDimension(label="row_index", size=80, stride=80)]  # fmt: skip
    m.data = [Float32MultiArray(data=[float(i % 7) for i in range(6400)]) for _ in m.layers]
    for d in m.data:
        d.layout.dim = dims
    m.outer_start_index, m.inner_start_index = 3, 4
    return m


def _stop(proc: subprocess.Popen) -> None:
    """SIGTERM, and SIGKILL if DDS teardown is slow on a loaded machine (the echo has done its job)."""
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(10)


def _wait_ready(proc: subprocess.Popen) -> None:
    line = proc.stdout.readline()
    assert line.strip() == "ready", f"echo process failed to start: {line!r}"


@pytest.mark.parametrize(
    ("type_path", "make"),
    [("unitree_hg/msg/LowCmd", _lowcmd), ("unitree_hg/msg/LowState", _lowstate),
     ("livox_ros_driver2/msg/CustomMsg", _custom), ("grid_map_msgs/msg/GridMap", _gridmap)],
)  # fmt: skip
def test_message_round_trip(ros_domain: int, type_path: str, make) -> None:
    sent = make()
    proc = subprocess.Popen([sys.executable, str(ECHO), "msg", type_path, "/vm_test/in", "/vm_test/out"],
                            stdout=subprocess.PIPE, text=True)  # fmt: skip
    rclpy.init()
    node = Node("vm_test_sender")
    got: list = []
    try:
        _wait_ready(proc)
        pub = node.create_publisher(type(sent), "/vm_test/in", 10)
        node.create_subscription(type(sent), "/vm_test/out", got.append, 10)
        deadline = time.monotonic() + 20
        while not got and time.monotonic() < deadline:
            pub.publish(sent)
            rclpy.spin_once(node, timeout_sec=0.2)
        assert got, f"no {type_path} came back from the other process within 20 s"
        # Float fields are float32 on the wire: compare with the sent message decoded the same way
        # (CDR padding bytes are unspecified, so serialized bytes are not comparable).
        assert got[0] == deserialize_message(serialize_message(sent), type(sent))
        assert got[0] != type(sent)()
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
        _stop(proc)


def test_service_round_trip(ros_domain: int) -> None:
    proc = subprocess.Popen([sys.executable, str(ECHO), "srv"], stdout=subprocess.PIPE, text=True)
    rclpy.init()
    node = Node("vm_test_client")
    try:
        _wait_ready(proc)
        client = node.create_client(GetGridMap, "/vm_test/get_grid_map")
        assert client.wait_for_service(timeout_sec=20), "GetGridMap service did not appear"
        req = GetGridMap.Request(frame_id="odom", position_x=1.5, position_y=-2.0, length_x=3.0, length_y=2.0,
                                 layers=["elevation", "variance"])  # fmt: skip
        future = client.call_async(req)
        rclpy.spin_until_future_complete(node, future, timeout_sec=20)
        resp = future.result()
        assert resp is not None
        assert resp.map.header.frame_id == "odom"
        assert (resp.map.info.pose.position.x, resp.map.info.pose.position.y) == (1.5, -2.0)
        assert list(resp.map.layers) == ["elevation", "variance"]
        assert [list(d.data) for d in resp.map.data] == [[0.0] * 4, [1.0] * 4]
    finally:
        node.destroy_node()
        rclpy.try_shutdown()
        _stop(proc)
