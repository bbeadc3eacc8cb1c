"""Joint rotations from joint positions: what a body model or a character rig consumes.

The reconstruction optimises 3D joint positions; consumers that drive a rig (SMPL-style players,
BVH export, the robot's keyframe tools) want per-joint rotations. Each joint's world rotation is
the rotation that carries the rest pose's bone (joint -> its child) onto the posed bone, applied on
top of the parent's rotation (the smallest such swing: twist about a bone is not observable from
points, so it is inherited from the parent). The pelvis and the neck, which have several
children, take the rotation of a frame fitted to them (hips/shoulders line and the bone up the
body), as ``contracts.human_motion.pelvis_quat`` does for the pelvis. Leaves (head, wrists, toes)
inherit their parent's rotation.
"""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation

from videomimic_offline.body.skeleton import HUMAN_JOINTS, HUMAN_PARENTS

_I = HUMAN_JOINTS.index
#: Joints with several children: (left, right, up-from, up-to) defining their frame.
_FRAMES = {
    _I("pelvis"): (_I("left_hip"), _I("right_hip"), _I("pelvis"), _I("spine")),
    _I("neck"): (_I("left_shoulder"), _I("right_shoulder"), _I("neck"), _I("head")),
}


def _frame(j: np.ndarray, left: int, right: int, a: int, b: int) -> np.ndarray:
    """(...,3,3) columns x forward, y left, z up, from a left-right line and an upward bone."""
    y = j[..., left, :] - j[..., right, :]
    y = y / (np.linalg.norm(y, axis=-1, keepdims=True) + 1e-9)
    z = j[..., b, :] - j[..., a, :]
    z = z - np.sum(z * y, axis=-1, keepdims=True) * y
    z = z / (np.linalg.norm(z, axis=-1, keepdims=True) + 1e-9)
    return np.stack([np.cross(y, z), y, z], axis=-1)


def _swing(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(T,3,3) smallest rotations taking unit directions ``a`` (T,3) onto ``b`` (T,3)."""
    a = a / (np.linalg.norm(a, axis=-1, keepdims=True) + 1e-12)
    b = b / (np.linalg.norm(b, axis=-1, keepdims=True) + 1e-12)
    axis = np.cross(a, b)
    s = np.linalg.norm(axis, axis=-1)
    c = np.sum(a * b, axis=-1)
    angle = np.arctan2(s, c)
    # antiparallel: any axis perpendicular to a
    perp = np.cross(a, np.where(np.abs(a[:, :1]) < 0.9, [[1.0, 0, 0]], [[0, 1.0, 0]]))
    axis = np.where((s < 1e-9)[:, None], perp, axis)
    axis = axis / (np.linalg.norm(axis, axis=-1, keepdims=True) + 1e-12)
    return Rotation.from_rotvec(axis * angle[:, None]).as_matrix()


def _wxyz(R: np.ndarray) -> np.ndarray:
    """(T,J,3,3) -> (T,J,4) wxyz, sign kept continuous over time per joint."""
    T, J = R.shape[:2]
    q = Rotation.from_matrix(R.reshape(-1, 3, 3)).as_quat().reshape(T, J, 4)
    q = np.concatenate([q[..., 3:], q[..., :3]], axis=-1)
    for t in range(1, T):
        flip = np.sum(q[t] * q[t - 1], axis=-1) < 0
        q[t, flip] = -q[t, flip]
    return q


def joint_rotations(joints: np.ndarray, rest: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """World and local joint rotations (wxyz) of posed ``joints`` (T,J,3) relative to ``rest`` (J,3).

    Returns ``joint_rot_w`` (T,J,4): each joint's rotation in the world relative to the rest pose,
    and ``body_pose`` (T,J,4): the same relative to the parent's (the root's is its world rotation).
    """
    joints = np.asarray(joints, float)
    rest = np.asarray(rest, float)
    T, J = joints.shape[:2]
    par = np.array(HUMAN_PARENTS)
    children = {j: [c for c in range(J) if par[c] == j] for j in range(J)}
    Rw = np.zeros((T, J, 3, 3))
    for j in range(J):  # parents precede children in HUMAN_JOINTS
        if j in _FRAMES:
            Rw[:, j] = _frame(joints, *_FRAMES[j]) @ _frame(rest, *_FRAMES[j]).T
            continue
        Rp = Rw[:, par[j]] if par[j] >= 0 else np.broadcast_to(np.eye(3), (T, 3, 3))
        if len(children[j]) != 1:
            Rw[:, j] = Rp
            continue
        c = children[j][0]
        rest_dir = np.einsum("tij,j->ti", Rp, rest[c] - rest[j])
        Rw[:, j] = _swing(rest_dir, joints[:, c] - joints[:, j]) @ Rp
    Rl = Rw.copy()
    child = par >= 0
    Rl[:, child] = np.einsum("tjki,tjkl->tjil", Rw[:, par[child]], Rw[:, child])
    return _wxyz(Rw), _wxyz(Rl)
