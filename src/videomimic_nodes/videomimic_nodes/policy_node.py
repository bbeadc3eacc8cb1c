"""policy: run the exported student at 50 Hz (own thread, absolute deadlines) and publish joint targets.

Observations come from the bridge's JointState + Imu, the joystick direction command and the
policy heightmap, built with ``policy.observations`` (the same code training uses). While the
bridge is not in policy mode the history is reset every cycle, so the policy starts fresh; targets
are still published so the bridge can see the policy is alive before it switches.
"""

from __future__ import annotations

import time
from collections import deque

import numpy as np
import rclpy
from geometry_msgs.msg import Twist
from rclpy.node import Node
from sensor_msgs.msg import Imu, JointState
from std_msgs.msg import Float32MultiArray, String
from videomimic_offline.errors import InputError
from videomimic_offline.policy.layout import HEIGHTMAP_DIM
from videomimic_offline.robot import g1

from videomimic_nodes.core.loop import PeriodicLoop
from videomimic_nodes.core.policy_runner import PolicyRunner
from videomimic_nodes.ros_common import TOPIC_QOS, Params, counted, now_s, params, run, topic_param
from videomimic_nodes.shutdown import STOP

_IDX = g1.MOTOR_INDEX_23

PARAMS: Params = {
    "policy_path": ("", "the exported student (.onnx, or .pt with metadata); required (launch argument policy:=)"),
    "rate_hz": (g1.CONTROL_HZ, "Hz: control rate (the policy was trained at 50 Hz)"),
    "state_timeout": (0.1, "s: no targets when the joint state is older than this"),
    "heightmap_timeout": (0.5, "s: an older heightmap is replaced by the fallback"),
    "loop_priority": (0, "SCHED_FIFO priority of the 50 Hz loop thread (0: normal; see docs/real_robot.md)"),
    "loop_gc_control": (False, "garbage-collect right after each tick, never mid-tick"),
    "loop_spin_s": (0.0, "s: busy-wait this long before each deadline (costs that much CPU)"),
}


class PolicyNode(Node):
    def __init__(self) -> None:
        super().__init__("policy")
        p = params(self, PARAMS)
        self.p = p
        if not p["policy_path"]:
            raise InputError("no policy given: pass policy:=<student.onnx|.pt> (an exported student with metadata)")
        STOP.check()  # loading the network takes seconds: not after a Ctrl-C
        self.runner = PolicyRunner.from_file(p["policy_path"])
        self.get_logger().info(f"policy {p['policy_path']} loaded (heightmap: {self.runner.layout.heightmap})")
        self.js: tuple[np.ndarray, np.ndarray, float] | None = None
        self.imu: tuple[np.ndarray, np.ndarray] | None = None
        self.cmd = np.zeros(3, dtype=np.float32)
        self.hm: tuple[np.ndarray, float] | None = None
        self.bridge_mode = "damping"
        q = TOPIC_QOS
        self.pub = counted(self.create_publisher(JointState, topic_param(self, "joint_targets"), q["joint_targets"]))
        self.create_subscription(JointState, topic_param(self, "joint_states"), self.on_js, q["joint_states"])
        self.create_subscription(Imu, topic_param(self, "imu"), self.on_imu, q["imu"])
        self.create_subscription(Twist, topic_param(self, "direction_cmd"), self.on_cmd, q["direction_cmd"])
        self.create_subscription(Float32MultiArray, topic_param(self, "heightmap"), self.on_hm, q["heightmap"])
        self.create_subscription(String, topic_param(self, "bridge_state"), self.on_mode, q["bridge_state"])
        self._out = JointState(name=list(g1.JOINT_NAMES_23))
        self.t_infer: deque[float] = deque(maxlen=1000)  # recent inference times (s)
        self.loop = PeriodicLoop(1.0 / p["rate_hz"], self.on_tick, name="policy-50Hz",
                                 realtime_priority=int(p["loop_priority"]), gc_control=bool(p["loop_gc_control"]),
                                 spin_s=float(p["loop_spin_s"])).start()  # fmt: skip

    def on_js(self, msg: JointState) -> None:
        pos, vel = np.asarray(msg.position), np.asarray(msg.velocity)
        if pos.shape[0] < 29 or vel.shape[0] < 29:
            self.get_logger().error("JointState with fewer than 29 joints ignored", throttle_duration_sec=1.0)
            return
        self.js = (pos[_IDX], vel[_IDX], now_s(self))

    def on_imu(self, msg: Imu) -> None:
        o, w = msg.orientation, msg.angular_velocity
        self.imu = (np.array([o.w, o.x, o.y, o.z]), np.array([w.x, w.y, w.z]))

    def on_cmd(self, msg: Twist) -> None:
        c = np.array([msg.linear.x, msg.linear.y, msg.angular.z], dtype=np.float32)
        self.cmd = c if np.isfinite(c).all() else np.zeros(3, dtype=np.float32)

    def on_hm(self, msg: Float32MultiArray) -> None:
        h = np.asarray(msg.data, dtype=np.float32)
        if h.shape != (HEIGHTMAP_DIM,):
            self.get_logger().error(
                f"heightmap with {h.size} values ignored (need {HEIGHTMAP_DIM})", throttle_duration_sec=1.0
            )
            return
        self.hm = (np.where(np.isfinite(h), h, g1.HEIGHTMAP_FALLBACK).astype(np.float32), now_s(self))

    def on_mode(self, msg: String) -> None:
        self.bridge_mode = msg.data

    def on_tick(self) -> None:
        try:
            self.step()
        except Exception as exc:  # keep the loop alive; the bridge's watchdog covers a missing tick
            if not rclpy.ok():
                self.loop.stop()
                return
            self.get_logger().error(f"policy step failed: {exc!r}", throttle_duration_sec=1.0)

    def close(self) -> None:
        self.loop.stop()

    def step(self) -> None:
        now = now_s(self)
        if self.js is None or self.imu is None or now - self.js[2] > self.p["state_timeout"]:
            return  # no robot state: publish nothing (the bridge's policy watchdog takes over)
        if self.bridge_mode != "policy":
            self.runner.reset()
        hm = None
        if self.runner.layout.heightmap:
            if self.hm is None or now - self.hm[1] > self.p["heightmap_timeout"]:
                self.get_logger().warning("no fresh heightmap: using the fallback", throttle_duration_sec=2.0)
            else:
                hm = self.hm[0]
        t0 = time.perf_counter()
        targets = self.runner.step(self.js[0], self.js[1], self.imu[1], self.imu[0], self.cmd, hm)
        self.t_infer.append(time.perf_counter() - t0)
        if not np.isfinite(targets).all():
            self.get_logger().error("policy produced NaN/inf: sending NaN targets (bridge -> damping)",
                                    throttle_duration_sec=1.0)  # fmt: skip
        self._out.header.stamp = self.get_clock().now().to_msg()
        self._out.position = targets.tolist()
        self.pub.publish(self._out)


def main() -> None:
    run(PolicyNode, events_executor=True)
