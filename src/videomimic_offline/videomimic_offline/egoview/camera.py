"""The G1 head camera (RealSense D435) as a pinhole: intrinsics, mount and poses along a motion.

Every number comes from :mod:`videomimic_offline.robot.g1`; this module only turns them into
matrices. Frames: ``T_a_b`` maps b-coordinates to a-coordinates. Camera axes are OpenCV's
(x right, y down, z forward), the convention of ``cameras.npz`` and of RealSense's own SDK.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from videomimic_offline.contracts.robot_motion import RobotMotion
from videomimic_offline.robot import g1

#: OpenCV camera axes in the URDF camera link (x forward, y left, z up): x_cv = -y, y_cv = -z, z_cv = x.
R_LINK_CV = np.array([[0.0, 0.0, 1.0], [-1.0, 0.0, 0.0], [0.0, -1.0, 0.0]])


def intrinsics(width: int = g1.HEAD_CAMERA_RESOLUTION[0], height: int | None = None) -> np.ndarray:
    """K (3,3) of the head camera at ``width`` x ``height`` px (the 640 x 480 mode, scaled; centred)."""
    w0, h0 = g1.HEAD_CAMERA_RESOLUTION
    height = round(width * h0 / w0) if height is None else height
    f = g1.HEAD_CAMERA_FOCAL_PX * width / w0
    return np.array([[f, 0.0, (width - 1) / 2], [0.0, f, (height - 1) / 2], [0.0, 0.0, 1.0]])


def vertical_fov_deg(K: np.ndarray, height: int) -> float:
    """Vertical field of view [deg] of a centred pinhole (MuJoCo cameras take this)."""
    return float(np.degrees(2 * np.arctan2(height / 2, K[1, 1])))


def camera_pose_in_parent() -> np.ndarray:
    """Pose (4,4) of the OpenCV camera frame in the mount's parent link (torso_link)."""
    T = np.eye(4)
    # URDF rpy: fixed-axis roll about x, then pitch about y, then yaw about z.
    R_parent_link = Rotation.from_euler("xyz", g1.HEAD_CAMERA_RPY_IN_PARENT).as_matrix()
    T[:3, :3] = R_parent_link @ R_LINK_CV
    T[:3, 3] = g1.HEAD_CAMERA_POS_IN_PARENT
    return T


def mujoco_camera_quat() -> np.ndarray:
    """The camera's orientation in the parent link as a MuJoCo camera quaternion (wxyz).

    A MuJoCo camera looks down its -z with y up: its axes are the OpenCV ones with y and z negated.
    """
    R = camera_pose_in_parent()[:3, :3] @ np.diag([1.0, -1.0, -1.0])
    x, y, z, w = Rotation.from_matrix(R).as_quat()
    return np.array([w, x, y, z])


def _interp_pose(pos: np.ndarray, quat_wxyz: np.ndarray, fps: float, times: np.ndarray) -> np.ndarray:
    """Poses (N,4,4) at ``times`` from samples at ``fps``: linear position, spherical rotation."""
    from scipy.spatial.transform import Slerp

    t_src = np.arange(len(pos)) / fps
    times = np.clip(times, 0.0, t_src[-1])
    out = np.tile(np.eye(4), (len(times), 1, 1))
    out[:, :3, 3] = np.stack([np.interp(times, t_src, pos[:, k]) for k in range(3)], axis=1)
    rots = Rotation.from_quat(np.asarray(quat_wxyz)[:, [1, 2, 3, 0]])
    out[:, :3, :3] = (Slerp(t_src, rots)(times) if len(t_src) > 1 else rots[np.zeros(len(times), int)]).as_matrix()
    return out


def head_camera_poses(motion: RobotMotion, fps: float) -> tuple[np.ndarray, np.ndarray]:
    """(times (N,) s, T_world_cam (N,4,4)) of the head camera along a robot motion, at ``fps``."""
    b = list(motion.body_names).index(g1.HEAD_CAMERA_PARENT_LINK)
    src_fps = float(motion.fps)
    duration = (len(motion.body_pos_w) - 1) / src_fps
    times = np.arange(int(np.floor(duration * fps + 1e-9)) + 1) / fps
    T_world_parent = _interp_pose(motion.body_pos_w[:, b], motion.body_quat_w[:, b], src_fps, times)
    return times, T_world_parent @ camera_pose_in_parent()
