"""Robot motions for training: read the robot-motion contract, and make offline MoCap clips.

Training consumes robot motions (:mod:`contracts.robot_motion`, read by its one reader) and
LAFAN1 G1 CSVs (:func:`retarget.contacts.lafan_motion`). Every array is remapped here to the mjlab
G1 entity's joint and body order, so a file written with another (named) order still trains
correctly, and a file that lacks a joint or body is refused.

No MoCap dataset installs offline, so :func:`generate_mocap` makes clips by forward kinematics
of the G1 model (stand, squat, step in place, slow walk): kinematically clean, physically
plausible enough to pre-train balance and stepping on varied terrain.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from videomimic_offline.contracts.robot_motion import FPS, RobotMotion, from_qpos, read_robot_motion, write_robot_motion
from videomimic_offline.errors import InputError
from videomimic_offline.robot import g1
from videomimic_offline.training.config import MOCAP_KINDS


@dataclass
class Clip(RobotMotion):
    """A robot motion picked for training, in entity order (joints ``g1.JOINT_NAMES_29``, bodies as asked),
    named for logs and its terrain column; ``scene`` is its heightfield (None: flat/procedural ground)."""

    name: str = ""
    path: Path | None = None


def load_clip(path: Path, body_names: tuple[str, ...], need_scene: bool = False) -> Clip:
    """Read one robot motion (or a LAFAN1 G1 CSV) and remap it to ``g1.JOINT_NAMES_29`` and ``body_names`` order.

    ``need_scene`` (teacher stage): the clip must name its terrain and the file must exist.
    """
    path = Path(path)
    if path.suffix.lower() == ".csv" and path.is_file():
        from videomimic_offline.motion_io.lafan_csv import DEFAULT_FPS
        from videomimic_offline.retarget.contacts import lafan_motion

        motion = lafan_motion(path, DEFAULT_FPS)
    else:
        motion = read_robot_motion(path)
    if abs(motion.fps - FPS) > 1e-6:
        raise InputError(
            f"motion {path} is at {motion.fps} fps; training needs {FPS:g} fps (the policy rate): resample it"
        )
    if motion.length < 10:
        raise InputError(f"motion {path} has only {motion.length} frames; a training clip needs at least 10 (0.2 s)")
    scene = motion.scene
    if need_scene:
        if scene is None:
            raise InputError(
                f"motion {path} names no terrain ('scene' is empty): the teacher trains each clip on its reconstructed "
                "heightfield; re-run real2sim/retarget for it, or train it in train_mpt instead"
            )
        if not scene.is_file():
            raise InputError(f"motion {path}: its terrain {scene} is missing; re-run real2sim for this clip")
    picked = motion.select(g1.JOINT_NAMES_29, tuple(body_names), f"motion {path}")
    picked.update({k: np.asarray(picked[k], np.float32) for k in ("joint_pos", "joint_vel", "body_pos_w", "body_quat_w",
                                                                  "body_lin_vel_w", "body_ang_vel_w")})  # fmt: skip
    name = path.parent.name if path.name == "robot_motion.npz" else path.stem
    return Clip(**picked, name=name, path=path)


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


def forward_kinematics_motion(joint_pos: np.ndarray, root_xy: np.ndarray, root_yaw: np.ndarray) -> RobotMotion:
    """The robot motion of joint trajectories, with the pelvis height set so the lower foot touches z = 0."""
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
    qpos = np.zeros((T, model.nq))
    for t in range(T):
        data.qpos[:] = 0
        data.qpos[0:2] = root_xy[t]
        data.qpos[3] = np.cos(root_yaw[t] / 2)
        data.qpos[6] = np.sin(root_yaw[t] / 2)
        data.qpos[qadr] = joint_pos[t]
        mujoco.mj_kinematics(model, data)
        data.qpos[2] = ankle_h - min(data.xpos[i][2] for i in foot_ids)
        qpos[t] = data.qpos
    motion = from_qpos(qpos, FPS, np.zeros((T, 2), bool))
    fi = [motion.body_names.index(n) for n in g1.FOOT_LINKS]
    motion.contacts = motion.body_pos_w[:, fi, 2] < ankle_h + 0.02  # generated: a foot is down or lifted
    return motion


def generate_mocap(out_dir: Path, kinds: tuple[str, ...] = MOCAP_KINDS, seconds: float = 4.0) -> list[Path]:
    """Write generated MoCap clips ``<out_dir>/<kind>.npz`` (no scene: flat or procedural ground)."""
    out_dir = Path(out_dir)
    paths = []
    T = int(round(seconds * FPS))
    for kind in kinds:
        q, xy, yaw = _pose_program(kind, T)
        path = out_dir / f"{kind}.npz"
        write_robot_motion(path, forward_kinematics_motion(q, xy, yaw))
        paths.append(path)
    return paths
