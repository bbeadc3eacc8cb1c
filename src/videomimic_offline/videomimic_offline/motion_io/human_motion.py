"""The in-memory human motion every reader produces and the retargeter consumes.

Joints are in :data:`body.skeleton.HUMAN_JOINTS` order, world frame z-up, metres. The checks here
are the single place where bad input (wrong skeleton, missing joints, NaN frames, too-short clips)
is turned into one clear :class:`InputError` each, whatever file format it came from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from videomimic_offline import artifacts
from videomimic_offline.body.skeleton import HUMAN_JOINTS
from videomimic_offline.errors import InputError

SCHEMA = "videomimic.human_motion"
VERSION = 1

#: Shortest clip the retargeter accepts (seconds): contact detection and velocities need a few frames.
MIN_DURATION_S = 0.2
MIN_FRAMES = 5


@dataclass
class HumanMotion:
    """A human joint trajectory plus per-foot contact labels (None: detect them)."""

    fps: float
    joints_w: np.ndarray  # (T, J, 3) in HUMAN_JOINTS order
    contacts: np.ndarray | None = None  # (T, 2) bool (left, right foot)
    height_m: float = float("nan")
    source: str = ""
    conventions: dict[str, str] = field(default_factory=dict)  # how units/axes were decided
    seat_contact: np.ndarray | None = None  # (T,) bool: the pelvis rests on a seat (motion.npz, optional)

    @property
    def num_frames(self) -> int:
        return int(self.joints_w.shape[0])


def from_named_joints(
    names: list[str] | tuple[str, ...], joints: np.ndarray, *, fps: float, source: str, **kwargs
) -> HumanMotion:
    """Build a HumanMotion from joints with arbitrary order/extra names; wrong or missing names fail clearly."""
    names = [str(n) for n in names]
    joints = np.asarray(joints, dtype=np.float64)
    if joints.ndim != 3 or joints.shape[2] != 3 or joints.shape[1] != len(names):
        raise InputError(
            f"{source}: joints have shape {joints.shape} for {len(names)} joint names; "
            "expected (frames, joints, 3) matching joint_names"
        )
    known = set(HUMAN_JOINTS)
    overlap = [n for n in names if n in known]
    if len(overlap) < len(HUMAN_JOINTS) // 2:
        raise InputError(
            f"{source}: wrong skeleton: joint names {names[:6]}... are not the videomimic skeleton "
            f"({', '.join(HUMAN_JOINTS[:4])}, ...); convert it with a reader (BVH/AMASS) or rename the joints"
        )
    missing = [n for n in HUMAN_JOINTS if n not in names]
    if missing:
        raise InputError(f"{source}: missing joints {missing}; the retargeter needs all of {list(HUMAN_JOINTS)}")
    order = [names.index(n) for n in HUMAN_JOINTS]
    return validate(HumanMotion(fps=float(fps), joints_w=joints[:, order], source=source, **kwargs))


def validate(motion: HumanMotion) -> HumanMotion:
    """Reject NaN frames, too-short clips and bad fps with one message each; returns the motion."""
    src = motion.source or "motion"
    if not np.isfinite(motion.fps) or motion.fps <= 0:
        raise InputError(f"{src}: fps is {motion.fps}; give the clip's frame rate")
    T = motion.num_frames
    if T < MIN_FRAMES or T / motion.fps < MIN_DURATION_S:
        raise InputError(
            f"{src}: clip too short ({T} frames, {T / motion.fps:.2f} s); need at least "
            f"{MIN_FRAMES} frames and {MIN_DURATION_S} s"
        )
    bad = np.where(~np.isfinite(motion.joints_w).all(axis=(1, 2)))[0]
    if bad.size:
        raise InputError(
            f"{src}: {bad.size} frame(s) contain NaN/inf joints (first {bad[:5].tolist()}); "
            "trim or fill those frames before retargeting"
        )
    if motion.contacts is not None:
        c = np.asarray(motion.contacts)
        if c.shape != (T, 2):
            raise InputError(f"{src}: contacts have shape {c.shape}, expected ({T}, 2)")
        motion.contacts = c.astype(bool)
    if motion.seat_contact is not None:
        sc = np.asarray(motion.seat_contact)
        if sc.shape != (T,):
            raise InputError(f"{src}: seat_contact has shape {sc.shape}, expected ({T},)")
        motion.seat_contact = sc.astype(bool)
    return motion


def read_motion_npz(path: Path) -> HumanMotion:
    """Read our ``motion.npz`` (schema videomimic.human_motion v1)."""
    data = artifacts.read_npz(Path(path), schema=SCHEMA, max_version=VERSION)
    for key in ("fps", "joint_names", "joints_w"):
        if key not in data:
            raise InputError(f"{path}: key '{key}' is missing; re-run the stage that wrote it")
    contacts = data.get("contacts")
    seat = data.get("seat_contact")
    return from_named_joints(
        list(data["joint_names"]),
        data["joints_w"],
        fps=float(data["fps"]),
        source=str(path),
        contacts=None if contacts is None else np.asarray(contacts, bool),
        seat_contact=None if seat is None else np.asarray(seat, bool),
        height_m=float(data.get("height_m", np.nan)),
        conventions={"units": "m (schema)", "up": "z (schema)"},
    )


def write_motion_npz(path: Path, motion: HumanMotion) -> None:
    """Write ``motion`` as schema videomimic.human_motion v1 (used by converters and tests)."""
    j = motion.joints_w
    pelvis = j[:, HUMAN_JOINTS.index("pelvis")]
    contacts = motion.contacts if motion.contacts is not None else np.zeros((len(j), 2), bool)
    height = motion.height_m if np.isfinite(motion.height_m) else estimate_height(j)
    artifacts.write_npz(
        Path(path),
        schema=SCHEMA,
        version=VERSION,
        fps=np.float64(motion.fps),
        joint_names=np.array(HUMAN_JOINTS),
        joints_w=j.astype(np.float64),
        root_pos_w=pelvis.astype(np.float64),
        root_quat_w=pelvis_quat(j),
        contacts=contacts.astype(bool),
        height_m=np.float64(height),
        **({} if motion.seat_contact is None else {"seat_contact": np.asarray(motion.seat_contact, bool)}),
    )


def estimate_height(joints_w: np.ndarray) -> float:
    """Stature estimate: head-to-ankle chain length + 0.12 m (head top and heel are not joints)."""
    idx = HUMAN_JOINTS.index
    j = joints_w

    def seg(a: str, b: str) -> float:
        return float(np.median(np.linalg.norm(j[:, idx(a)] - j[:, idx(b)], axis=-1)))

    leg = 0.5 * (
        seg("left_hip", "left_knee") + seg("left_knee", "left_ankle") + seg("right_hip", "right_knee")
        + seg("right_knee", "right_ankle")
    )  # fmt: skip
    trunk = seg("pelvis", "spine") + seg("spine", "neck") + seg("neck", "head")
    return leg + trunk + 0.12


def pelvis_quat(joints_w: np.ndarray) -> np.ndarray:
    """Pelvis orientation (wxyz) from hips (y axis: right->left hip) and spine (z axis), x forward."""
    from scipy.spatial.transform import Rotation

    idx = HUMAN_JOINTS.index
    y = joints_w[:, idx("left_hip")] - joints_w[:, idx("right_hip")]
    up = joints_w[:, idx("spine")] - joints_w[:, idx("pelvis")]
    y = y / np.maximum(np.linalg.norm(y, axis=-1, keepdims=True), 1e-9)
    x = np.cross(y, up)
    x = x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-9)
    z = np.cross(x, y)
    R = np.stack([x, y, z], axis=-1)
    q = Rotation.from_matrix(R).as_quat()  # xyzw
    return np.concatenate([q[:, 3:], q[:, :3]], axis=1)
