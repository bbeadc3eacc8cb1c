"""Robot motion ``robot_motion.npz``: schema ``videomimic.robot_motion`` v1 (mjlab's tracking format plus
names, contacts and the scene) — the record, the one way to compute it from joint configurations,
its one writer and its one reader.

Written by the ``retarget`` tool and by training's generated MoCap; read by training.

Conventions (as stored, float32):

- ``fps`` () = 50 (the policy rate); world frame z up, metres, radians, seconds.
- ``joint_pos`` / ``joint_vel`` (T,29) in ``joint_names`` order (written as
  :data:`robot.g1.JOINT_NAMES_29`; a file in another order is remapped by name, see
  :meth:`RobotMotion.select`).
- ``body_pos_w`` (T,B,3), ``body_quat_w`` (T,B,4) quaternion order **w, x, y, z** (sign kept
  continuous over time), ``body_lin_vel_w`` / ``body_ang_vel_w`` (T,B,3) world-frame velocities,
  for every G1 body but the world, in MuJoCo body order (``body_names``).
- Velocities are central differences (one-sided at the ends) at ``fps``; the angular velocity is
  the vector part of ``2 dq/dt q*`` (world frame), as mjlab's motion loader expects.
- ``contacts`` (T,2) bool: (left, right) foot planted. ``scene`` () str: the heightfield the motion
  stands on, relative to the file's folder ("" = flat or procedural ground).
"""

from __future__ import annotations

import os
from dataclasses import dataclass, fields
from pathlib import Path

import numpy as np

from videomimic_offline import artifacts
from videomimic_offline.errors import ArtifactError, InputError
from videomimic_offline.robot import g1

SCHEMA = "videomimic.robot_motion"
VERSION = 1
FILE = "robot_motion.npz"
FPS = 50.0
ARRAYS = ("joint_pos", "joint_vel", "body_pos_w", "body_quat_w", "body_lin_vel_w", "body_ang_vel_w")
_JOINT_ARRAYS = ("joint_pos", "joint_vel")


@dataclass
class RobotMotion:
    """The tracking-format arrays (see the module docstring)."""

    fps: float
    joint_pos: np.ndarray  # (T, 29)
    joint_vel: np.ndarray
    body_pos_w: np.ndarray  # (T, B, 3)
    body_quat_w: np.ndarray  # (T, B, 4) wxyz
    body_lin_vel_w: np.ndarray
    body_ang_vel_w: np.ndarray
    body_names: tuple[str, ...]
    contacts: np.ndarray  # (T, 2) bool
    joint_names: tuple[str, ...] = g1.JOINT_NAMES_29
    scene: Path | None = None  # the heightfield it stands on (absolute once read)
    qpos: np.ndarray | None = None  # (T, nq) MuJoCo configurations, when computed here (not stored)

    @property
    def length(self) -> int:
        return int(self.joint_pos.shape[0])

    def select(self, joint_names: tuple[str, ...], body_names: tuple[str, ...], where: str = "motion") -> dict:
        """The fields with joints and bodies picked (and reordered) by name; a missing one is refused."""
        lacking = [n for n in joint_names if n not in self.joint_names]
        lacking += [n for n in body_names if n not in self.body_names]
        if lacking:
            raise InputError(f"{where} has no data for {lacking}: it was not written for the Unitree G1")
        ji = [self.joint_names.index(n) for n in joint_names]
        bi = [self.body_names.index(n) for n in body_names]
        out = {f.name: getattr(self, f.name) for f in fields(RobotMotion)}
        for k in ARRAYS:
            out[k] = out[k][:, ji] if k in _JOINT_ARRAYS else out[k][:, bi]
        out.update(joint_names=tuple(joint_names), body_names=tuple(body_names), qpos=None)
        return out


def _quat_continuous(q: np.ndarray) -> np.ndarray:
    q = q.copy()
    for t in range(1, len(q)):
        flip = np.sum(q[t] * q[t - 1], axis=-1) < 0
        q[t][flip] *= -1
    return q


