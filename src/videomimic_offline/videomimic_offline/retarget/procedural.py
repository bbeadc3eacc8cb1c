"""Generated motions with known answers, for tests and the benchmark (no licensed data needed).

* :func:`fk_clip` - a G1 joint trajectory, turned into human keypoints by forward kinematics:
  retargeting it back must recover the joints (the round-trip check).
* :func:`walking_clip` - a procedural human (given stature) walking over a terrain, with its
  ground-truth foot contacts: a planted foot must stay planted, on the step it was put on.
"""

from __future__ import annotations

import numpy as np

from videomimic_offline.body.skeleton import HUMAN_JOINTS
from videomimic_offline.contracts.human_motion import HumanMotion
from videomimic_offline.retarget.keypoints import robot_keypoints, robot_points_w
from videomimic_offline.retarget.terrain import Terrain
from videomimic_offline.robot import g1
from videomimic_offline.robot.model import g1_model, joint_qpos_indices


def fk_joint_trajectory(T: int, fps: float = 50.0, seed: int = 0, amplitude: float = 0.35) -> np.ndarray:
    """(T, nq) smooth G1 motion: sinusoids about the default pose within 70 % of each limit, root drifting.

    Wrists stay at 0 (their roll is not observable from keypoints); the root is lifted 0.15 m so
    the feet never touch the floor and only the keypoint terms decide the answer.
    """
    rng = np.random.default_rng(seed)
    m = g1_model("29dof", actuators=False)
    names = g1.JOINT_NAMES_29
    qadr = joint_qpos_indices(m, names)
    lo, hi = g1.limits_array(names)
    q0 = g1.as_array(g1.DEFAULT_POSE, names)
    t = np.arange(T) / fps
    Q = np.zeros((T, m.nq))
    freq = rng.uniform(0.3, 0.8, len(names))
    phase = rng.uniform(0, 2 * np.pi, len(names))
    span = 0.7 * np.minimum(hi - q0, q0 - lo)
    amp = np.minimum(amplitude, span)
    joints = q0 + amp * np.sin(2 * np.pi * freq * t[:, None] + phase)
    joints[:, [i for i, n in enumerate(names) if "wrist" in n]] = 0.0
    # arms held away from the body so the reference itself is free of self-collision
    for side, sgn in (("left", 1.0), ("right", -1.0)):
        i = names.index(f"{side}_shoulder_roll_joint")
        joints[:, i] = sgn * (0.45 + 0.15 * np.sin(2 * np.pi * freq[i] * t + phase[i]))
    Q[:, qadr] = joints
    Q[:, 0] = 0.3 * t
    Q[:, 1] = 0.1 * np.sin(t)
    Q[:, 2] = g1.DEFAULT_PELVIS_HEIGHT + 0.15 + 0.03 * np.sin(2 * t)
    yaw = 0.3 * np.sin(0.5 * t)
    Q[:, 3] = np.cos(yaw / 2)
    Q[:, 6] = np.sin(yaw / 2)
    return Q


def fk_clip(T: int = 100, fps: float = 50.0, seed: int = 0) -> tuple[HumanMotion, np.ndarray]:
    """(human motion made from a G1 trajectory by FK, that trajectory)."""
    Q = fk_joint_trajectory(T, fps, seed)
    kp = robot_keypoints()
    rest = np.array([kp.rest_points[n] for n in HUMAN_JOINTS])
    rest[:, 2] -= rest[:, 2].min()  # standing on z = 0: the skeleton is the robot's own (scale 1)
    motion = HumanMotion(fps=fps, joints_w=robot_points_w(Q), contacts=np.zeros((T, 2), bool), height_m=1.32,
                         rest_joints=rest, source="fk_clip")  # fmt: skip
    return motion, Q


def _smoothstep(s: np.ndarray) -> np.ndarray:
    s = np.clip(s, 0.0, 1.0)
    return s * s * (3 - 2 * s)


