"""Robot motions for training: read the robot-motion contract, and make offline MoCap clips.

Training consumes ``robot_motion.npz`` files (schema ``videomimic.robot_motion``, see DEVELOPING.md):
mjlab's tracking arrays plus ``joint_names``, ``body_names``, ``contacts`` and ``scene``. Every
array is remapped here to the mjlab G1 entity's joint and body order, so a file written with
another (named) order still trains correctly, and a file that lacks a joint or body is refused.

No MoCap dataset installs offline, so :func:`generate_mocap` makes clips by forward kinematics
of the G1 model (stand, squat, step in place, slow walk): kinematically clean, physically
plausible enough to pre-train balance and stepping on varied terrain.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from videomimic_offline.artifacts import read_npz, write_npz
from videomimic_offline.errors import ArtifactError, InputError
from videomimic_offline.robot import g1

SCHEMA = "videomimic.robot_motion"
VERSION = 1
FPS = 50.0
ARRAYS = ("joint_pos", "joint_vel", "body_pos_w", "body_quat_w", "body_lin_vel_w", "body_ang_vel_w")


@dataclass
class Clip:
    """One motion in entity order: joints (T,29) in ``g1.JOINT_NAMES_29``, bodies (T,B,.) in ``body_names``."""

    name: str
    path: Path
    joint_pos: np.ndarray
    joint_vel: np.ndarray
    body_pos_w: np.ndarray
    body_quat_w: np.ndarray
    body_lin_vel_w: np.ndarray
    body_ang_vel_w: np.ndarray
    body_names: tuple[str, ...]
    contacts: np.ndarray
    scene: Path | None  # absolute path of the clip's heightfield, None for flat/procedural ground

    @property
    def length(self) -> int:
        return int(self.joint_pos.shape[0])


def load_clip(path: Path, body_names: tuple[str, ...], need_scene: bool = False) -> Clip:
    """Read one robot motion and remap it to ``g1.JOINT_NAMES_29`` and ``body_names`` order.

    ``need_scene`` (teacher stage): the clip must name its terrain and the file must exist.
    """
    path = Path(path)
    if not path.is_file():
        raise InputError(f"motion file {path} not found: pass robot_motion.npz files written by the retarget tool")
    if path.suffix.lower() == ".csv":
        data = _lafan_csv_motion(path)
    else:
        try:
            data = read_npz(path, schema=SCHEMA, max_version=VERSION)
        except ArtifactError as exc:
            raise InputError(f"motion {path}: {exc}") from exc
    missing = [k for k in (*ARRAYS, "joint_names", "body_names", "fps") if k not in data]
    if missing:
        raise InputError(f"motion {path} lacks {missing}: re-run the retarget tool to write a complete robot motion")
    fps = float(data["fps"])
    if abs(fps - FPS) > 1e-6:
        raise InputError(f"motion {path} is at {fps} fps; training needs {FPS:g} fps (the policy rate): resample it")
    jnames = [str(n) for n in data["joint_names"]]
    bnames = [str(n) for n in data["body_names"]]
    lacking = [n for n in g1.JOINT_NAMES_29 if n not in jnames] + [n for n in body_names if n not in bnames]
    if lacking:
        raise InputError(f"motion {path} has no data for {lacking}: it was not written for the Unitree G1")
    ji = [jnames.index(n) for n in g1.JOINT_NAMES_29]
    bi = [bnames.index(n) for n in body_names]
    arrays = {k: np.asarray(data[k], dtype=np.float32) for k in ARRAYS}
    for k, v in arrays.items():
        if not np.all(np.isfinite(v)):
            raise InputError(f"motion {path}: '{k}' contains NaN/inf; fix or re-run the retargeting of this clip")
    T = arrays["joint_pos"].shape[0]
    if T < 10:
        raise InputError(f"motion {path} has only {T} frames; a training clip needs at least 10 (0.2 s)")
    scene_rel = str(data.get("scene", "")) if "scene" in data else ""
    scene = (path.parent / scene_rel).resolve() if scene_rel else None
    if scene is not None and scene.is_dir():
        scene = scene / "heightfield.npz"
    if need_scene:
        if scene is None:
            raise InputError(
                f"motion {path} names no terrain ('scene' is empty): the teacher trains each clip on its reconstructed "
                "heightfield; re-run real2sim/retarget for it, or train it in train_mpt instead"
            )
        if not scene.is_file():
            raise InputError(f"motion {path}: its terrain {scene} is missing; re-run real2sim for this clip")
    contacts = np.asarray(data["contacts"], dtype=bool) if "contacts" in data else np.zeros((T, 2), dtype=bool)
    return Clip(
        name=path.parent.name if path.name == "robot_motion.npz" else path.stem,
        path=path,
        joint_pos=arrays["joint_pos"][:, ji],
        joint_vel=arrays["joint_vel"][:, ji],
        body_pos_w=arrays["body_pos_w"][:, bi],
        body_quat_w=arrays["body_quat_w"][:, bi],
        body_lin_vel_w=arrays["body_lin_vel_w"][:, bi],
        body_ang_vel_w=arrays["body_ang_vel_w"][:, bi],
        body_names=tuple(body_names),
        contacts=contacts.reshape(T, 2),
        scene=scene,
    )


def _lafan_csv_motion(path: Path) -> dict[str, np.ndarray]:
    """A LAFAN1 G1 CSV (Unitree's retargeted MoCap, 30 fps) as contract arrays at 50 fps, flat ground."""
    from videomimic_offline.motion_io.lafan_csv import DEFAULT_FPS, read_lafan_csv, resample_qpos
    from videomimic_offline.retarget.output import from_qpos

    qpos = resample_qpos(read_lafan_csv(path), DEFAULT_FPS, FPS)
    probe = from_qpos(qpos, FPS, np.zeros((len(qpos), 2), bool))
    fi = [probe.body_names.index(n) for n in g1.FOOT_LINKS]
    feet_z = probe.body_pos_w[:, fi, 2]
    m = probe
    return {
        "fps": np.array(FPS),
        "joint_pos": m.joint_pos,
        "joint_vel": m.joint_vel,
        "body_pos_w": m.body_pos_w,
        "body_quat_w": m.body_quat_w,
        "body_lin_vel_w": m.body_lin_vel_w,
        "body_ang_vel_w": m.body_ang_vel_w,
        "joint_names": np.array(g1.JOINT_NAMES_29),
        "body_names": np.array(m.body_names),
        "contacts": feet_z < feet_z.min() + 0.03,
        "scene": np.array(""),
    }


def find_motions(paths: list[Path]) -> list[Path]:
    """Expand folders into the motion files under them (robot_motion npz, LAFAN1 G1 csv; sorted)."""
    out: list[Path] = []
    for p in map(Path, paths):
        if p.is_dir():
            found = sorted([*p.rglob("*.npz"), *p.rglob("*.csv")])
            found = [f for f in found if f.name != "heightfield.npz"]
            if not found:
                raise InputError(f"no motion files (*.npz, *.csv) under {p}: pass robot_motion.npz files or folders")
            out.extend(found)
        else:
            out.append(p)
    if not out:
        raise InputError("no motion files given: pass --motions <robot_motion.npz or folder>")
    return out


# ---------------------------------------------------------------------------------------------
# Offline MoCap: clips made by G1 forward kinematics.


def _quat_to_mat(q: np.ndarray) -> np.ndarray:
    w, x, y, z = q
    return np.array(
        [
            [1 - 2 * (y * y + z * z), 2 * (x * y - w * z), 2 * (x * z + w * y)],
            [2 * (x * y + w * z), 1 - 2 * (x * x + z * z), 2 * (y * z - w * x)],
            [2 * (x * z - w * y), 2 * (y * z + w * x), 1 - 2 * (x * x + y * y)],
        ]
    )


def _ang_vel(quats: np.ndarray, dt: float) -> np.ndarray:
    """World angular velocity from consecutive body-to-world quaternions (T,B,4) by finite differences."""
    T, B, _ = quats.shape
    out = np.zeros((T, B, 3))
    for t in range(T - 1):
        for b in range(B):
            r0, r1 = _quat_to_mat(quats[t, b]), _quat_to_mat(quats[t + 1, b])
            d = r1 @ r0.T
            angle = np.arccos(np.clip((np.trace(d) - 1) / 2, -1, 1))
            if angle < 1e-9:
                continue
            axis = np.array([d[2, 1] - d[1, 2], d[0, 2] - d[2, 0], d[1, 0] - d[0, 1]]) / (2 * np.sin(angle))
            out[t, b] = axis * angle / dt
    out[-1] = out[-2] if T > 1 else 0
    return out


def _pose_program(kind: str, T: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(joint_pos (T,29), root xy (T,2), root yaw (T,)) for a generated clip kind."""
    t = np.arange(T) / FPS
    q = np.tile(g1.as_array(g1.DEFAULT_POSE, g1.JOINT_NAMES_29), (T, 1))
    j = {n: i for i, n in enumerate(g1.JOINT_NAMES_29)}
    xy = np.zeros((T, 2))
    yaw = np.zeros(T)
    # Arms in a relaxed pose (elbows bent) so hands stay clear of the hips.
    for side, s in (("left", 1.0), ("right", -1.0)):
        q[:, j[f"{side}_shoulder_roll_joint"]] = 0.15 * s
        q[:, j[f"{side}_elbow_joint"]] = 0.9
    if kind == "stand":
        q[:, j["waist_yaw_joint"]] = 0.15 * np.sin(2 * np.pi * 0.3 * t)
    elif kind == "squat":
        depth = 0.5 * (1 - np.cos(2 * np.pi * 0.4 * t))  # 0..1
        for side in ("left", "right"):
            q[:, j[f"{side}_hip_pitch_joint"]] += -0.5 * depth
            q[:, j[f"{side}_knee_joint"]] += 1.0 * depth
            q[:, j[f"{side}_ankle_pitch_joint"]] += -0.5 * depth
    elif kind in ("step", "walk"):
        phase = 2 * np.pi * 1.0 * t  # 1 Hz gait
        speed = 0.3 if kind == "walk" else 0.0
        for side, off in (("left", 0.0), ("right", np.pi)):
            lift = np.clip(np.sin(phase + off), 0, None)
            swing = np.sin(phase + off) if kind == "walk" else 0.0
            q[:, j[f"{side}_hip_pitch_joint"]] += -0.35 * lift - 0.2 * swing
            q[:, j[f"{side}_knee_joint"]] += 0.7 * lift
            q[:, j[f"{side}_ankle_pitch_joint"]] += -0.35 * lift + 0.2 * swing
            q[:, j[f"{side}_shoulder_pitch_joint"]] = 0.25 * np.sin(phase + off + np.pi)
        xy[:, 0] = speed * t
    else:
        raise InputError(f"unknown generated motion kind {kind!r}; use stand, squat, step or walk")
    return q, xy, yaw


MOCAP_KINDS = ("stand", "squat", "step", "walk")


def forward_kinematics_motion(
    joint_pos: np.ndarray, root_xy: np.ndarray, root_yaw: np.ndarray
) -> dict[str, np.ndarray]:
    """Contract arrays for joint trajectories, with the pelvis height set so the lower foot touches z = 0."""
    import mujoco

    from videomimic_offline.robot.model import g1_model, joint_qpos_indices

    model = g1_model("29dof", actuators=False)
    data = mujoco.MjData(model)
    qadr = joint_qpos_indices(model, g1.JOINT_NAMES_29)
    foot_ids = [mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_BODY, n) for n in g1.FOOT_LINKS]
    # Ankle-roll body height above the sole when standing at the default pose.
    data.qpos[:] = 0
    data.qpos[3] = 1
    data.qpos[2] = g1.DEFAULT_PELVIS_HEIGHT
    data.qpos[qadr] = g1.as_array(g1.DEFAULT_POSE, g1.JOINT_NAMES_29)
    mujoco.mj_kinematics(model, data)
    ankle_h = float(min(data.xpos[i][2] for i in foot_ids))
    T = joint_pos.shape[0]
    B = model.nbody - 1
    pos = np.zeros((T, B, 3))
    quat = np.zeros((T, B, 4))
    for t in range(T):
        data.qpos[:] = 0
        data.qpos[0:2] = root_xy[t]
        data.qpos[3] = np.cos(root_yaw[t] / 2)
        data.qpos[6] = np.sin(root_yaw[t] / 2)
        data.qpos[qadr] = joint_pos[t]
        mujoco.mj_kinematics(model, data)
        low = min(data.xpos[i][2] for i in foot_ids)
        data.qpos[2] = ankle_h - low
        mujoco.mj_kinematics(model, data)
        pos[t] = data.xpos[1:]
        quat[t] = data.xquat[1:]
    dt = 1.0 / FPS
    lin = np.gradient(pos, dt, axis=0) if T > 1 else np.zeros_like(pos)
    names = tuple(mujoco.mj_id2name(model, mujoco.mjtObj.mjOBJ_BODY, i) for i in range(1, model.nbody))
    fi = [names.index(n) for n in g1.FOOT_LINKS]
    contacts = pos[:, fi, 2] < ankle_h + 0.02
    return {
        "fps": np.array(FPS),
        "joint_pos": joint_pos.astype(np.float32),
        "joint_vel": (np.gradient(joint_pos, dt, axis=0) if T > 1 else np.zeros_like(joint_pos)).astype(np.float32),
        "body_pos_w": pos.astype(np.float32),
        "body_quat_w": quat.astype(np.float32),
        "body_lin_vel_w": lin.astype(np.float32),
        "body_ang_vel_w": _ang_vel(quat, dt).astype(np.float32),
        "joint_names": np.array(g1.JOINT_NAMES_29),
        "body_names": np.array(names),
        "contacts": contacts,
    }


def write_motion(path: Path, arrays: dict[str, np.ndarray], scene: str = "") -> Path:
    """Write a robot motion in the contract format (atomically)."""
    write_npz(Path(path), schema=SCHEMA, version=VERSION, scene=np.array(scene), **arrays)
    return Path(path)


def generate_mocap(out_dir: Path, kinds: tuple[str, ...] = MOCAP_KINDS, seconds: float = 4.0) -> list[Path]:
    """Write generated MoCap clips ``<out_dir>/<kind>.npz`` (no scene: flat or procedural ground)."""
    out_dir = Path(out_dir)
    paths = []
    T = int(round(seconds * FPS))
    for kind in kinds:
        q, xy, yaw = _pose_program(kind, T)
        paths.append(write_motion(out_dir / f"{kind}.npz", forward_kinematics_motion(q, xy, yaw)))
    return paths
