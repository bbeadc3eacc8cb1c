"""Unitree G1 constants: the single source of truth for joint order, limits, pose and gains.

Every other module (retargeting, training, export metadata, the policy node, the hardware bridge,
the simulated robot) reads these; none hard-codes its own copy. Values are facts from Unitree's
published G1 model (29 DoF, as shipped by mjlab) and from the VideoMimic deployment configuration
(23 actuated DoF: the 29-DoF robot with its six wrist joints locked). A test checks the limits
against the installed MJCF.

Joint order is Unitree's motor order: index ``i`` here is ``motor_cmd[i]`` in ``unitree_hg/LowCmd``.
"""

from __future__ import annotations

import numpy as np

#: Unitree G1 29-DoF joint names in motor order (LowCmd/LowState indices 0..28).
JOINT_NAMES_29: tuple[str, ...] = (
    "left_hip_pitch_joint", "left_hip_roll_joint", "left_hip_yaw_joint",
    "left_knee_joint", "left_ankle_pitch_joint", "left_ankle_roll_joint",
    "right_hip_pitch_joint", "right_hip_roll_joint", "right_hip_yaw_joint",
    "right_knee_joint", "right_ankle_pitch_joint", "right_ankle_roll_joint",
    "waist_yaw_joint", "waist_roll_joint", "waist_pitch_joint",
    "left_shoulder_pitch_joint", "left_shoulder_roll_joint", "left_shoulder_yaw_joint",
    "left_elbow_joint", "left_wrist_roll_joint", "left_wrist_pitch_joint", "left_wrist_yaw_joint",
    "right_shoulder_pitch_joint", "right_shoulder_roll_joint", "right_shoulder_yaw_joint",
    "right_elbow_joint", "right_wrist_roll_joint", "right_wrist_pitch_joint", "right_wrist_yaw_joint",
)  # fmt: skip

#: Joints locked (held at 0 with stiff gains) in the 23-DoF variant the policy drives.
LOCKED_JOINTS_23: tuple[str, ...] = tuple(n for n in JOINT_NAMES_29 if "wrist" in n)

#: The 23 actuated joints of the policy, in motor order (legs 6+6, waist 3, arms 4+4).
JOINT_NAMES_23: tuple[str, ...] = tuple(n for n in JOINT_NAMES_29 if n not in LOCKED_JOINTS_23)

#: Motor index (into the 29/35-slot LowCmd) of each of the 23 policy joints.
MOTOR_INDEX_23: np.ndarray = np.array([JOINT_NAMES_29.index(n) for n in JOINT_NAMES_23], dtype=np.int64)

#: Number of motor slots in unitree_hg LowCmd/LowState (the G1 uses the first 29).
NUM_MOTOR_SLOTS = 35

#: Position limits [rad] per joint (lower, upper), from the G1 MJCF.
JOINT_LIMITS: dict[str, tuple[float, float]] = {
    "left_hip_pitch_joint": (-2.5307, 2.8798), "right_hip_pitch_joint": (-2.5307, 2.8798),
    "left_hip_roll_joint": (-0.5236, 2.9671), "right_hip_roll_joint": (-2.9671, 0.5236),
    "left_hip_yaw_joint": (-2.7576, 2.7576), "right_hip_yaw_joint": (-2.7576, 2.7576),
    "left_knee_joint": (-0.087267, 2.8798), "right_knee_joint": (-0.087267, 2.8798),
    "left_ankle_pitch_joint": (-0.87267, 0.5236), "right_ankle_pitch_joint": (-0.87267, 0.5236),
    "left_ankle_roll_joint": (-0.2618, 0.2618), "right_ankle_roll_joint": (-0.2618, 0.2618),
    "waist_yaw_joint": (-2.618, 2.618), "waist_roll_joint": (-0.52, 0.52), "waist_pitch_joint": (-0.52, 0.52),
    "left_shoulder_pitch_joint": (-3.0892, 2.6704), "right_shoulder_pitch_joint": (-3.0892, 2.6704),
    "left_shoulder_roll_joint": (-1.5882, 2.2515), "right_shoulder_roll_joint": (-2.2515, 1.5882),
    "left_shoulder_yaw_joint": (-2.618, 2.618), "right_shoulder_yaw_joint": (-2.618, 2.618),
    "left_elbow_joint": (-1.0472, 2.0944), "right_elbow_joint": (-1.0472, 2.0944),
    "left_wrist_roll_joint": (-1.97222, 1.97222), "right_wrist_roll_joint": (-1.97222, 1.97222),
    "left_wrist_pitch_joint": (-1.61443, 1.61443), "right_wrist_pitch_joint": (-1.61443, 1.61443),
    "left_wrist_yaw_joint": (-1.61443, 1.61443), "right_wrist_yaw_joint": (-1.61443, 1.61443),
}  # fmt: skip

