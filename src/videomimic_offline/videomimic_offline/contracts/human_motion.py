"""Human motion ``motion.npz``: schema ``videomimic.human_motion`` v1 — the record, its one writer and one reader.

Written by real2sim's export (and by converters and tests); read by retargeting, the reconstruction
metrics and the viewers. Every format reader (BVH, AMASS, our npz) produces the same
:class:`HumanMotion`, and the checks here turn bad input into one clear :class:`InputError` each.

Conventions (every key, as stored):

- frame: world, z up, gravity along -z, the floor under the person's first steps at z = 0; metres.
- ``fps`` () frames per second; ``joint_names`` (J,) str = :data:`body.skeleton.HUMAN_JOINTS` (a
  file in another order is reordered by name on reading).
- ``joints_w`` (T,J,3) joint positions. NaN marks a joint not reconstructed in that frame;
  retargeting refuses such frames (:func:`validate`), metrics count them.
- ``root_pos_w`` (T,3) = the pelvis joint; ``root_quat_w`` (T,4) pelvis orientation, quaternion
  order **w, x, y, z**: x forward, y from the right to the left hip, z up (pelvis to spine,
  orthogonalised); sign kept continuous over time (:func:`pelvis_quat`). Both are derived from
  ``joints_w`` by the writer.
- ``contacts`` (T,2) bool, (left, right) ankle: the foot is planted. Optional: absent means "not
  labelled", and consumers detect them with :func:`detect_foot_contacts`.
- ``height_m`` () the person's height in metres, the metric ruler of the reconstruction; NaN =
  unknown (then the skeleton's own bone lengths are the only ruler).
- ``rest_joints`` (J,3) optional: the person's standing skeleton (feet on z = 0, facing +x) whose bone
  lengths ``joints_w`` was fitted to. Retargeting takes the person's leg length from it.
- ``joint_rot_w`` / ``body_pose`` (T,J,4) optional, wxyz: world / parent-local rotation of each
  joint relative to ``rest_joints`` (see ``real2sim/rotations.py``). ``betas`` optional, model specific.
- ``seat_contact`` (T,) bool optional: the pelvis rests on a seat in that frame (sitting).
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
FILE = "motion.npz"

#: Shortest clip the retargeter accepts (seconds): contact detection and velocities need a few frames.
MIN_DURATION_S = 0.2
MIN_FRAMES = 5

_OPTIONAL_PER_FRAME = ("joint_rot_w", "body_pose")


@dataclass
class HumanMotion:
    """A human joint trajectory and what real2sim knows about the person (see the module docstring)."""

    fps: float
    joints_w: np.ndarray  # (T, J, 3) in HUMAN_JOINTS order
    contacts: np.ndarray | None = None  # (T, 2) bool (left, right foot); None: not labelled
    height_m: float = float("nan")
    rest_joints: np.ndarray | None = None  # (J, 3) standing skeleton
    joint_rot_w: np.ndarray | None = None  # (T, J, 4) wxyz
    body_pose: np.ndarray | None = None  # (T, J, 4) wxyz
    betas: np.ndarray | None = None
    seat_contact: np.ndarray | None = None  # (T,) bool
    source: str = ""
    conventions: dict[str, str] = field(default_factory=dict)  # how units/axes were decided (readers)

    @property
    def num_frames(self) -> int:
        return int(self.joints_w.shape[0])

    @property
    def root_pos_w(self) -> np.ndarray:
        return self.joints_w[:, HUMAN_JOINTS.index("pelvis")]

    @property
    def root_quat_w(self) -> np.ndarray:
        return pelvis_quat(self.joints_w)


def from_named_joints(
    names: list[str] | tuple[str, ...], joints: np.ndarray, *, fps: float, source: str, **kwargs
) -> HumanMotion:
    """A HumanMotion from joints in any order (extra names allowed); wrong or missing names fail clearly."""
    names = [str(n) for n in names]
    joints = np.asarray(joints, dtype=np.float64)
    if joints.ndim != 3 or joints.shape[2] != 3 or joints.shape[1] != len(names):
        raise InputError(
            f"{source}: joints have shape {joints.shape} for {len(names)} joint names; "
            "expected (frames, joints, 3) matching joint_names"
        )
    known = set(HUMAN_JOINTS)
    if len([n for n in names if n in known]) < len(HUMAN_JOINTS) // 2:
        raise InputError(
            f"{source}: wrong skeleton: joint names {names[:6]}... are not the videomimic skeleton "
            f"({', '.join(HUMAN_JOINTS[:4])}, ...); convert it with a reader (BVH/AMASS) or rename the joints"
        )
    missing = [n for n in HUMAN_JOINTS if n not in names]
    if missing:
        raise InputError(f"{source}: missing joints {missing}; the retargeter needs all of {list(HUMAN_JOINTS)}")
    order = [names.index(n) for n in HUMAN_JOINTS]
    for key in ("rest_joints", *_OPTIONAL_PER_FRAME):
        if kwargs.get(key) is not None:
            value = np.asarray(kwargs[key], np.float64)
            kwargs[key] = value[order] if key == "rest_joints" else value[:, order]
    return HumanMotion(fps=float(fps), joints_w=joints[:, order], source=source, **kwargs)


def validate(motion: HumanMotion) -> HumanMotion:
    """Refuse what retargeting cannot use (NaN frames, too short, bad fps, mis-shaped labels); returns it."""
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
    for key, shape in (("contacts", (T, 2)), ("seat_contact", (T,))):
        value = getattr(motion, key)
        if value is not None:
            value = np.asarray(value)
            if value.shape != shape:
                raise InputError(f"{src}: {key} have shape {value.shape}, expected {shape}")
            setattr(motion, key, value.astype(bool))
    if motion.rest_joints is not None:
        rest = np.asarray(motion.rest_joints, np.float64)
        if rest.shape != (len(HUMAN_JOINTS), 3) or not np.isfinite(rest).all():
            raise InputError(f"{src}: rest_joints must be ({len(HUMAN_JOINTS)}, 3) finite metres, got {rest.shape}")
    if np.isfinite(motion.height_m) and not 0.5 < motion.height_m < 2.8:
        raise InputError(f"{src}: height_m is {motion.height_m} m; a person's height in metres is expected")
    return motion


def pelvis_quat(joints_w: np.ndarray) -> np.ndarray:
    """(T,4) wxyz pelvis orientation: y from the right to the left hip, z towards the spine
    (orthogonalised), x = y x z (forward); the sign is kept continuous over time."""
    from scipy.spatial.transform import Rotation

    idx = HUMAN_JOINTS.index
    y = joints_w[:, idx("left_hip")] - joints_w[:, idx("right_hip")]
    y = y / (np.linalg.norm(y, axis=1, keepdims=True) + 1e-9)
    z0 = joints_w[:, idx("spine")] - joints_w[:, idx("pelvis")]
    z = z0 - np.sum(z0 * y, axis=1, keepdims=True) * y
    z = z / (np.linalg.norm(z, axis=1, keepdims=True) + 1e-9)
    x = np.cross(y, z)
    q = Rotation.from_matrix(np.stack([x, y, z], axis=2)).as_quat()  # xyzw
    q = np.concatenate([q[:, 3:], q[:, :3]], axis=1)
    for t in range(1, len(q)):
        if q[t] @ q[t - 1] < 0:
            q[t] = -q[t]
    return q


def point_speed(points: np.ndarray, fps: float) -> np.ndarray:
    """Speed (m/s) of points (T,...,3) by central differences: (T,...), NaN in the first and last
    frame (no neighbour on one side). The one speed formula of contact and stance tests."""
    p = np.asarray(points, np.float64)
    speed = np.full(p.shape[:-1], np.nan)
    if len(p) > 2:
        speed[1:-1] = np.linalg.norm(p[2:] - p[:-2], axis=-1) * fps / 2
    return speed


def detect_foot_contacts(
    feet_w: np.ndarray, ground_z: np.ndarray, fps: float, *, max_speed: float, max_height: float, min_frames: int = 1
) -> np.ndarray:
    """(T,2) bool: which foot points ``feet_w`` (T,2,3) are planted — within ``max_height`` of
    ``ground_z`` (T,2) and slower than ``max_speed`` (m/s, central differences; the end frames
    take their neighbour's speed); runs shorter than ``min_frames`` frames are dropped.

    The one contact rule of the project: real2sim labels contacts with it, and consumers of a
    motion without labels (BVH, AMASS, LAFAN1 CSV) detect them with it.
    """
    p = np.asarray(feet_w, np.float64)
    speed = point_speed(p, fps)
    if len(p) > 2:
        speed[0], speed[-1] = speed[1], speed[-2]
    else:
        speed[:] = 0.0
    out = (speed < max_speed) & (p[..., 2] - np.asarray(ground_z) < max_height)
    if min_frames > 1:
        for k in range(out.shape[1]):
            padded = np.concatenate([[False], out[:, k], [False]]).astype(np.int8)
            edges = np.flatnonzero(np.diff(padded))
            for s, e in zip(edges[0::2], edges[1::2], strict=True):
                if e - s < min_frames:
                    out[s:e, k] = False
    return out


def write_human_motion(path: Path, motion: HumanMotion) -> None:
    """Write ``motion`` as ``motion.npz`` (the only writer of this schema)."""
    j = np.asarray(motion.joints_w, np.float64)
    if j.ndim != 3 or j.shape[1:] != (len(HUMAN_JOINTS), 3):
        raise InputError(f"joints_w has shape {j.shape}; expected (T, {len(HUMAN_JOINTS)}, 3) in HUMAN_JOINTS order")
    f32 = np.float32
    optional: dict[str, np.ndarray] = {}
    if motion.contacts is not None:
        optional["contacts"] = np.asarray(motion.contacts, bool).reshape(len(j), 2)
    if motion.seat_contact is not None:
        optional["seat_contact"] = np.asarray(motion.seat_contact, bool).reshape(len(j))
    for key in ("rest_joints", *_OPTIONAL_PER_FRAME, "betas"):
        value = getattr(motion, key)
        if value is not None:
            optional[key] = np.asarray(value).astype(f32)
    artifacts.write_npz(
        Path(path), schema=SCHEMA, version=VERSION,
        fps=np.array(float(motion.fps)), joint_names=np.array(HUMAN_JOINTS), joints_w=j.astype(f32),
        root_pos_w=motion.root_pos_w.astype(f32), root_quat_w=pelvis_quat(j).astype(f32),
        height_m=np.array(float(motion.height_m)), **optional,
    )  # fmt: skip


def read_human_motion(path: Path) -> HumanMotion:
    """Read ``motion.npz`` (the only reader of this schema); joints reordered to HUMAN_JOINTS.

    Structure is checked here; whether the motion suits retargeting is :func:`validate`'s job.
    """
    path = Path(path)
    data = artifacts.read_npz(path, schema=SCHEMA, max_version=VERSION)
    for key in ("fps", "joint_names", "joints_w"):
        if key not in data:
            raise InputError(f"{path}: key '{key}' is missing; re-run the stage that wrote it")
    optional = {k: data[k] for k in ("rest_joints", *_OPTIONAL_PER_FRAME, "betas") if k in data}
    return from_named_joints(
        list(data["joint_names"]), data["joints_w"], fps=float(data["fps"]), source=str(path),
        contacts=np.asarray(data["contacts"], bool) if "contacts" in data else None,
        seat_contact=np.asarray(data["seat_contact"], bool) if "seat_contact" in data else None,
        height_m=float(data.get("height_m", np.nan)), conventions={"units": "m (schema)", "up": "+z (schema)"},
        **optional,
    )  # fmt: skip
