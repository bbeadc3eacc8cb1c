"""Robot motion in mjlab's tracking format (``robot_motion.npz``), from solved configurations.

Body arrays cover every G1 body except the world, in MuJoCo body order (``body_names``); joint
arrays follow :data:`robot.g1.JOINT_NAMES_29`. Velocities are central differences at 50 fps,
angular velocity in the world frame, as mjlab's motion loader expects.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import mujoco
import numpy as np

from videomimic_offline import artifacts
from videomimic_offline.robot import g1
from videomimic_offline.robot.model import g1_model, joint_qpos_indices

SCHEMA = "videomimic.robot_motion"
VERSION = 1


@dataclass
class RobotMotion:
    """The tracking-format arrays (see DEVELOPING.md, robot_motion.npz)."""

    fps: float
    qpos: np.ndarray  # (T, nq) MuJoCo configurations (free joint + 29 hinges)
    joint_pos: np.ndarray
    joint_vel: np.ndarray
    body_pos_w: np.ndarray
    body_quat_w: np.ndarray
    body_lin_vel_w: np.ndarray
    body_ang_vel_w: np.ndarray
    body_names: tuple[str, ...]
    contacts: np.ndarray


def _quat_continuous(q: np.ndarray) -> np.ndarray:
    q = q.copy()
    for t in range(1, len(q)):
        flip = np.sum(q[t] * q[t - 1], axis=-1) < 0
        q[t][flip] *= -1
    return q


def _ang_vel_world(quat: np.ndarray, fps: float) -> np.ndarray:
    """omega = 2 * dq/dt * conj(q) (vector part), wxyz quaternions, world frame."""
    dq = np.gradient(quat, axis=0) * fps
    w0, v0 = quat[..., 0], -quat[..., 1:]  # conjugate
    w1, v1 = dq[..., 0], dq[..., 1:]
    vec = w1[..., None] * v0 + w0[..., None] * v1 + np.cross(v1, v0)
    return 2.0 * vec


def from_qpos(qpos: np.ndarray, fps: float, contacts: np.ndarray) -> RobotMotion:
    """Forward kinematics of every frame -> the tracking-format arrays."""
    m = g1_model("29dof", actuators=False)
    d = mujoco.MjData(m)
    T = len(qpos)
    B = m.nbody - 1
    pos = np.zeros((T, B, 3))
    quat = np.zeros((T, B, 4))
    for t in range(T):
        d.qpos[:] = qpos[t]
        mujoco.mj_kinematics(m, d)
        pos[t] = d.xpos[1:]
        quat[t] = d.xquat[1:]
    quat = _quat_continuous(quat)
    qadr = joint_qpos_indices(m, g1.JOINT_NAMES_29)
    joint_pos = qpos[:, qadr]
    return RobotMotion(
        fps=fps,
        qpos=qpos,
        joint_pos=joint_pos,
        joint_vel=np.gradient(joint_pos, axis=0) * fps,
        body_pos_w=pos,
        body_quat_w=quat,
        body_lin_vel_w=np.gradient(pos, axis=0) * fps,
        body_ang_vel_w=_ang_vel_world(quat, fps),
        body_names=tuple(m.body(i).name for i in range(1, m.nbody)),
        contacts=np.asarray(contacts, bool),
    )


def write_robot_motion(path: Path, motion: RobotMotion, scene: str = "") -> None:
    """Write ``robot_motion.npz`` (float32 arrays, as mjlab stores them)."""
    f32 = np.float32
    artifacts.write_npz(
        Path(path),
        schema=SCHEMA,
        version=VERSION,
        fps=np.array(motion.fps, dtype=f32),
        joint_pos=motion.joint_pos.astype(f32),
        joint_vel=motion.joint_vel.astype(f32),
        body_pos_w=motion.body_pos_w.astype(f32),
        body_quat_w=motion.body_quat_w.astype(f32),
        body_lin_vel_w=motion.body_lin_vel_w.astype(f32),
        body_ang_vel_w=motion.body_ang_vel_w.astype(f32),
        joint_names=np.array(g1.JOINT_NAMES_29),
        body_names=np.array(motion.body_names),
        contacts=motion.contacts.astype(bool),
        scene=np.array(scene),
    )


def read_robot_motion(path: Path) -> dict[str, np.ndarray]:
    """Load ``robot_motion.npz`` with its schema checked."""
    return artifacts.read_npz(Path(path), schema=SCHEMA, max_version=VERSION)