# Motor families from Unitree's G1 description: (effort limit [N m], velocity limit [rad/s], reflected
# rotor inertia [kg m^2]). The inertia is the motor's rotor and planet stages seen through its two-stage
# planetary gearbox, sum of I_k * (ratio after stage k)^2 with Unitree's rotor data (as mjlab's G1 uses);
# MuJoCo adds it to the joint as armature. It matters: at the ankles it is ~4x the foot's own inertia.
_MOTOR_7520_14 = (88.0, 32.0, 0.489e-4 * (4.5 * (1 + 48 / 22)) ** 2 + 0.098e-4 * (1 + 48 / 22) ** 2 + 0.533e-4)
_MOTOR_7520_22 = (139.0, 20.0, 0.489e-4 * (4.5 * 5) ** 2 + 0.109e-4 * 5**2 + 0.738e-4)
_MOTOR_5020 = (25.0, 37.0, 0.139e-4 * ((1 + 46 / 18) * (1 + 56 / 16)) ** 2 + 0.017e-4 * (1 + 56 / 16) ** 2 + 0.169e-4)
# Ankles and waist roll/pitch: two 5020s through a linkage (nominal 1:1: twice the torque and inertia).
_MOTOR_5020_PAIR = (2 * _MOTOR_5020[0], _MOTOR_5020[1], 2 * _MOTOR_5020[2])
_MOTOR_4010 = (5.0, 22.0, 0.068e-4 * (5 * 5) ** 2)


def _family(name: str) -> tuple[float, float, float]:
    if "hip_pitch" in name or "hip_yaw" in name or name == "waist_yaw_joint":
        return _MOTOR_7520_14
    if "hip_roll" in name or "knee" in name:
        return _MOTOR_7520_22
    if "ankle" in name or name in ("waist_roll_joint", "waist_pitch_joint"):
        return _MOTOR_5020_PAIR
    if "wrist_pitch" in name or "wrist_yaw" in name:
        return _MOTOR_4010
    return _MOTOR_5020


#: Effort limit [N m] per joint.
EFFORT_LIMITS: dict[str, float] = {n: _family(n)[0] for n in JOINT_NAMES_29}
#: Velocity limit [rad/s] per joint.
VELOCITY_LIMITS: dict[str, float] = {n: _family(n)[1] for n in JOINT_NAMES_29}
#: Reflected motor inertia [kg m^2] per joint (MuJoCo joint armature).
ARMATURE: dict[str, float] = {n: _family(n)[2] for n in JOINT_NAMES_29}

#: Default (standing) pose q0 [rad] used by the VideoMimic policy; joints not listed are 0.
DEFAULT_POSE: dict[str, float] = {
    "left_hip_pitch_joint": -0.1, "right_hip_pitch_joint": -0.1,
    "left_knee_joint": 0.3, "right_knee_joint": 0.3,
    "left_ankle_pitch_joint": -0.2, "right_ankle_pitch_joint": -0.2,
}  # fmt: skip

#: Pelvis height [m] above flat ground in the default pose.
DEFAULT_PELVIS_HEIGHT = 0.78


def _policy_kp(name: str) -> float:
    if "wrist" in name:
        return 40.0  # locked joints: held stiff at 0 on the real robot
    return 20.0 if "ankle" in name else 75.0


def _policy_kd(name: str) -> float:
    if "ankle_pitch" in name:
        return 0.2
    if "ankle_roll" in name:
        return 0.1
    return 2.0


#: PD stiffness [N m/rad] of the VideoMimic policy (kp 75, ankles 20).
KP: dict[str, float] = {n: _policy_kp(n) for n in JOINT_NAMES_29}
#: PD damping [N m s/rad] (2, ankle pitch 0.2, ankle roll 0.1).
KD: dict[str, float] = {n: _policy_kd(n) for n in JOINT_NAMES_29}

#: Damping-mode gain [N m s/rad] the bridge sends when not running the policy (kp = 0).
DAMPING_KD = 8.0

#: Policy action: target = q0 + ACTION_SCALE * action (clipped to +-ACTION_CLIP first).
ACTION_SCALE = 0.25
ACTION_CLIP = 8.0

#: Timing: physics 200 Hz, decimation 4 -> policy at 50 Hz.
SIM_DT = 0.005
DECIMATION = 4
CONTROL_DT = SIM_DT * DECIMATION
CONTROL_HZ = 1.0 / CONTROL_DT

