"""Scene-aware human motion: footstep plans, swing trajectories and leg IK.

Why planned footsteps and analytic IK instead of motion capture: the ground truth must have the
feet exactly on the treads during contact (contacts GT), for any stair size and body height,
without shipping any mocap data. Feet are placed first (on the scene's surfaces), the pelvis
follows them smoothly, and a two-bone IK puts the ankles exactly on the planned feet.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.ndimage import gaussian_filter1d

from videomimic_offline.body.model import BodyModel
from videomimic_offline.body.skeleton import HUMAN_JOINTS, HUMAN_PARENTS
from videomimic_offline.real2sim.synthetic import SIT_KINDS
from videomimic_offline.real2sim.synthetic.scenes import Scene

_I = {n: i for i, n in enumerate(HUMAN_JOINTS)}
J = len(HUMAN_JOINTS)

#: Height of the hip joints above the seat top when seated, for a 1.75 m person (scaled with
#: stature): the buttock and thigh tissue under the hip joint centres.
SEAT_HIP_CLEARANCE = 0.085


@dataclass
class Motion:
    """Per-frame pose: root (pelvis) transform, local joint rotations, foot and seat contacts."""

    fps: float
    root_pos: np.ndarray  # (T,3)
    root_rot: np.ndarray  # (T,3,3)
    local_rots: np.ndarray  # (T,J,3,3)
    contacts: np.ndarray  # (T,2) bool (left, right)
    joints_w: np.ndarray  # (T,J,3) from the body model's forward kinematics
    rots_w: np.ndarray  # (T,J,3,3)
    seat_contact: np.ndarray  # (T,) bool: the pelvis rests on the seat


@dataclass
class Foothold:
    x: float
    y: float
    z: float
    yaw: float


def _rz(yaw: np.ndarray | float) -> np.ndarray:
    yaw = np.asarray(yaw, dtype=np.float64)
    c, s = np.cos(yaw), np.sin(yaw)
    z, o = np.zeros_like(yaw), np.ones_like(yaw)
    return np.stack([np.stack([c, -s, z], -1), np.stack([s, c, z], -1), np.stack([z, z, o], -1)], -2)


def _ry(a: np.ndarray | float) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    c, s = np.cos(a), np.sin(a)
    z, o = np.zeros_like(a), np.ones_like(a)
    return np.stack([np.stack([c, z, s], -1), np.stack([z, o, z], -1), np.stack([-s, z, c], -1)], -2)


def _rx(a: np.ndarray | float) -> np.ndarray:
    a = np.asarray(a, dtype=np.float64)
    c, s = np.cos(a), np.sin(a)
    z, o = np.zeros_like(a), np.ones_like(a)
    return np.stack([np.stack([o, z, z], -1), np.stack([z, c, -s], -1), np.stack([z, s, c], -1)], -2)


def _smoothstep(s: np.ndarray) -> np.ndarray:
    s = np.clip(s, 0, 1)
    return s * s * (3 - 2 * s)


# ----------------------------------------------------------------------------------------------
# footstep plans


def _foot_geometry(body: BodyModel) -> dict[str, float]:
    p, h = body.joints_rest, body.shape.height_m
    ank = p[_I["left_ankle"]]
    return {
        "heel_back": 0.035 * h,  # heel behind the ankle (x)
        "tip_front": p[_I["left_toe"], 0] - ank[0] + 0.04 * h,  # toe tip ahead of the ankle
        "ball_front": p[_I["left_toe"], 0] - ank[0],
        "half_width": abs(ank[1]) * 1.05,
        "ankle_z": ank[2],
    }


def plan_footholds(
    scene: Scene, body: BodyModel, rng: np.random.Generator, seconds: float
) -> tuple[list[tuple[int, Foothold]], dict[str, float]]:
    """Alternating footholds (foot 0 = left, 1 = right) for the scene, sized to ``seconds``.

    Returns the step list (the first two entries are the initial stance of both feet) and
    timing facts (step period, sit timing for the bench).
    """
    fg = _foot_geometry(body)
    lay = scene.layout
    hw = fg["half_width"]
    step_flat = float(rng.uniform(0.55, 0.68)) * body.shape.height_m / 1.75
    info: dict[str, float] = {"step_period": float(rng.uniform(0.5, 0.6))}
    centres: list[tuple[float, float]] = []  # (ankle x, yaw) per step
    x0 = 0.0
    if scene.kind in ("stairs_up", "stairs_down"):
        info["step_period"] = float(rng.uniform(0.55, 0.68))
        tread, n, xf = lay["tread"], int(lay["n_steps"]), lay["x_first"]
        # approach on the flat/landing up to the first riser or edge
        heel, tip = fg["heel_back"], fg["tip_front"]
        if scene.kind == "stairs_up":
            # ankle on tread k: toe tip 2 cm short of the next riser
            on_tread = [xf + (k + 1) * tread - 0.02 - tip for k in range(n)]
            last_flat = xf - 0.03 - tip
        else:
            # ankle on tread k (descending): heel 2 cm past the riser behind it; on the landing the
            # ball stays 3 cm behind the edge (the toes may overhang it)
            on_tread = [xf + k * tread + 0.02 + heel for k in range(n - 1)]
            last_flat = xf - 0.03 - fg["ball_front"]
        xs = list(np.linspace(x0, last_flat, max(2, int(np.ceil((last_flat - x0) / step_flat)) + 1))[1:])
        xs += on_tread
        if scene.kind == "stairs_up":  # on along the landing (which starts at xf + (n-1) tread)
            xs += [xf + n * tread + 0.1 + heel + k * step_flat for k in range(3)]
        else:  # out onto the floor (which starts at xf + (n-1) tread)
            xs += [xf + (n - 1) * tread + 0.2 + heel + k * step_flat for k in range(3)]
        centres = [(x, 0.0) for x in xs]
    elif scene.kind == "curb":
        xf = lay["x_first"]
        last_flat = xf - 0.03 - fg["tip_front"]
        xs = list(np.linspace(x0, last_flat, max(2, int(np.ceil((last_flat - x0) / step_flat)) + 1))[1:])
        per = info["step_period"]  # fill the clip, ending with the closing step and a short stand
        n_on = int((seconds - 0.4 - 0.8 * per) / per) - len(xs) - 1
        n_on = int(np.clip(n_on, 3, (lay["curb_length"] - 0.6) / step_flat))
        xs += [xf + 0.05 + fg["heel_back"] + k * step_flat for k in range(n_on)]
        centres = [(x, 0.0) for x in xs]
    else:  # bench, chair, ledge: walk up, turn around, sit
        xb, depth = lay["seat_x"], lay["seat_depth"]
        thigh = np.linalg.norm(body.joints_rest[_I["left_knee"]] - body.joints_rest[_I["left_hip"]])
        x_stand = xb - depth / 2 - 0.02 - max(0.9 * thigh - depth / 2, fg["tip_front"] * 0.5)  # ankle x seated
        # no part of a foot under the seat: a heightfield (what the simulator has) cannot tell the
        # open space under a chair from the seat, so heels stay 8 cm in front of its edge, and the
        # sideways turn step (whose sole's side points at the seat) is taken a little further out
        x_stand = min(x_stand, xb - depth / 2 - fg["heel_back"] - 0.08)
        x_turn = min(x_stand, xb - depth / 2 - 0.08 - hw - 0.05)
        approach_end = x_turn - 0.05
        xs = list(np.linspace(x0, approach_end, max(2, int(np.ceil((approach_end - x0) / step_flat)) + 1))[1:])
        centres = [(x, 0.0) for x in xs]
        centres += [(x_turn, np.pi / 2), (x_stand, np.pi), (x_stand, np.pi)]
        info["turn_steps"] = 3
    # alternate feet starting with the right foot (initial stance: both feet at x0)
    z0 = float(scene.surface_height(np.array([[x0 + fg["ball_front"], 0.0]]))[0])
    steps: list[tuple[int, Foothold]] = [(0, Foothold(x0, hw, z0, 0.0)), (1, Foothold(x0, -hw, z0, 0.0))]
    foot = 1
    for x, yaw in centres:
        side = hw if foot == 0 else -hw
        off = _rz(yaw) @ np.array([0.0, side, 0.0])
        fx, fy = x + off[0], off[1]
        z = float(scene.surface_height(np.array([[fx + np.cos(yaw) * fg["ball_front"], fy]]))[0])
        steps.append((foot, Foothold(float(fx), float(fy), z, float(yaw))))
        foot = 1 - foot
    # finish with feet together (one closing step of the trailing foot) unless the turn did it
    if scene.kind not in SIT_KINDS:
        lead = steps[-1][1]
        other = 1 - steps[-1][0]
        side = hw if other == 0 else -hw
        steps.append((other, Foothold(lead.x, side, lead.z, 0.0)))
    return steps, info


# ----------------------------------------------------------------------------------------------
# trajectories


def _foot_tracks(
    steps: list[tuple[int, Foothold]], period: float, t: np.ndarray, scene: Scene, fg: dict[str, float]
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, float]:
    """Ankle-sole position (T,2,3) (sole z), yaw (T,2), pitch (T,2), contacts (T,2); end time."""
    T = len(t)
    pos = np.zeros((T, 2, 3))
    yaw = np.zeros((T, 2))
    pitch = np.zeros((T, 2))
    contact = np.ones((T, 2), dtype=bool)
    cur = {0: steps[0][1], 1: steps[1][1]}
    for f in (0, 1):
        pos[:, f] = (cur[f].x, cur[f].y, cur[f].z)
        yaw[:, f] = cur[f].yaw
    t_start = 0.4
    swing = 0.8 * period
    t_i = t_start
    for foot, fh in steps[2:]:
        a, b = cur[foot], fh
        m = (t >= t_i) & (t < t_i + swing)
        s = (t[m] - t_i) / swing
        sx = _smoothstep(s)
        x = a.x + (b.x - a.x) * sx
        y = a.y + (b.y - a.y) * sx
        dz = b.z - a.z
        lift = _smoothstep((s - 0.05) / 0.5) if dz > 0 else _smoothstep((s - 0.35) / 0.55)
        clear = 0.06 + 0.03 * (abs(dz) > 0.01)
        z = a.z + dz * lift + clear * np.sin(np.pi * s)
        # never through an edge: the whole sole (heel..tip) stays above the surface below it
        cy = np.cos(a.yaw + (b.yaw - a.yaw) * sx)
        sy = np.sin(a.yaw + (b.yaw - a.yaw) * sx)
        for d in np.linspace(-fg["heel_back"], fg["tip_front"], 6):
            under = scene.surface_height(np.column_stack([x + cy * d, y + sy * d]))
            z = np.maximum(z, under + 0.025 * np.sin(np.pi * s) ** 0.5)
        pos[m, foot] = np.column_stack([x, y, z])
        yaw[m, foot] = a.yaw + (b.yaw - a.yaw) * sx
        pitch[m, foot] = -0.35 * np.sin(np.pi * s) * np.exp(-3 * s)  # toe-off, then level
        contact[m, foot] = False
        after = t >= t_i + swing
        pos[after, foot] = (b.x, b.y, b.z)
        yaw[after, foot] = b.yaw
        cur[foot] = b
        t_i += period
    return pos, yaw, pitch, contact, t_i - period + swing


def _two_bone(hip: np.ndarray, ankle: np.ndarray, l1: float, l2: float, fwd: np.ndarray) -> np.ndarray:
    """Knee positions (T,3) for hip->ankle chains, knees bending toward ``fwd`` (T,3)."""
    d = ankle - hip
    L = np.linalg.norm(d, axis=1)
    L = np.clip(L, 1e-6, (l1 + l2) * 0.9999)
    u = d / np.linalg.norm(d, axis=1, keepdims=True)
    a = (l1**2 - l2**2 + L**2) / (2 * L)
    h = np.sqrt(np.clip(l1**2 - a**2, 0, None))
    pole = fwd - u * np.einsum("ij,ij->i", fwd, u)[:, None]
    pole /= np.maximum(np.linalg.norm(pole, axis=1, keepdims=True), 1e-9)
    return hip + u * a[:, None] + pole * h[:, None]


def _align(d0: np.ndarray, f0: np.ndarray, d1: np.ndarray, f1: np.ndarray) -> np.ndarray:
    """Rotations (T,3,3) taking rest direction d0 (with reference f0) onto d1 (with f1)."""

    def frame(d: np.ndarray, f: np.ndarray) -> np.ndarray:
        d = d / np.linalg.norm(d, axis=-1, keepdims=True)
        f = f - d * np.sum(f * d, axis=-1, keepdims=True)
        f = f / np.linalg.norm(f, axis=-1, keepdims=True)
        return np.stack([d, f, np.cross(d, f)], axis=-1)

    F0 = frame(np.broadcast_to(d0, d1.shape), np.broadcast_to(f0, d1.shape))
    return frame(d1, f1) @ np.swapaxes(F0, -1, -2)


def generate_motion(
    scene: Scene, body: BodyModel, rng: np.random.Generator, seconds: float, fps: float = 30.0
) -> Motion:
    """Generate ``seconds`` of motion at ``fps`` for ``scene`` (feet on its surfaces)."""
    fg = _foot_geometry(body)
    steps, info = plan_footholds(scene, body, rng, seconds)
    period = info["step_period"]
    T = int(round(seconds * fps))
    # plan the whole motion on a dense grid that covers it entirely, then keep [0, seconds]
    t_plan_end = 0.4 + period * (len(steps) - 1) + 3.0
    tt = np.arange(int(np.ceil(max(t_plan_end, seconds) * fps)) + 1) / fps
    sole, fyaw, fpitch, contact, t_walk_end = _foot_tracks(steps, period, tt, scene, fg)
    p_rest = body.joints_rest
    h = body.shape.height_m
    ankle_z = fg["ankle_z"]
    # ankle targets: the rest ankle offset above the sole, rotated with the foot
    Rf = _rz(fyaw) @ _ry(fpitch)  # (TT,2,3,3)
    ankle_rest_off = np.array([0.0, 0.0, ankle_z])
    # pitch about the ball of the foot: keep the ball on its track while the heel lifts
    ball = np.array([fg["ball_front"], 0.0, 0.0])
    ankles = sole + np.einsum("tfab,b->tfa", Rf, ankle_rest_off - ball) + np.einsum("tfab,b->tfa", _rz(fyaw), ball)
    # root yaw: mean of the feet yaws, smoothed
    sig = 0.18 * fps
    root_yaw = gaussian_filter1d(fyaw.mean(1), sig, mode="nearest")
    feet_mid = gaussian_filter1d(sole.mean(1), sig * 1.2, axis=0, mode="nearest")
    # pelvis: over the (smoothed) feet, forward with the lean, bobbing with the gait phase
    pel_rest = p_rest[_I["pelvis"]]
    hip_rest = p_rest[_I["left_hip"]]
    stand_z = pel_rest[2] - 0.015 * h
    lean = {"stairs_up": 0.14, "stairs_down": 0.03, "curb": 0.05}.get(scene.kind, 0.04)
    root_pos = feet_mid.copy()
    root_pos[:, 2] = feet_mid[:, 2] + stand_z
    moving = gaussian_filter1d((~contact).any(1).astype(float), sig, mode="nearest")
    bob = 0.012 * h * np.cos(2 * np.pi * tt / period) * moving
    root_pos[:, 2] += bob - 0.02 * moving * h
    fwd = np.stack([np.cos(root_yaw), np.sin(root_yaw), np.zeros_like(root_yaw)], 1)
    root_pos[:, :2] += fwd[:, :2] * (0.06 * h * lean)
    pitch_root = np.full(len(tt), lean) * moving
    # sitting: after the turn, the pelvis moves back over the seat and down (and up again)
    sit = np.zeros(len(tt))
    seat_pel_z = np.inf
    if scene.kind in SIT_KINDS:
        lay = scene.layout
        t_sit0 = t_walk_end + 0.25
        t_sit1 = t_sit0 + 1.4
        sit = _smoothstep((tt - t_sit0) / (t_sit1 - t_sit0))
        if scene.kind != "bench":  # chair, ledge: stay a moment, then stand up again
            stand_s = 1.2
            hold = float(np.clip(seconds - t_sit1 - stand_s - 0.4, 0.8, 2.0))
            sit = sit - _smoothstep((tt - t_sit1 - hold) / stand_s)
        seat_pel_z = lay["seat_z"] + SEAT_HIP_CLEARANCE * h / 1.75 + (pel_rest[2] - hip_rest[2])
        seat_pel = np.array([lay["seat_x"] - 0.02, 0.0, seat_pel_z])
        root_pos = root_pos * (1 - sit[:, None]) + seat_pel * sit[:, None]
        # the torso leans forward while lowering (and while rising), upright when seated
        pitch_root = pitch_root + 0.55 * np.sin(np.pi * sit) + 0.05 * sit
        info["t_sit"] = t_sit0
    # reachability: lower the pelvis where a leg would have to over-stretch
    l1 = np.linalg.norm(p_rest[_I["left_knee"]] - p_rest[_I["left_hip"]])
    l2 = np.linalg.norm(p_rest[_I["left_ankle"]] - p_rest[_I["left_knee"]])
    for _ in range(3):
        Rroot = _rz(root_yaw) @ _ry(pitch_root)
        zmax = np.full(len(tt), np.inf)
        for f, hipn in ((0, "left_hip"), (1, "right_hip")):
            hip = root_pos + np.einsum("tab,b->ta", Rroot, p_rest[_I[hipn]] - pel_rest)
            dxy = np.linalg.norm(ankles[:, f, :2] - hip[:, :2], axis=1)
            reach = np.sqrt(np.clip((0.985 * (l1 + l2)) ** 2 - dxy**2, 0, None))
            zmax = np.minimum(zmax, ankles[:, f, 2] + reach + (root_pos[:, 2] - hip[:, 2]))
        excess = np.clip(root_pos[:, 2] - zmax, 0, None)
        excess = gaussian_filter1d(excess, 2.0, mode="nearest")
        root_pos[:, 2] -= excess * 1.3 + 1e-4
    Rroot = _rz(root_yaw) @ _ry(pitch_root) @ _rx(0.03 * np.sin(np.pi * tt / period) * moving)
    n = len(tt)
    glob = np.tile(np.eye(3), (n, J, 1, 1))
    glob[:, 0] = Rroot
    # legs
    for f, side in ((0, "left"), (1, "right")):
        hp, kn, an, to = (_I[f"{side}_{k}"] for k in ("hip", "knee", "ankle", "toe"))
        hip = root_pos + np.einsum("tab,b->ta", Rroot, p_rest[hp] - pel_rest)
        foot_fwd = np.einsum("tab,b->ta", _rz(fyaw[:, f]), [1.0, 0.0, 0.0])
        knee_dir = foot_fwd + fwd
        knee = _two_bone(hip, ankles[:, f], l1, l2, knee_dir)
        glob[:, hp] = _align(p_rest[kn] - p_rest[hp], np.array([1.0, 0, 0]), knee - hip, knee_dir)
        glob[:, kn] = _align(p_rest[an] - p_rest[kn], np.array([1.0, 0, 0]), ankles[:, f] - knee, knee_dir)
        glob[:, an] = Rf[:, f]
        glob[:, to] = Rf[:, f] @ _ry(-fpitch[:, f])  # toes stay flat while the heel lifts
        glob[:, to] = np.where(contact[:, f, None, None], _rz(fyaw[:, f]), glob[:, to])
    # upper body: spine counter-lean, head level, arms swing opposite to the legs
    left_swing = ankles[:, 0, :] - ankles[:, 1, :]
    swing_amt = np.einsum("ta,ta->t", left_swing, fwd) / max(l1 + l2, 1e-6)
    spine_pitch = 0.3 * pitch_root
    glob[:, _I["spine"]] = Rroot @ _ry(spine_pitch) @ _rz(-0.15 * swing_amt)
    glob[:, _I["neck"]] = _rz(root_yaw) @ _ry(0.15 * pitch_root)
    glob[:, _I["head"]] = _rz(root_yaw) @ _ry(0.1 + 0.1 * pitch_root)
    arm_amp = float(rng.uniform(0.6, 0.9))
    for side, sgn in (("left", 1.0), ("right", -1.0)):
        sh, el, wr = (_I[f"{side}_{k}"] for k in ("shoulder", "elbow", "wrist"))
        fwd_swing = -sgn * arm_amp * swing_amt * moving  # left arm forward when the right leg is
        abduct = sgn * 0.05
        arm_sit = sit * 0.5
        glob[:, sh] = glob[:, _I["spine"]] @ _ry(-(fwd_swing + arm_sit)) @ _rx(abduct)  # abduct: outward
        glob[:, el] = glob[:, sh] @ _ry(-(0.25 + 0.2 * np.clip(fwd_swing, 0, None) + 0.6 * sit))
        glob[:, wr] = glob[:, el]
    # locals from globals
    local = np.zeros_like(glob)
    local[:, 0] = glob[:, 0]
    for j in range(1, J):
        local[:, j] = np.swapaxes(glob[:, HUMAN_PARENTS[j]], -1, -2) @ glob[:, j]
    joints, rots = body.forward_kinematics(root_pos, Rroot, local)
    # seated: the pelvis is down on the seat (within 1 cm of its seated height)
    seat_contact = (sit > 0.5) & (root_pos[:, 2] < seat_pel_z + 0.01)
    keep = slice(0, T)
    return Motion(
        fps, root_pos[keep], Rroot[keep], local[keep], contact[keep], joints[keep], rots[keep], seat_contact[keep]
    )
