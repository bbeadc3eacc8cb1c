"""Human <-> G1 keypoint correspondence: 16 points, the bone vectors between them, robot bone lengths.

The retargeter matches *directions* of human bones with the *robot's* bone lengths (per-link
scaling), plus absolute targets for the feet and pelvis, so a 1.8 m person and the 1.3 m robot
produce the same posture while the feet stay where the person stepped.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from videomimic_offline.body.skeleton import HUMAN_JOINTS
from videomimic_offline.robot import g1

#: Robot point for each human joint: (body name, offset in the body frame [m]).
ROBOT_POINTS: dict[str, tuple[str, tuple[float, float, float]]] = {
    "pelvis": (g1.ROOT_LINK, (0.0, 0.0, 0.0)),
    "left_hip": ("left_hip_roll_link", (0.0, 0.0, 0.0)),
    "right_hip": ("right_hip_roll_link", (0.0, 0.0, 0.0)),
    "spine": (g1.TORSO_LINK, (0.0, 0.0, 0.0)),
    "neck": (g1.TORSO_LINK, (0.0, 0.0, 0.25)),
    "head": (g1.TORSO_LINK, (0.0, 0.0, 0.43)),
    "left_shoulder": ("left_shoulder_roll_link", (0.0, 0.0, 0.0)),
    "left_elbow": ("left_elbow_link", (0.0, 0.0, 0.0)),
    "left_wrist": ("left_wrist_yaw_link", (0.0, 0.0, 0.0)),
    "right_shoulder": ("right_shoulder_roll_link", (0.0, 0.0, 0.0)),
    "right_elbow": ("right_elbow_link", (0.0, 0.0, 0.0)),
    "right_wrist": ("right_wrist_yaw_link", (0.0, 0.0, 0.0)),
    "left_knee": ("left_knee_link", (0.0, 0.0, 0.0)),
    "left_ankle": (g1.FOOT_LINKS[0], (0.0, 0.0, 0.0)),
    "left_toe": (g1.FOOT_LINKS[0], (0.13, 0.0, -0.025)),
    "right_knee": ("right_knee_link", (0.0, 0.0, 0.0)),
    "right_ankle": (g1.FOOT_LINKS[1], (0.0, 0.0, 0.0)),
    "right_toe": (g1.FOOT_LINKS[1], (0.13, 0.0, -0.025)),
}

#: Keypoints the solver tracks (head is implied by the rigid torso; spine by pelvis->neck).
TRACKED: tuple[str, ...] = (
    "pelvis", "spine", "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
    "left_toe", "right_toe", "neck", "left_shoulder", "right_shoulder", "left_elbow", "right_elbow",
    "left_wrist", "right_wrist",
)  # fmt: skip

#: Bone vectors matched in direction (parent, child, weight). Toe vectors get their pitch re-based
#: from the human's planted-foot pitch to the robot's (a human ankle sits higher above the toes).
VECTORS: tuple[tuple[str, str, float], ...] = (
    ("left_hip", "left_knee", 1.0), ("left_knee", "left_ankle", 1.0),
    ("right_hip", "right_knee", 1.0), ("right_knee", "right_ankle", 1.0),
    ("right_hip", "left_hip", 1.0), ("pelvis", "spine", 1.0), ("pelvis", "neck", 1.0),
    ("right_shoulder", "left_shoulder", 1.0),
    ("left_shoulder", "left_elbow", 0.6), ("left_elbow", "left_wrist", 0.4),
    ("right_shoulder", "right_elbow", 0.6), ("right_elbow", "right_wrist", 0.4),
    ("left_ankle", "left_toe", 0.5), ("right_ankle", "right_toe", 0.5),
)  # fmt: skip

TOE_VECTORS = {("left_ankle", "left_toe"), ("right_ankle", "right_toe")}

#: Ankle-link origin height above the sole when the foot is flat [m] (G1 foot capsules).
ANKLE_HEIGHT = 0.035


@dataclass(frozen=True)
class RobotKeypoints:
    """Body ids/offsets of the tracked points and the robot's bone lengths (from the MJCF)."""

    body: dict[str, int]
    offset: dict[str, np.ndarray]
    length: dict[tuple[str, str], float]
    rest_points: dict[str, np.ndarray]  # default-pose positions (pelvis at origin height)


@lru_cache(maxsize=2)
def robot_keypoints(variant: str = "29dof") -> RobotKeypoints:
    """Keypoint table for the G1 model; bone lengths measured by forward kinematics at q = 0."""
    import mujoco

    from videomimic_offline.robot.model import g1_model

    m = g1_model(variant, actuators=False)  # type: ignore[arg-type]
    d = mujoco.MjData(m)
    d.qpos[:] = 0.0
    d.qpos[2] = g1.DEFAULT_PELVIS_HEIGHT
    d.qpos[3] = 1.0
    mujoco.mj_kinematics(m, d)
    body = {k: m.body(b).id for k, (b, _) in ROBOT_POINTS.items()}
    offset = {k: np.asarray(o, np.float64) for k, (_, o) in ROBOT_POINTS.items()}
    pts = {k: d.xpos[body[k]] + d.xmat[body[k]].reshape(3, 3) @ offset[k] for k in ROBOT_POINTS}
    length = {(a, b): float(np.linalg.norm(pts[b] - pts[a])) for a, b, _ in VECTORS}
    return RobotKeypoints(body, offset, length, pts)


def robot_points_w(qpos: np.ndarray, model=None) -> np.ndarray:  # model: mujoco.MjModel (29-DoF G1)
    """(T, J, 3) the robot's point for each HUMAN_JOINTS name, by forward kinematics of ``qpos`` (T, nq)."""
    import mujoco

    from videomimic_offline.robot.model import g1_model

    m = model if model is not None else g1_model("29dof", actuators=False)
    d = mujoco.MjData(m)
    table = [(m.body(ROBOT_POINTS[n][0]).id, np.asarray(ROBOT_POINTS[n][1])) for n in HUMAN_JOINTS]
    out = np.zeros((len(qpos), len(HUMAN_JOINTS), 3))
    for t, q in enumerate(qpos):
        d.qpos[:] = q
        mujoco.mj_kinematics(m, d)
        for j, (b, off) in enumerate(table):
            out[t, j] = d.xpos[b] + d.xmat[b].reshape(3, 3) @ off
    return out


def human_index(name: str) -> int:
    return HUMAN_JOINTS.index(name)
