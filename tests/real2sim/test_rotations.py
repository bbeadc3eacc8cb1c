"""Joint rotations recovered from joint positions (motion.npz ``joint_rot_w`` / ``body_pose``)."""

from __future__ import annotations

import numpy as np
from scipy.spatial.transform import Rotation
from videomimic_offline.body.skeleton import HUMAN_JOINTS, HUMAN_PARENTS
from videomimic_offline.real2sim.body_template import rest_joints
from videomimic_offline.real2sim.rotations import joint_rotations


def _mat(q: np.ndarray) -> np.ndarray:
    return Rotation.from_quat(np.concatenate([q[..., 1:], q[..., :1]], -1).reshape(-1, 4)).as_matrix()


def test_rest_and_rigidly_turned_rest_pose() -> None:
    rest = rest_joints(1.75)
    R = Rotation.from_euler("zyx", [0.7, 0.2, -0.1]).as_matrix()
    posed = np.stack([rest, rest @ R.T + [1.0, 2.0, 0.3]])
    rot_w, local = joint_rotations(posed, rest)
    assert rot_w.shape == local.shape == (2, len(HUMAN_JOINTS), 4)
    assert np.allclose(np.abs(rot_w[0, :, 0]), 1, atol=1e-6) and np.allclose(np.abs(local[0, :, 0]), 1, atol=1e-6)
    assert np.allclose(_mat(rot_w[1]), R, atol=1e-6), "a turned body turns every joint the same way"
    assert np.allclose(_mat(local[1, 0]), R, atol=1e-6)
    assert np.allclose(np.abs(local[1, 1:, 0]), 1, atol=1e-6), "and leaves every local rotation at identity"


def test_rotations_carry_rest_bones_onto_posed_bones() -> None:
    rng = np.random.default_rng(0)
    rest = rest_joints(1.6)
    posed = rest + rng.normal(0, 0.05, rest.shape)  # a bent, noisy pose
    rot_w, local = joint_rotations(posed[None], rest)
    Rw = _mat(rot_w[0]).reshape(-1, 3, 3)
    par = np.array(HUMAN_PARENTS)
    single = {j for j in range(len(par)) if (par == j).sum() == 1}
    for c in range(1, len(par)):
        j = par[c]
        if j not in single:
            continue
        d = Rw[j] @ (rest[c] - rest[j])
        e = posed[c] - posed[j]
        assert d @ e / np.linalg.norm(d) / np.linalg.norm(e) > 1 - 1e-9, HUMAN_JOINTS[c]
    # forward kinematics: chaining the local rotations gives back the world rotations
    Rl = _mat(local[0]).reshape(-1, 3, 3)
    chained = np.zeros_like(Rl)
    for j in range(len(par)):
        chained[j] = Rl[j] if par[j] < 0 else chained[par[j]] @ Rl[j]
    assert np.allclose(chained, Rw, atol=1e-9)
