"""Student observations in the layout of :mod:`policy.layout`, as plain numpy.

Training (its sim2sim check) and the on-robot policy node build observations with these very
functions, so a policy never sees a differently ordered or scaled vector on the robot than it
saw in simulation. Conventions fixed here:

* proprio frame (75) = ang_vel_b x0.25 | projected_gravity_b | q - q0 | dq x0.05 | last_action,
  all in the frame of the IMU body the caller passes (the robot's pelvis IMU on the G1);
* history newest first; a fresh history is filled with copies of the first frame;
* command (3) = torso xy in the heading frame (m) and relative yaw (rad);
* heightmap (121) = ``torso_z - ground_z`` at the 11 x 11 points of :func:`heightmap_points_b`
  (yaw-aligned torso frame), row index = y, column index = x (x fastest), both ascending,
  unknown cells = ``g1.HEIGHTMAP_FALLBACK``.
"""

from __future__ import annotations

import numpy as np

from videomimic_offline.policy.layout import COMMAND_DIM, HEIGHTMAP_DIM, NUM_ACTIONS, PROPRIO_DIM, StudentLayout
from videomimic_offline.robot import g1

_SCALES = {"ang_vel": 0.25, "joint_vel": 0.05}
Q0 = g1.as_array(g1.DEFAULT_POSE)

#: Joystick -> command gains of the original deployment: xy = 0.5 * [ly, -lx], yaw = -0.3 * rx.
JOY_XY_GAIN = 0.5
JOY_YAW_GAIN = 0.3


def quat_rotate_inverse(quat_wxyz: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Rotate world vector ``v`` into the body frame of ``quat_wxyz`` (body-to-world)."""
    w, x, y, z = (float(c) for c in quat_wxyz)
    qv = np.array([x, y, z])
    v = np.asarray(v, dtype=np.float64)
    return v * (2.0 * w * w - 1.0) - np.cross(qv, v) * 2.0 * w + qv * (2.0 * np.dot(qv, v))


def projected_gravity(quat_wxyz: np.ndarray) -> np.ndarray:
    """Unit gravity direction in the body frame (``[0, 0, -1]`` when upright)."""
    return quat_rotate_inverse(quat_wxyz, np.array([0.0, 0.0, -1.0]))


def yaw_of(quat_wxyz: np.ndarray) -> float:
    """Heading angle (rad) of a body-to-world quaternion."""
    w, x, y, z = (float(c) for c in quat_wxyz)
    return float(np.arctan2(2.0 * (w * z + x * y), 1.0 - 2.0 * (y * y + z * z)))


def proprio_frame(
    ang_vel_b: np.ndarray, quat_wxyz: np.ndarray, joint_pos: np.ndarray, joint_vel: np.ndarray, last_action: np.ndarray
) -> np.ndarray:
    """One 75-d proprioceptive frame (joint arrays in ``g1.JOINT_NAMES_23`` order)."""
    frame = np.concatenate(
        [
            np.asarray(ang_vel_b, dtype=np.float64) * _SCALES["ang_vel"],
            projected_gravity(quat_wxyz),
            np.asarray(joint_pos, dtype=np.float64) - Q0,
            np.asarray(joint_vel, dtype=np.float64) * _SCALES["joint_vel"],
            np.asarray(last_action, dtype=np.float64),
        ]
    ).astype(np.float32)
    if frame.shape != (PROPRIO_DIM,):
        raise ValueError(
            f"proprio frame has {frame.shape[0]} values, expected {PROPRIO_DIM} (23 joints in motor order)"
        )
    return frame


class HistoryBuffer:
    """Fixed-length proprio history, newest first; the first push after reset fills every slot."""

    def __init__(self, length: int = g1.HISTORY_LENGTH) -> None:
        self.length = length
        self._buf = np.zeros((length, PROPRIO_DIM), dtype=np.float32)
        self._empty = True

    def reset(self) -> None:
        """Forget everything (episode start, or the robot left policy mode)."""
        self._empty = True
        self._buf[:] = 0.0

    def push(self, frame: np.ndarray) -> None:
        if self._empty:
            self._buf[:] = frame
            self._empty = False
        else:
            self._buf[1:] = self._buf[:-1].copy()
            self._buf[0] = frame

    def flat(self) -> np.ndarray:
        """(length * 75,) newest frame first."""
        return self._buf.reshape(-1)


def command_from_joystick(lx: float, ly: float, rx: float) -> np.ndarray:
    """Command (3) from Unitree-convention stick axes (lx/rx positive to the right, ly positive up)."""
    return np.array([JOY_XY_GAIN * ly, -JOY_XY_GAIN * lx, -JOY_YAW_GAIN * rx], dtype=np.float32)


def heightmap_points_b() -> np.ndarray:
    """(11, 11, 2) xy sample offsets in the yaw-aligned torso frame: ``[iy, ix] = (x_ix, y_iy)``."""
    ny, nx = g1.HEIGHTMAP_SHAPE
    r = g1.HEIGHTMAP_RESOLUTION
    xs = (np.arange(nx) - (nx - 1) / 2) * r
    ys = (np.arange(ny) - (ny - 1) / 2) * r
    gx, gy = np.meshgrid(xs, ys, indexing="xy")
    return np.stack([gx, gy], axis=-1)


def heightmap_points_w(torso_pos_w: np.ndarray, torso_yaw: float) -> np.ndarray:
    """(11, 11, 2) world xy of the heightmap samples for a torso at ``torso_pos_w`` heading ``torso_yaw``."""
    c, s = np.cos(torso_yaw), np.sin(torso_yaw)
    rot = np.array([[c, -s], [s, c]])
    return heightmap_points_b() @ rot.T + np.asarray(torso_pos_w, dtype=np.float64)[:2]


def heightmap_values(torso_z: float, ground_z: np.ndarray) -> np.ndarray:
    """Flat (121,) ``torso_z - ground_z`` with NaN (unknown) replaced by the fallback."""
    h = float(torso_z) - np.asarray(ground_z, dtype=np.float64).reshape(-1)
    return np.where(np.isfinite(h), h, g1.HEIGHTMAP_FALLBACK).astype(np.float32)


def build_observation(
    layout: StudentLayout, history: HistoryBuffer, command: np.ndarray, heightmap: np.ndarray | None = None
) -> np.ndarray:
    """Flat student observation ``history | command | heightmap`` as float32 (layout.dim,)."""
    parts = [history.flat(), np.asarray(command, dtype=np.float32).reshape(COMMAND_DIM)]
    if layout.heightmap:
        if heightmap is None:
            heightmap = np.full(HEIGHTMAP_DIM, g1.HEIGHTMAP_FALLBACK, dtype=np.float32)
        parts.append(np.asarray(heightmap, dtype=np.float32).reshape(HEIGHTMAP_DIM))
    obs = np.concatenate(parts)
    if obs.shape != (layout.dim,):
        raise ValueError(f"observation has {obs.shape[0]} values, layout expects {layout.dim}")
    return obs


def action_to_targets(action: np.ndarray) -> np.ndarray:
    """Joint position targets (23) = q0 + ACTION_SCALE * clip(action)."""
    a = np.clip(np.asarray(action, dtype=np.float64).reshape(NUM_ACTIONS), -g1.ACTION_CLIP, g1.ACTION_CLIP)
    return Q0 + g1.ACTION_SCALE * a
