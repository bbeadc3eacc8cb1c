"""LAFAN1 G1 CSV (Unitree's retargeted LAFAN1 release, what mjlab's csv_to_npz reads) -> G1 configurations.

Each row: root position x y z [m], root quaternion x y z w, then the 29 joint angles [rad] in
Unitree motor order; z up, 30 fps unless declared. These are already robot motions: the tool
resamples them to 50 fps and writes the tracking format with a feasibility report.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from videomimic_offline.errors import InputError
from videomimic_offline.robot import g1

COLUMNS = 7 + len(g1.JOINT_NAMES_29)
DEFAULT_FPS = 30.0


def read_lafan_csv(path: Path) -> np.ndarray:
    """(T, 36) MuJoCo qpos rows (root pos, quat wxyz, 29 joints) from a LAFAN1 G1 CSV."""
    try:
        data = np.loadtxt(Path(path), delimiter=",", ndmin=2)
    except (OSError, ValueError) as exc:
        raise InputError(f"cannot read {path} as a numeric CSV: {exc}") from exc
    if data.shape[1] != COLUMNS:
        raise InputError(
            f"{path}: {data.shape[1]} columns; a LAFAN1 G1 CSV has {COLUMNS} "
            "(x y z qx qy qz qw + 29 joints). Is it a 23-DoF or other robot's file?"
        )
    bad = np.where(~np.isfinite(data).all(axis=1))[0]
    if bad.size:
        raise InputError(f"{path}: {bad.size} row(s) contain NaN (first {bad[:5].tolist()}); trim or fill them")
    q = np.zeros((len(data), 7 + len(g1.JOINT_NAMES_29)))
    q[:, :3] = data[:, :3]
    quat = data[:, [6, 3, 4, 5]]
    norm = np.linalg.norm(quat, axis=1, keepdims=True)
    if (np.abs(norm - 1) > 0.05).any():
        raise InputError(f"{path}: root quaternions are not unit length; columns 4-7 must be qx qy qz qw")
    q[:, 3:7] = quat / norm
    q[:, 7:] = data[:, 7:]
    return q


def resample_qpos(qpos: np.ndarray, fps_in: float, fps_out: float) -> np.ndarray:
    """Linear joints/position, slerp root orientation."""
    from scipy.spatial.transform import Rotation, Slerp

    T = len(qpos)
    t_in = np.arange(T) / fps_in
    t_out = np.arange(0.0, t_in[-1] + 1e-9, 1.0 / fps_out)
    out = np.zeros((len(t_out), qpos.shape[1]))
    for k in list(range(3)) + list(range(7, qpos.shape[1])):
        out[:, k] = np.interp(t_out, t_in, qpos[:, k])
    rot = Rotation.from_quat(qpos[:, [4, 5, 6, 3]])
    r = Slerp(t_in, rot)(t_out).as_quat()
    out[:, 3:7] = r[:, [3, 0, 1, 2]]
    return out


def write_lafan_csv(path: Path, qpos: np.ndarray) -> None:
    """Inverse of :func:`read_lafan_csv` (tests)."""
    rows = np.concatenate([qpos[:, :3], qpos[:, [4, 5, 6, 3]], qpos[:, 7:]], axis=1)
    np.savetxt(Path(path), rows, delimiter=",", fmt="%.6f")