def _ang_vel_world(quat: np.ndarray, fps: float) -> np.ndarray:
    """omega = 2 * dq/dt * conj(q) (vector part), wxyz quaternions, world frame."""
    if len(quat) < 2:
        return np.zeros(quat.shape[:-1] + (3,))
    dq = np.gradient(quat, axis=0) * fps
    w0, v0 = quat[..., 0], -quat[..., 1:]  # conjugate
    w1, v1 = dq[..., 0], dq[..., 1:]
    vec = w1[..., None] * v0 + w0[..., None] * v1 + np.cross(v1, v0)
    return 2.0 * vec


def _rate(x: np.ndarray, fps: float) -> np.ndarray:
    return np.gradient(x, axis=0) * fps if len(x) > 1 else np.zeros_like(x)


def from_qpos(qpos: np.ndarray, fps: float, contacts: np.ndarray) -> RobotMotion:
    """Forward kinematics of every frame -> the tracking-format arrays (the one place they are computed)."""
    import mujoco

    from videomimic_offline.robot.model import g1_model, joint_qpos_indices

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
    joint_pos = qpos[:, joint_qpos_indices(m, g1.JOINT_NAMES_29)]
    return RobotMotion(
        fps=fps, joint_pos=joint_pos, joint_vel=_rate(joint_pos, fps), body_pos_w=pos, body_quat_w=quat,
        body_lin_vel_w=_rate(pos, fps), body_ang_vel_w=_ang_vel_world(quat, fps),
        body_names=tuple(m.body(i).name for i in range(1, m.nbody)), contacts=np.asarray(contacts, bool), qpos=qpos,
    )  # fmt: skip


def write_robot_motion(path: Path, motion: RobotMotion, relative_to: Path | None = None) -> None:
    """Write ``robot_motion.npz`` (the only writer of this schema; float32 arrays, as mjlab stores them).

    ``motion.scene`` is stored relative to ``relative_to`` (default: the file's folder) — pass the
    final folder when writing into a temporary one that is renamed into place.
    """
    path = Path(path)
    base = Path(relative_to) if relative_to is not None else path.parent
    scene = os.path.relpath(Path(motion.scene).resolve(), base.resolve()) if motion.scene is not None else ""
    f32 = np.float32
    artifacts.write_npz(
        path, schema=SCHEMA, version=VERSION, fps=np.array(motion.fps, dtype=f32),
        **{k: np.asarray(getattr(motion, k)).astype(f32) for k in ARRAYS},
        joint_names=np.array(motion.joint_names), body_names=np.array(motion.body_names),
        contacts=np.asarray(motion.contacts, bool), scene=np.array(scene),
    )  # fmt: skip


def read_robot_motion(path: Path) -> RobotMotion:
    """Read ``robot_motion.npz`` (the only reader of this schema): keys, shapes and finiteness checked,
    ``scene`` resolved to an absolute path (a folder means its ``heightfield.npz``)."""
    path = Path(path)
    if not path.is_file():
        raise InputError(f"motion file {path} not found: pass robot_motion.npz files written by the retarget tool")
    try:
        data = artifacts.read_npz(path, schema=SCHEMA, max_version=VERSION)
    except ArtifactError as exc:
        raise InputError(f"motion {path}: {exc}") from exc
    missing = [k for k in (*ARRAYS, "joint_names", "body_names", "fps") if k not in data]
    if missing:
        raise InputError(f"motion {path} lacks {missing}: re-run the retarget tool to write a complete robot motion")
    arrays = {k: np.asarray(data[k], dtype=np.float32) for k in ARRAYS}
    for k, v in arrays.items():
        if not np.all(np.isfinite(v)):
            raise InputError(f"motion {path}: '{k}' contains NaN/inf; fix or re-run the retargeting of this clip")
    T = arrays["joint_pos"].shape[0]
    scene_rel = str(data["scene"]) if "scene" in data else ""
    scene = (path.parent / scene_rel).resolve() if scene_rel else None
    if scene is not None and scene.is_dir():
        scene = scene / "heightfield.npz"
    contacts = np.asarray(data["contacts"], bool).reshape(T, 2) if "contacts" in data else np.zeros((T, 2), bool)
    return RobotMotion(
        fps=float(data["fps"]), **arrays, body_names=tuple(str(n) for n in data["body_names"]), contacts=contacts,
        joint_names=tuple(str(n) for n in data["joint_names"]), scene=scene,
    )  # fmt: skip