#: Links tracked by the policy, named as in the G1 model (wrist-roll links stand in for hands).
TRACKED_LINKS: tuple[str, ...] = (
    "pelvis", "torso_link",
    "left_hip_roll_link", "left_knee_link", "left_ankle_roll_link",
    "right_hip_roll_link", "right_knee_link", "right_ankle_roll_link",
    "left_shoulder_roll_link", "left_elbow_link", "left_wrist_roll_link",
    "right_shoulder_roll_link", "right_elbow_link", "right_wrist_roll_link",
)  # fmt: skip

#: Feet (end effectors for contact) and the heightmap anchor link.
FOOT_LINKS: tuple[str, str] = ("left_ankle_roll_link", "right_ankle_roll_link")
TORSO_LINK = "torso_link"
ROOT_LINK = "pelvis"

#: Policy heightmap: 11 x 11 rays at 0.1 m, centred on the torso, yaw-aligned.
HEIGHTMAP_SHAPE = (11, 11)
HEIGHTMAP_RESOLUTION = 0.1
#: Value used for unknown heightmap cells (torso height above ground, as the original fallback).
HEIGHTMAP_FALLBACK = 0.85

#: Proprioception history length (newest first).
HISTORY_LENGTH = 5

# Head camera: the Intel RealSense D435(i) in the G1's head.
# - Mount: Unitree's G1 URDF (unitreerobotics/unitree_ros, robots/g1_description/g1_29dof_rev_1_0.urdf),
#   fixed joint `d435_joint`: parent torso_link, origin xyz (0.0576235, 0.01753, 0.42987) m,
#   rpy (0, 0.8307767239493009, 0) rad, i.e. pitched 47.6 deg down. The `d435_link` x axis is the optical
#   axis (ROS body convention: x forward, y left, z up). mjlab's G1 model has the same torso_link frame
#   (its head_link visual sits at the URDF's head joint origin, (0.0039635, 0, -0.044)).
# - Optics: Intel RealSense D400-series datasheet (doc. 337029): D435 depth field of view 87 x 58 deg
#   (H x V, +-3 / +-1 deg) for the 16:9 modes up to 1280 x 720, from a 1280 x 800 imager; depth up to
#   90 fps; minimum depth (Min-Z) about 0.28 m at 1280 x 720; usable range to about 10 m.
# - The 640 x 480 depth mode (the one run on the robot) scales that imager by 0.6 and crops it to 4:3, so
#   its focal length is 0.6 x (360 px / tan(58/2 deg)) = 389.7 px (field of view 78.8 x 63.2 deg).
#   D435 units report 383-390 px in this mode from their factory calibration.
#: Link the head camera is fixed to, and its pose there (position m, URDF roll/pitch/yaw rad).
HEAD_CAMERA_PARENT_LINK = TORSO_LINK
HEAD_CAMERA_POS_IN_PARENT = (0.0576235, 0.01753, 0.42987)
HEAD_CAMERA_RPY_IN_PARENT = (0.0, 0.8307767239493009, 0.0)
#: Published depth field of view (horizontal, vertical) [deg] of the 16:9 modes.
HEAD_CAMERA_FOV_DEG = (87.0, 58.0)
#: Depth stream resolution (width, height) [px] and its focal length [px] (square pixels, centred).
HEAD_CAMERA_RESOLUTION = (640, 480)
HEAD_CAMERA_FOCAL_PX = 0.6 * 360.0 / float(np.tan(np.radians(58.0 / 2)))
#: Depth range [m]: Min-Z at full resolution, and the far limit beyond which the sensor reports nothing.
HEAD_CAMERA_DEPTH_RANGE_M = (0.28, 10.0)
#: Depth frame rate used on the robot [Hz].
HEAD_CAMERA_FPS = 30


def as_array(table: dict[str, float], names: tuple[str, ...] = JOINT_NAMES_23, default: float = 0.0) -> np.ndarray:
    """Vector of ``table`` values in the order of ``names`` (float64)."""
    return np.array([table.get(n, default) for n in names], dtype=np.float64)


def limits_array(names: tuple[str, ...] = JOINT_NAMES_23) -> tuple[np.ndarray, np.ndarray]:
    """(lower, upper) position limits in the order of ``names``."""
    lo = np.array([JOINT_LIMITS[n][0] for n in names])
    hi = np.array([JOINT_LIMITS[n][1] for n in names])
    return lo, hi


def metadata() -> dict[str, object]:
    """Robot constants as a JSON-able dict: stored in exported policies and checked at load."""
    return {
        "robot": "unitree_g1_23dof",
        "joint_names": list(JOINT_NAMES_23),
        "motor_index": MOTOR_INDEX_23.tolist(),
        "default_pose": as_array(DEFAULT_POSE).tolist(),
        "kp": as_array(KP).tolist(),
        "kd": as_array(KD).tolist(),
        "action_scale": ACTION_SCALE,
        "action_clip": ACTION_CLIP,
        "control_dt": CONTROL_DT,
    }
