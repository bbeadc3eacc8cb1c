"""Feasibility report: can a tracking policy train on this robot motion?

Measured on the *output* (50 fps), independently of the solver's own constraint rows: joint
limits and velocities from the joint arrays, terrain penetration of every collision geom's lowest
point against the heightfield, foot slide while a foot is labelled in contact, self-collision by
MuJoCo's own collision detection, and keypoint error against the scaled human (measured from
corresponding pelvis points, :func:`robot_pelvis_ref`).
"""

from __future__ import annotations

import mujoco
import numpy as np

from videomimic_offline.body.skeleton import HUMAN_JOINTS
from videomimic_offline.contracts.feasibility import Feasibility
from videomimic_offline.contracts.robot_motion import RobotMotion
from videomimic_offline.retarget.keypoints import TRACKED, robot_points_w
from videomimic_offline.retarget.solver import foot_sole_corners
from videomimic_offline.retarget.targets import pelvis_lift
from videomimic_offline.retarget.terrain import Terrain
from videomimic_offline.robot import g1
from videomimic_offline.robot.model import g1_model

#: Verdict thresholds (the targets of issue 4).
MAX_PENETRATION_MM = 10.0
MAX_SLIDE_MM_PER_FRAME = 2.0
MAX_KEYPOINT_ERR_MM = 150.0


def _collision_points(m) -> list[tuple[int, np.ndarray, float]]:
    """(body, local point, radius) for each collision geom's end points (capsules) or centre."""
    out = []
    for gid in range(m.ngeom):
        if not (m.geom_contype[gid] or m.geom_conaffinity[gid]):
            continue
        b = int(m.geom_bodyid[gid])
        R = np.zeros(9)
        mujoco.mju_quat2Mat(R, m.geom_quat[gid])
        if m.geom_type[gid] == mujoco.mjtGeom.mjGEOM_CAPSULE:
            ax = R.reshape(3, 3)[:, 2] * m.geom_size[gid, 1]
            out += [(b, m.geom_pos[gid] + s * ax, float(m.geom_size[gid, 0])) for s in (-1, 1)]
        else:
            out.append((b, m.geom_pos[gid].copy(), float(m.geom_rbound[gid])))
    return out


def _self_collision_frames(m, qpos: np.ndarray) -> int:
    d = mujoco.MjData(m)
    d.qpos[:] = 0.0
    d.qpos[3] = 1.0
    d.qpos[2] = g1.DEFAULT_PELVIS_HEIGHT
    mujoco.mj_kinematics(m, d)
    mujoco.mj_collision(m, d)
    design = {(c.geom1, c.geom2) for c in d.contact[: d.ncon]}
    n = 0
    for q in qpos:
        d.qpos[:] = q
        mujoco.mj_kinematics(m, d)
        mujoco.mj_collision(m, d)
        if any(c.dist < -1e-3 and (c.geom1, c.geom2) not in design for c in d.contact[: d.ncon]):
            n += 1
    return n


def keypoint_error_mm(
    robot_kp: np.ndarray, human: np.ndarray, scale: float, robot_ref: np.ndarray | None = None
) -> float:
    """Mean pelvis-relative distance between robot keypoints and the human skeleton scaled to the robot.

    Both sides measure from their pelvis: the human's pelvis joint and ``robot_ref`` (T, 3), the
    robot point that corresponds to it (:func:`robot_pelvis_ref`; default: the robot's pelvis
    keypoint, right only for a robot-shaped skeleton). Every solver is scored by this function.
    """
    sel = [HUMAN_JOINTS.index(n) for n in TRACKED if n != "pelvis"]
    p = HUMAN_JOINTS.index("pelvis")
    ref = robot_kp[:, p] if robot_ref is None else robot_ref
    r = robot_kp[:, sel] - ref[:, None]
    h = (human[:, sel] - human[:, p : p + 1]) * scale
    return float(1000 * np.linalg.norm(r - h, axis=-1).mean())


def robot_pelvis_ref(qpos: np.ndarray, human: np.ndarray, scale: float) -> np.ndarray:
    """(T, 3) the robot point corresponding to the scaled human's pelvis joint, for ``qpos`` (T, nq).

    The G1's pelvis origin sits higher above its hip points than a human pelvis joint above the
    hips (:func:`targets.pelvis_lift`); measured from the origin, a robot copying the person's
    legs with its feet on the floor would be charged that gap (60-120 mm) on every leg point,
    and a solver that sinks its feet or crouches would be rewarded for it. The point lies that
    gap below the origin along the pelvis's up axis (a point fixed in the pelvis).
    """
    w, x, y, z = (qpos[:, 3:7] / np.linalg.norm(qpos[:, 3:7], axis=1, keepdims=True)).T
    up = np.stack([2 * (x * z + w * y), 2 * (y * z - w * x), 1 - 2 * (x * x + y * y)], axis=1)
    return qpos[:, :3] - pelvis_lift(human, scale) * up


