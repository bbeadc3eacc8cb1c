"""Torso odometry from LowState alone: IMU orientation + stance-leg kinematics + IMU acceleration.

The real G1 has no odometry topic, and the elevation map needs one. The original system ran
FAST-LIO; this is the fallback that needs nothing but the robot's own 500 Hz LowState:

* orientation: the pelvis IMU quaternion (its yaw drifts slowly, as the IMU's does);
* position: the stance foot is assumed fixed on the ground; forward kinematics of the G1 model
  (MuJoCo) with the measured joint angles and IMU orientation gives the pelvis relative to it.
  The stance foot is the lower one (world-aligned), with hysteresis so double support does not
  flicker; at each touchdown the new foot is anchored where the estimate puts it;
* velocity: IMU acceleration integrated, pulled toward the kinematic velocity (a complementary
  filter), and position likewise toward the kinematic position.

Limitation (documented in docs/real_robot.md): dead reckoning drifts. Foot slip, the sole rolling
(the anchor is the ankle, not the contact point) and yaw drift accumulate a few cm per metre
walked; nothing ever corrects them. Use a LiDAR-inertial odometry (``odom:=external``) for long runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from videomimic_offline.robot import g1

GRAVITY = np.array([0.0, 0.0, -9.81])


def quat_to_mat(q: np.ndarray) -> np.ndarray:
    """Rotation matrix of a unit quaternion (w, x, y, z)."""
    w, x, y, z = np.asarray(q, dtype=np.float64) / np.linalg.norm(q)
    return np.array([
        [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
        [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
        [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
    ])  # fmt: skip


@dataclass
class EstimatorConfig:
    variant: str = "29dof"  # the G1 model whose kinematics are used: "29dof" | "23dof"
    vel_tau: float = 0.05  # s: IMU-integrated velocity relaxes to the kinematic one this fast
    pos_tau: float = 0.02  # s: position relaxes to the kinematic one this fast
    stance_switch: float = 0.003  # m: the other foot must be this much lower to become the stance foot


@dataclass
class Estimate:
    position: np.ndarray  # torso_link in the odom frame (m)
    quat: np.ndarray  # torso_link orientation (w, x, y, z)
    lin_vel: np.ndarray  # pelvis linear velocity, odom frame (m/s)
    ang_vel: np.ndarray  # angular velocity, odom frame (rad/s)
    stance: int  # 0 left, 1 right


class StateEstimator:
    """Feed :meth:`update` every LowState; it returns the torso pose and velocity in the odom frame.

    The odom frame starts at the pelvis's ground projection with the IMU's yaw (x, y = 0, z = 0
    on the ground under the robot), so on flat ground z is height above the start.
    """

    def __init__(self, cfg: EstimatorConfig | None = None) -> None:
        import mujoco
        from videomimic_offline.robot.model import g1_model, joint_qpos_indices

        self.cfg = cfg or EstimatorConfig()
        if self.cfg.variant not in ("29dof", "23dof"):
            raise ValueError(f"variant {self.cfg.variant!r}: use 29dof or 23dof")
        self._mj = mujoco
        self.model = g1_model(self.cfg.variant, actuators=False)
        self.data = mujoco.MjData(self.model)
        names = g1.JOINT_NAMES_29 if self.cfg.variant == "29dof" else g1.JOINT_NAMES_23
        self._qadr = np.array(joint_qpos_indices(self.model, names))
        self._motor = np.array([g1.JOINT_NAMES_29.index(n) for n in names])
        self._feet = [self.model.body(n).id for n in g1.FOOT_LINKS]
        self._pelvis = self.model.body(g1.ROOT_LINK).id
        self._torso = self.model.body(g1.TORSO_LINK).id
        # ankle-roll body height above the sole at the default pose (the anchor's height on flat ground)
        q0 = g1.as_array(g1.DEFAULT_POSE, g1.JOINT_NAMES_29)
        rel = self._kinematics(q0, np.array([1.0, 0, 0, 0]))
        self.ankle_height = g1.DEFAULT_PELVIS_HEIGHT + min(rel[0][2], rel[1][2])
        self.initialized = False

    def _kinematics(self, q29: np.ndarray, quat: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(left foot, right foot, torso) relative to the pelvis in world-aligned axes, and torso quat."""
        d = self.data
        d.qpos[:3] = 0.0
        d.qpos[3:7] = quat
        d.qpos[self._qadr] = q29[self._motor]
        self._mj.mj_kinematics(self.model, d)
        p = d.xpos[self._pelvis]
        return (
            d.xpos[self._feet[0]] - p,
            d.xpos[self._feet[1]] - p,
            d.xpos[self._torso] - p,
            d.xquat[self._torso].copy(),
        )

    def reset(self, q29: np.ndarray, quat: np.ndarray) -> None:
        left, right, _, _ = self._kinematics(q29, quat)
        self.stance = 0 if left[2] <= right[2] else 1
        foot = (left, right)[self.stance]
        self.pelvis = np.array([0.0, 0.0, self.ankle_height - foot[2]])
        self.anchor = self.pelvis + foot
        self.vel = np.zeros(3)
        self._p_kin_prev = self.pelvis.copy()
        self._v_kin = np.zeros(3)
        self.initialized = True

    def update(self, q29: np.ndarray, quat: np.ndarray, gyro: np.ndarray, acc: np.ndarray, dt: float) -> Estimate:
        """One LowState: joint angles (29, motor order), IMU quaternion (w, x, y, z), gyro and
        accelerometer (body frame, the accelerometer reading +g when still), dt since the last."""
        quat = np.asarray(quat, dtype=np.float64)
        if not self.initialized:
            self.reset(q29, quat)
        R = quat_to_mat(quat)
        left, right, torso, torso_quat = self._kinematics(q29, quat)
        feet = (left, right)
        other = 1 - self.stance
        switched = feet[other][2] < feet[self.stance][2] - self.cfg.stance_switch
        if switched:  # touchdown: anchor the new stance foot where the estimate puts it
            self.stance = other
            self.anchor = self.pelvis + feet[other]
        p_kin = self.anchor - feet[self.stance]
        if dt > 0:
            if not switched:
                self._v_kin = (p_kin - self._p_kin_prev) / dt
            a_world = R @ np.asarray(acc, dtype=np.float64) + GRAVITY
            self.vel = self.vel + a_world * dt
            self.vel += min(1.0, dt / self.cfg.vel_tau) * (self._v_kin - self.vel)
            self.pelvis = self.pelvis + self.vel * dt
            self.pelvis += min(1.0, dt / self.cfg.pos_tau) * (p_kin - self.pelvis)
        self._p_kin_prev = p_kin
        return Estimate(self.pelvis + torso, torso_quat, self.vel.copy(), R @ np.asarray(gyro, float), self.stance)