def walking_clip(
    terrain: Terrain, footholds_x: list[float], height_m: float = 1.75, fps: float = 60.0,
    step_time: float = 0.6, y_offset: float = 0.0,
) -> HumanMotion:  # fmt: skip
    """A person of ``height_m`` walking along +x, feet alternately placed at ``footholds_x``.

    Feet are planted exactly (ground-truth contacts), swing with 8 cm clearance above the higher
    of the two treads, knees bend by two-link IK; arms swing opposite the legs.
    """
    s = height_m / 1.75
    thigh, shin, ankle_h, hip_w = 0.42 * s, 0.42 * s, 0.08 * s, 0.09 * s
    n = len(footholds_x)
    # foot k starts beside the other foot; footholds alternate left, right, left, ...
    holds = {0: [footholds_x[0] - 0.0], 1: [footholds_x[0]]}
    for i, x in enumerate(footholds_x[1:]):
        holds[i % 2].append(x)
    steps = [(i % 2, i // 2) for i in range(n - 1)]  # (foot, index of its next hold - 1)
    swing_t = 0.75 * step_time
    T = int(((n - 1) * step_time + 0.6) * fps)
    t = np.arange(T) / fps
    feet = np.zeros((T, 2, 3))
    contacts = np.ones((T, 2), bool)

    def ground(x: float, y: float) -> float:
        h = terrain.height(np.array([[x, y]]))[0]
        return float(h) if np.isfinite(h) else 0.0

    for k in range(2):
        y = y_offset + (hip_w if k == 0 else -hip_w)
        x0 = holds[k][0]
        feet[:, k] = [x0, y, ground(x0, y) + ankle_h]
    for i, (k, j) in enumerate(steps):
        t0 = 0.3 + i * step_time
        xa, xb = holds[k][j], holds[k][j + 1]
        y = feet[0, k, 1]
        za, zb = ground(xa, y) + ankle_h, ground(xb, y) + ankle_h
        ph = (t - t0) / swing_t
        inside = (ph > 0) & (ph < 1)
        after = ph >= 1
        sm = _smoothstep(ph[inside])
        feet[inside, k, 0] = xa + (xb - xa) * sm
        feet[inside, k, 2] = za + (zb - za) * _smoothstep(2 * ph[inside]) + 0.08 * np.sin(np.pi * ph[inside])
        contacts[inside, k] = False
        feet[after, k] = [xb, y, zb]
    # pelvis over the feet, at a height the legs can reach
    pelvis = np.zeros((T, 3))
    pelvis[:, 0] = feet[:, :, 0].mean(axis=1) + 0.05 * s
    pelvis[:, 1] = y_offset + 0.02 * np.sin(np.pi * t / step_time)
    leg = thigh + shin
    z = feet[:, :, 2].max(axis=1) + 0.95 * leg - 0.03 * s
    for k in range(2):  # keep each hip-ankle distance below 97 % of the leg
        dxy = np.linalg.norm((pelvis[:, :2] - feet[:, k, :2]) + [0, 0], axis=1)
        zmax = feet[:, k, 2] + np.sqrt(np.maximum((0.97 * leg) ** 2 - dxy**2, 0.01))
        z = np.minimum(z, zmax)
    from scipy.ndimage import gaussian_filter1d

    pelvis[:, 2] = gaussian_filter1d(z, 0.08 * fps, mode="nearest")
    J = np.zeros((T, len(HUMAN_JOINTS), 3))
    idx = HUMAN_JOINTS.index
    J[:, idx("pelvis")] = pelvis
    for k, side in enumerate(("left", "right")):
        hip = pelvis + [0, hip_w if k == 0 else -hip_w, -0.02 * s]
        ankle = feet[:, k]
        d = ankle - hip
        L = np.clip(np.linalg.norm(d, axis=1), 1e-6, 0.999 * leg)
        a = np.arccos(np.clip((thigh**2 + L**2 - shin**2) / (2 * thigh * L), -1, 1))
        u = d / np.linalg.norm(d, axis=1, keepdims=True)
        fwd = np.cross(np.array([0.0, 1.0, 0.0]), u)  # knee bends forward (+x)
        fwd /= np.linalg.norm(fwd, axis=1, keepdims=True)
        knee = hip + thigh * (np.cos(a)[:, None] * u + np.sin(a)[:, None] * fwd)
        J[:, idx(f"{side}_hip")] = hip
        J[:, idx(f"{side}_knee")] = knee
        J[:, idx(f"{side}_ankle")] = ankle
        J[:, idx(f"{side}_toe")] = ankle + [0.14 * s, 0.0, -0.06 * s]
    J[:, idx("spine")] = pelvis + [0, 0, 0.12 * s]
    J[:, idx("neck")] = pelvis + [0.02 * s, 0, 0.52 * s]
    J[:, idx("head")] = pelvis + [0.03 * s, 0, 0.70 * s]
    for k, side in enumerate(("left", "right")):
        sgn = 1 if k == 0 else -1
        sh = J[:, idx("neck")] + [0, sgn * 0.18 * s, -0.03 * s]
        swing = 0.25 * np.sin(np.pi * t / step_time + (0 if k == 0 else np.pi))
        elbow = sh + 0.28 * s * np.stack([np.sin(swing), np.zeros(T), -np.cos(swing)], 1)
        wrist = elbow + 0.25 * s * np.stack([np.sin(swing + 0.4), np.zeros(T), -np.cos(swing + 0.4)], 1)
        J[:, idx(f"{side}_shoulder")] = sh
        J[:, idx(f"{side}_elbow")] = elbow
        J[:, idx(f"{side}_wrist")] = wrist
    return HumanMotion(fps=fps, joints_w=J, contacts=contacts, height_m=height_m,
                       rest_joints=_walker_rest(s, thigh, shin, ankle_h, hip_w), source="walking_clip")  # fmt: skip


def _walker_rest(s: float, thigh: float, shin: float, ankle_h: float, hip_w: float) -> np.ndarray:
    """The walker's standing skeleton (legs straight, arms down, feet on z = 0): its bone lengths."""
    idx = HUMAN_JOINTS.index
    rest = np.zeros((len(HUMAN_JOINTS), 3))
    pelvis = np.array([0.0, 0.0, ankle_h + thigh + shin + 0.02 * s])
    rest[idx("pelvis")] = pelvis
    rest[idx("spine")] = pelvis + [0, 0, 0.12 * s]
    rest[idx("neck")] = pelvis + [0.02 * s, 0, 0.52 * s]
    rest[idx("head")] = pelvis + [0.03 * s, 0, 0.70 * s]
    for side, sgn in (("left", 1), ("right", -1)):
        hip = pelvis + [0, sgn * hip_w, -0.02 * s]
        rest[idx(f"{side}_hip")] = hip
        rest[idx(f"{side}_knee")] = hip - [0, 0, thigh]
        rest[idx(f"{side}_ankle")] = hip - [0, 0, thigh + shin]
        rest[idx(f"{side}_toe")] = rest[idx(f"{side}_ankle")] + [0.14 * s, 0.0, -0.06 * s]
        sh = rest[idx("neck")] + [0, sgn * 0.18 * s, -0.03 * s]
        rest[idx(f"{side}_shoulder")] = sh
        rest[idx(f"{side}_elbow")] = sh - [0, 0, 0.28 * s]
        rest[idx(f"{side}_wrist")] = sh - [0, 0, 0.53 * s]
    return rest