def joint_accel_rms(joint_pos: np.ndarray, fps: float) -> float:
    """RMS joint acceleration (rad/s^2, second differences): what a tracking policy must produce."""
    if len(joint_pos) < 3:
        return 0.0
    return float(np.sqrt(np.mean((np.diff(joint_pos, 2, axis=0) * fps * fps) ** 2)))


def assess(motion: RobotMotion, terrain: Terrain, human: np.ndarray | None = None, scale: float = 1.0) -> Feasibility:
    """All figures and the verdict for one retargeted clip (``human``: the 50 fps targets' joints)."""
    m = g1_model("29dof", actuators=False)
    names = g1.JOINT_NAMES_29
    lo, hi = g1.limits_array(names)
    q = motion.joint_pos
    margin = np.minimum(q - lo, hi - q)
    viol = int((margin < -1e-6).sum())
    j_min = int(np.argmin(margin.min(axis=0)))
    vmax = g1.as_array(g1.VELOCITY_LIMITS, names)
    # velocities between consecutive frames (what a tracker must follow), not the central difference
    qd = np.abs(np.diff(q, axis=0)) * motion.fps if len(q) > 1 else np.zeros((1, len(names)))
    ratio = qd.max(axis=0) / vmax
    j_vel = int(np.argmax(ratio))

    # terrain penetration: every collision point's lowest extent vs the cell it is over
    d = mujoco.MjData(m)
    pts = _collision_points(m)
    sole = foot_sole_corners(m)
    feet = [m.body(n).id for n in g1.FOOT_LINKS]
    pen = 0.0
    slide = []
    prev_xy = None
    for t, qp in enumerate(motion.qpos):
        d.qpos[:] = qp
        mujoco.mj_kinematics(m, d)
        world = [d.xpos[b] + d.xmat[b].reshape(3, 3) @ p for b, p, _ in pts]
        world += [d.xpos[fb] + d.xmat[fb].reshape(3, 3) @ c for fb in feet for c in sole]
        radii = np.array([r for _, _, r in pts] + [0.0] * (2 * len(sole)))
        world = np.array(world)
        h = terrain.height(world[:, :2])
        depth = h - (world[:, 2] - radii)
        depth = depth[np.isfinite(depth)]
        if depth.size:
            pen = max(pen, float(depth.max()))
        xy = np.array([d.xpos[fb][:2] for fb in feet])
        if prev_xy is not None:
            both = motion.contacts[t] & motion.contacts[t - 1]
            slide += list(np.linalg.norm(xy - prev_xy, axis=1)[both])
        prev_xy = xy
    slide_arr = np.array(slide) * 1000 if slide else np.zeros(1)
    kp_err = float("nan")
    if human is not None:
        h = human[: len(motion.qpos)]
        kp_err = keypoint_error_mm(robot_points_w(motion.qpos, m), h, scale, robot_pelvis_ref(motion.qpos, h, scale))
    rep = Feasibility(
        frames=len(q),
        fps=motion.fps,
        limit_violations=viol,
        min_limit_margin_rad=float(margin.min()),
        min_limit_margin_joint=names[j_min],
        velocity_violations=int((qd > vmax + 1e-6).sum()),
        peak_velocity_ratio=float(ratio.max()),
        peak_velocity_joint=names[j_vel],
        peak_joint_vel={n: float(v) for n, v in zip(names, qd.max(axis=0), strict=True)},
        max_penetration_mm=1000 * max(pen, 0.0),
        foot_slide_mm_per_frame=float(slide_arr.mean()),
        foot_slide_max_mm=float(slide_arr.max()),
        self_collisions=_self_collision_frames(m, motion.qpos),
        keypoint_err_mm=kp_err,
        joint_accel_rms=joint_accel_rms(q, motion.fps),
    )
    reasons = []
    if rep.limit_violations:
        reasons.append(f"{rep.limit_violations} joint-limit violations")
    if rep.velocity_violations:
        reasons.append(f"{rep.velocity_violations} joint-velocity violations (peak {rep.peak_velocity_joint})")
    if rep.max_penetration_mm > MAX_PENETRATION_MM:
        reasons.append(f"terrain penetration {rep.max_penetration_mm:.1f} mm > {MAX_PENETRATION_MM} mm")
    if rep.foot_slide_mm_per_frame > MAX_SLIDE_MM_PER_FRAME:
        reasons.append(f"foot slide {rep.foot_slide_mm_per_frame:.2f} mm/frame > {MAX_SLIDE_MM_PER_FRAME}")
    if rep.self_collisions:
        reasons.append(f"self-collision in {rep.self_collisions} frames")
    if np.isfinite(kp_err) and kp_err > MAX_KEYPOINT_ERR_MM:
        reasons.append(f"keypoint error {kp_err:.0f} mm: the robot does not follow the person")
    rep.reasons = reasons
    rep.usable = not reasons
    return rep
