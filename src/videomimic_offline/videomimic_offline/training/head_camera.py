"""Optional training observation: a depth image from the G1's head camera (off by default).

The original system names vision as the next step; this gives a policy the same view the
``render_egoview`` tool renders offline: the RealSense D435 on torso_link (mount and optics from
``robot/g1.py``), rendered by mjlab's camera sensor (mujoco_warp ray casting, planar depth), at a
small resolution with the same field of view (the focal length scales with the width).
Enable with ``EnvSettings.head_depth = (width, height)`` (``--head-depth W H``): the env then has an observation group
``head_depth`` of shape (num_envs, 1, height, width), metres, 0 where nothing is within range.
"""

from __future__ import annotations

import torch
from mjlab.sensor import CameraSensorCfg

from videomimic_offline.egoview.camera import intrinsics, mujoco_camera_quat, vertical_fov_deg
from videomimic_offline.robot import g1

SENSOR_NAME = "head_depth"
#: Default training resolution (width, height): the 640 x 480 mode's field of view at 1/10 size.
DEFAULT_SIZE = (64, 48)


def head_depth_sensor_cfg(width: int = DEFAULT_SIZE[0], height: int = DEFAULT_SIZE[1]) -> CameraSensorCfg:
    """mjlab camera sensor at the head camera's mount, depth only."""
    K = intrinsics(width, height)
    return CameraSensorCfg(
        name=SENSOR_NAME,
        parent_body=f"robot/{g1.HEAD_CAMERA_PARENT_LINK}",
        pos=tuple(float(x) for x in g1.HEAD_CAMERA_POS_IN_PARENT),
        quat=tuple(float(x) for x in mujoco_camera_quat()),
        fovy=vertical_fov_deg(K, height),
        width=width,
        height=height,
        data_types=("depth",),
        use_textures=False,
        use_shadows=False,
    )


def head_depth(env, sensor_name: str = SENSOR_NAME) -> torch.Tensor:  # noqa: ANN001 - mjlab env
    """Head-camera depth (num_envs, 1, H, W) in metres; 0 outside the D435's range, as the sensor reports."""
    depth = env.scene[sensor_name].data.depth  # (B, H, W, 1) planar depth, 0 = no hit
    lo, hi = g1.HEAD_CAMERA_DEPTH_RANGE_M
    depth = depth.permute(0, 3, 1, 2)
    return torch.where((depth >= lo) & (depth <= hi), depth, torch.zeros_like(depth))
