"""state_estimator: nav_msgs/Odometry of the torso from LowState alone (real robot, no FAST-LIO).

Thin shell over :class:`core.state_estimator.StateEstimator`: every LowState updates the estimate
(dt from the LowState tick, in ms); Odometry goes out at ``odom_hz``. It drifts (see the core's
docstring and docs/real_robot.md); ``vm_launch deploy odom:=external`` leaves /vm/odom to a
LiDAR-inertial odometry instead and does not start this node.
"""

from __future__ import annotations

import numpy as np
from nav_msgs.msg import Odometry
from rclpy.node import Node
from unitree_hg.msg import LowState
from videomimic_offline.errors import ConfigError

from videomimic_nodes.core.state_estimator import EstimatorConfig, StateEstimator
from videomimic_nodes.ros_common import TOPIC_QOS, Params, counted, params, run, topic_param
from videomimic_nodes.unitree_msgs import LOWSTATE

PARAMS: Params = {
    "variant": ("29dof", "the robot's model for leg kinematics: 29dof (as shipped) | 23dof"),
    "odom_hz": (50.0, "Hz: Odometry rate"),
    "vel_tau": (0.05, "s: the IMU-integrated velocity relaxes to the leg-kinematics velocity"),
    "pos_tau": (0.02, "s: the position relaxes to the leg-kinematics position"),
    "stance_switch": (0.003, "m: the other foot must be this much lower to become the stance foot"),
    "frame_id": ("odom", "Odometry frame"),
    "child_frame_id": ("torso_link", "Odometry child frame"),
}


class StateEstimatorNode(Node):
    def __init__(self) -> None:
        super().__init__("state_estimator")
        p = params(self, PARAMS)
        if p["variant"] not in ("29dof", "23dof"):
            raise ConfigError(f"state_estimator: variant {p['variant']!r}; use 29dof or 23dof (the robot's model)")
        self.p = p
        self.est = StateEstimator(EstimatorConfig(variant=str(p["variant"]), vel_tau=float(p["vel_tau"]),
                                                  pos_tau=float(p["pos_tau"]), stance_switch=float(p["stance_switch"])))  # fmt: skip
        self.period_ms = 1000.0 / float(p["odom_hz"])
        self._tick: int | None = None
        self._last_pub = -1e18
        self.pub = counted(self.create_publisher(Odometry, topic_param(self, "odom"), TOPIC_QOS["odom"]))
        self.create_subscription(
            LowState, topic_param(self, "lowstate"), self.on_lowstate, TOPIC_QOS["lowstate"], raw=True
        )
        self.get_logger().info(
            f"state_estimator up (G1 {p['variant']} leg kinematics + IMU), odom at {p['odom_hz']} Hz"
        )

    def on_lowstate(self, raw: bytes) -> None:
        """Taken as serialized bytes (unitree_msgs): 500 Hz of rclpy LowState objects cost ~0.2 core."""
        try:
            data = LOWSTATE.check(raw)
        except ValueError as exc:
            self.get_logger().error(f"malformed LowState ignored: {exc}", throttle_duration_sec=1.0)
            return
        tick = int(LOWSTATE.get(data, "tick"))
        dt_ms = 2.0 if self._tick is None else (tick - self._tick) % 2**32
        self._tick = tick
        if not 0 < dt_ms <= 100:  # a restart or a long gap: take one nominal step, do not integrate a jump
            dt_ms = 2.0
        q = LOWSTATE.get(data, "motor_state.q")[:29].astype(np.float64)
        quat = LOWSTATE.get(data, "imu_state.quaternion").astype(np.float64)
        if not (np.all(np.isfinite(q)) and np.all(np.isfinite(quat)) and np.linalg.norm(quat) > 0.5):
            self.get_logger().error(
                "LowState with NaN joints or a bad IMU quaternion ignored", throttle_duration_sec=1.0
            )
            return
        gyro = LOWSTATE.get(data, "imu_state.gyroscope").astype(np.float64)
        acc = LOWSTATE.get(data, "imu_state.accelerometer").astype(np.float64)
        e = self.est.update(q, quat, gyro, acc, dt_ms * 1e-3)
        if tick - self._last_pub < self.period_ms and tick >= self._last_pub:
            return
        self._last_pub = tick
        out = Odometry()
        out.header.stamp = self.get_clock().now().to_msg()
        out.header.frame_id, out.child_frame_id = str(self.p["frame_id"]), str(self.p["child_frame_id"])
        pp, po = out.pose.pose.position, out.pose.pose.orientation
        pp.x, pp.y, pp.z = (float(v) for v in e.position)
        po.w, po.x, po.y, po.z = (float(v) for v in e.quat)
        tl, ta = out.twist.twist.linear, out.twist.twist.angular
        tl.x, tl.y, tl.z = (float(v) for v in e.lin_vel)
        ta.x, ta.y, ta.z = (float(v) for v in e.ang_vel)
        self.pub.publish(out)


def main() -> None:
    run(StateEstimatorNode)
