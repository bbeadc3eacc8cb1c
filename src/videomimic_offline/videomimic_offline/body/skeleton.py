"""Canonical human keypoint skeleton (world frame, z up, metres).

Every human-motion artifact (reconstruction output, BVH/AMASS imports, synthetic ground truth)
stores 3D joints in this order, so metrics and retargeting never map names ad hoc.
"""

from __future__ import annotations

#: Joint names, in array order of ``joints_w`` (T, J, 3).
HUMAN_JOINTS: tuple[str, ...] = (
    "pelvis", "left_hip", "right_hip", "spine", "neck", "head",
    "left_shoulder", "left_elbow", "left_wrist",
    "right_shoulder", "right_elbow", "right_wrist",
    "left_knee", "left_ankle", "left_toe",
    "right_knee", "right_ankle", "right_toe",
)  # fmt: skip

#: Parent of each joint (index into HUMAN_JOINTS; -1 for the root).
HUMAN_PARENTS: tuple[int, ...] = (-1, 0, 0, 0, 3, 4, 4, 6, 7, 4, 9, 10, 1, 12, 13, 2, 15, 16)

#: Joints scored by the reconstruction benchmark (MPJPE): the 14 that 2D detectors see reliably.
EVAL_JOINTS: tuple[str, ...] = (
    "left_shoulder", "left_elbow", "left_wrist", "right_shoulder", "right_elbow", "right_wrist",
    "left_hip", "left_knee", "left_ankle", "right_hip", "right_knee", "right_ankle", "head", "pelvis",
)  # fmt: skip

#: Foot joints used for contact labels, (left, right).
FOOT_JOINTS: tuple[str, str] = ("left_ankle", "right_ankle")


def index(name: str) -> int:
    """Array index of joint ``name``."""
    return HUMAN_JOINTS.index(name)
