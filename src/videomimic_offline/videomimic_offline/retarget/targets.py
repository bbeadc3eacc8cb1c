"""Per-frame retargeting targets from a human clip: 50 fps, contact anchors, scaled keypoints.

Everything that needs the whole clip is decided here, before the per-frame solve: the human's
scale (bone lengths over the clip), contact segments and where each planted foot is pinned
(one xy/yaw per segment, on the surface the person stood on, moved within it towards the
robot's proportions: :func:`fit_stance`), and a swing-foot offset that blends smoothly
between consecutive anchors so feet never jump at lift-off or touch-down.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from videomimic_offline.body.skeleton import HUMAN_JOINTS
from videomimic_offline.contracts.human_motion import HumanMotion, detect_foot_contacts
from videomimic_offline.errors import InputError
from videomimic_offline.retarget.config import ContactConfig, StanceConfig
from videomimic_offline.retarget.keypoints import ANKLE_HEIGHT, TOE_VECTORS, VECTORS, robot_keypoints
from videomimic_offline.retarget.terrain import Terrain

OUT_FPS = 50.0
FEET = (("left_ankle", "left_toe"), ("right_ankle", "right_toe"))


@dataclass
class ClipTargets:
    """Everything the per-frame solver tracks, at OUT_FPS."""

    fps: float
    human: np.ndarray  # (T, J, 3) resampled human joints
    contacts: np.ndarray  # (T, 2) bool
    contacts_detected: bool
    foot_pos: np.ndarray  # (T, 2, 3) ankle-link targets
    foot_yaw: np.ndarray  # (T, 2) rad
    pelvis_pos: np.ndarray  # (T, 3)
    vec: dict[tuple[str, str], np.ndarray]  # (T, 3) robot-length bone vectors
    scale: float  # robot leg length / human leg length
    human_ankle_height: float
    ruler: str = ""  # where the human leg length came from (see :func:`human_leg`)
    seat_contact: np.ndarray | None = None  # (T,) bool: pelvis pinned on the seat (retarget/seat.py)
    seat_window: np.ndarray | None = None  # (T,) bool: seat points kept above the terrain


def resample(motion: HumanMotion, fps: float = OUT_FPS) -> tuple[np.ndarray, np.ndarray | None]:
    """Joints linearly interpolated to ``fps`` (contacts: nearest frame)."""
    joints, contacts, _ = _resample(motion, fps)
    return joints, contacts


def _resample(motion: HumanMotion, fps: float) -> tuple[np.ndarray, np.ndarray | None, np.ndarray | None]:
    """:func:`resample` plus the seat contacts (nearest frame)."""
    T = motion.num_frames
    t_in = np.arange(T) / motion.fps
    t_out = np.arange(0.0, t_in[-1] + 1e-9, 1.0 / fps)
    src = np.interp(t_out, t_in, np.arange(T))
    i0 = np.floor(src).astype(int)
    i1 = np.minimum(i0 + 1, T - 1)
    a = (src - i0)[:, None, None]
    joints = (1 - a) * motion.joints_w[i0] + a * motion.joints_w[i1]
    contacts = None
    near = np.rint(src).astype(int)
    if motion.contacts is not None:
        contacts = motion.contacts[near]
    seat = None if motion.seat_contact is None else np.asarray(motion.seat_contact, bool)[near]
    return joints, contacts, seat


def _segments(mask: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) runs of True."""
    padded = np.concatenate([[False], mask, [False]]).astype(np.int8)
    edges = np.flatnonzero(np.diff(padded))
    return list(zip(edges[0::2], edges[1::2], strict=True))


LEG_BONES = (("left_hip", "left_knee"), ("left_knee", "left_ankle"), ("right_hip", "right_knee"), ("right_knee", "right_ankle"))  # fmt: skip


def leg_length(joints: np.ndarray) -> float:
    """Mean of the two legs' hip-knee-ankle length; ``joints`` (J,3) or (T,J,3) (median per bone over frames)."""
    j = np.asarray(joints, np.float64).reshape(-1, len(HUMAN_JOINTS), 3)
    idx = HUMAN_JOINTS.index
    return float(sum(np.median(np.linalg.norm(j[:, idx(a)] - j[:, idx(b)], axis=-1)) for a, b in LEG_BONES) / 2)


def human_leg(motion: HumanMotion) -> tuple[float, str]:
    """The person's leg length (m) and where it came from: the ruler real2sim wrote, else the clip.

    In order: ``rest_joints`` (the skeleton the reconstruction was fitted to); the body template at
    ``height_m`` (the person's height, the reconstruction's metric ruler); the clip's own median bone
    lengths (BVH, AMASS: metric already, no height given).
    """
    if motion.rest_joints is not None:
        return leg_length(motion.rest_joints), "the motion's rest skeleton"
    if np.isfinite(motion.height_m):
        from videomimic_offline.real2sim.body_template import rest_joints

        return leg_length(rest_joints(motion.height_m)), f"height {motion.height_m:.2f} m"
    return leg_length(motion.joints_w), "the clip's bone lengths"


def _yaw(v: np.ndarray) -> np.ndarray:
    return np.arctan2(v[..., 1], v[..., 0])


def build_targets(
    motion: HumanMotion, terrain: Terrain, sole_xy: np.ndarray, contact: ContactConfig | None = None,
    stance: StanceConfig | None = None,
) -> ClipTargets:  # fmt: skip
    """Resample, label contacts, pin planted feet to the terrain, and scale the skeleton to the G1.

    ``sole_xy`` (K, 2): sole corner points in the foot frame, used to rest a planted foot on the
    highest cell under its footprint and to check the scene covers it. The motion's own contacts
    are used when it has them; only a motion without labels has them detected (``contact``).
    ``stance``: move the footholds within their surfaces and the pelvis path towards the person's
    stance at the robot's size (:func:`fit_stance`); None keeps the person's footholds and path.
    """
    contact = contact or ContactConfig()
    kp = robot_keypoints()
    human, contacts, seat = _resample(motion, OUT_FPS)
    T = len(human)
    idx = HUMAN_JOINTS.index
    robot_leg = sum(kp.length[(a, b)] for a, b in (("left_hip", "left_knee"), ("left_knee", "left_ankle")))
    human_leg_m, ruler = human_leg(motion)
    scale = robot_leg / max(human_leg_m, 1e-6)

    # Human ankle height above the surface when planted: from labelled contacts, else from the scale.
    ankles = human[:, [idx("left_ankle"), idx("right_ankle")]]  # (T, 2, 3)
    ground = terrain.height(ankles[..., :2])
    if contacts is not None and contacts.any() and np.isfinite(ground[contacts]).any():
        rest = float(np.nanmedian((ankles[..., 2] - ground)[contacts]))
    else:
        rest = ANKLE_HEIGHT / scale
        above = (ankles[..., 2] - ground)[np.isfinite(ground)]
        if contacts is None and above.size:  # unlabelled: the lowest tenth of ankle heights is standing
            low = float(np.percentile(above, 10))
            rest = low if 0.0 < low < 0.2 else rest
    detected = contacts is None
    if detected:
        ground = np.where(np.isfinite(ground), ground, 0.0)
        contacts = detect_foot_contacts(
            ankles, ground + rest, OUT_FPS, max_speed=contact.max_speed, max_height=contact.max_height,
            min_frames=contact.min_frames,
        )  # fmt: skip

    toes = human[:, [idx("left_toe"), idx("right_toe")]]
    yaw_h = _yaw(toes - ankles)
    adj = ankles.copy()
    adj[..., 2] -= rest - ANKLE_HEIGHT
    foot_pos = adj.copy()
    foot_yaw = yaw_h.copy()
    holds = []  # (foot, start, end, xy, yaw, surface height) of each planted segment
    for k, name in enumerate(("left", "right")):
        for s, e in _segments(contacts[:, k]):
            xy = np.median(ankles[s:e, k, :2], axis=0)
            yaw = float(np.angle(np.mean(np.exp(1j * yaw_h[s:e, k]))))
            corners = xy + sole_xy @ _rot2(yaw).T
            hs = terrain.height(corners, dilated=True)
            if not terrain.known(corners).all():
                raise InputError(
                    f"scene does not cover the motion: the {name} foot is planted at x={xy[0]:.2f}, "
                    f"y={xy[1]:.2f} m (frames {s}-{e - 1} at {OUT_FPS:.0f} fps), outside the heightfield "
                    f"or over unseen cells of {terrain.source or 'the scene'}; reconstruct a larger area or trim the clip"
                )
            holds.append((k, s, e, xy, yaw, float(hs.max())))
    pelvis_d = np.zeros((T, 2))
    # where a foot would be at the robot's size, relative to the person's ankle: with the stance
    # fitted, the robot's pelvis plus the person's ankle offset from the pelvis scaled (else 0)
    sized = np.zeros((T, 2, 3))
    if stance is not None and holds and (seat is None or not seat.any()):
        moved, pelvis_d = fit_stance(human, ankles, holds, scale, terrain, sole_xy, stance)
        holds = [(k, s, e, xy, yaw, z) for (k, s, e, _, yaw, z), xy in zip(holds, moved, strict=True)]
        pelvis_xy = human[:, idx("pelvis"), None, :2]
        sized[..., :2] = pelvis_d[:, None] - (1 - scale) * (ankles[..., :2] - pelvis_xy)
    for k in range(2):
        offsets = np.full((T, 3), np.nan)
        for _, s, e, xy, yaw, z in (h for h in holds if h[0] == k):
            anchor = np.array([xy[0], xy[1], z + ANKLE_HEIGHT])
            foot_pos[s:e, k] = anchor
            foot_yaw[s:e, k] = yaw
            offsets[s:e] = anchor - adj[s:e, k] - sized[s:e, k]
        # Swing: the human's foot path (at the robot's size) plus an offset blended between the
        # neighbouring anchors.
        have = np.isfinite(offsets[:, 0])
        if have.any():
            t = np.arange(T)
            for ax in range(3):
                offsets[:, ax] = np.interp(t, t[have], offsets[have, ax])
            swing = ~contacts[:, k]
            foot_pos[swing, k] = adj[swing, k] + sized[swing, k] + offsets[swing]
    # No foot target below the surface (a foot flat on the ground has its ankle ANKLE_HEIGHT above it).
    floor = terrain.height(foot_pos[..., :2], dilated=True)
    floor = np.where(np.isfinite(floor), floor, -np.inf)
    foot_pos[..., 2] = np.maximum(foot_pos[..., 2], floor + ANKLE_HEIGHT)
    if not terrain.is_flat:
        inside = terrain.known(human[:, idx("pelvis"), :2])
        if inside.mean() < 0.5:
            raise InputError(
                f"scene does not cover the motion: the pelvis is over the heightfield in only "
                f"{100 * inside.mean():.0f}% of frames; check the scene belongs to this clip"
            )

    # Pelvis: human xy; height above the supporting foot scaled by the leg-length ratio.
    pelvis_h = human[:, idx("pelvis")]
    ground_h = ankles[..., 2].min(axis=1) - rest
    ground_r = foot_pos[..., 2].min(axis=1) - ANKLE_HEIGHT
    pelvis = pelvis_h.copy()
    pelvis[:, :2] += pelvis_d
    pelvis[:, 2] = ground_r + (pelvis_h[:, 2] - ground_h) * scale + pelvis_lift(human, scale)
    window = None
    if seat is not None and seat.any():  # sitting: the pelvis rests on the seat, not at the scaled height
        from videomimic_offline.retarget.seat import seat_targets

        pelvis, window = seat_targets(human, seat, terrain, pelvis, OUT_FPS)

    vec = {}
    for a, b, _ in VECTORS:
        v = human[:, idx(b)] - human[:, idx(a)]
        v = v / np.maximum(np.linalg.norm(v, axis=1, keepdims=True), 1e-9)
        if (a, b) in TOE_VECTORS:
            k = 0 if a.startswith("left") else 1
            pitch = np.arcsin(np.clip(v[:, 2], -1, 1))
            if contacts[:, k].any():  # re-base pitch only when a planted (flat) foot shows the human's rest pitch
                pr = kp.rest_points[b] - kp.rest_points[a]
                pitch = pitch - np.median(pitch[contacts[:, k]]) + np.arcsin(pr[2] / np.linalg.norm(pr))
            yaw = _yaw(v)
            v = np.stack([np.cos(pitch) * np.cos(yaw), np.cos(pitch) * np.sin(yaw), np.sin(pitch)], axis=1)
        vec[(a, b)] = kp.length[(a, b)] * v
    return ClipTargets(
        OUT_FPS, human, contacts, detected, foot_pos, foot_yaw, pelvis, vec, scale, rest, ruler, seat, window
    )


def pelvis_lift(human: np.ndarray, scale: float) -> float:
    """How far (m) the G1's pelvis origin sits above the robot point that corresponds to the human pelvis joint.

    Leg lengths set the scale, so the scaled human's hip joints correspond to the G1's hip points;
    but the G1's pelvis origin is 0.133 m above them and a human pelvis joint 0.02-0.10 m (by
    source: procedural, SMPL-like, CMU BVH), times the scale. The corresponding robot point is the
    one this far below the origin along the pelvis's up axis: the pelvis target is raised by it
    and the keypoint error measures from it (``feasibility.robot_pelvis_ref``). ``human`` (T, J, 3).
    """
    rest = robot_keypoints().rest_points
    return float(rest["pelvis"][2] - rest["left_hip"][2] - scale * _pelvis_hip_drop(human))


def _pelvis_hip_drop(human: np.ndarray) -> float:
    """How far the human pelvis joint sits above the hip joints (median; often ~0 for SMPL-like skeletons)."""
    idx = HUMAN_JOINTS.index
    hips = 0.5 * (human[:, idx("left_hip"), 2] + human[:, idx("right_hip"), 2])
    return float(np.median(human[:, idx("pelvis"), 2] - hips))


def _rot2(yaw: float) -> np.ndarray:
    c, s = np.cos(yaw), np.sin(yaw)
    return np.array([[c, -s], [s, c]])


def _on_surface(terrain: Terrain, xy: np.ndarray, yaw: float, z: float, sole: np.ndarray) -> bool:
    """Whether the robot sole ``sole`` (K, 2, foot frame) at ``xy``/``yaw`` lies wholly on the surface at height ``z``.

    Both the surface and its dilated copy must be at ``z`` under every point: no drop under the
    sole (a tread's front edge) and no riser within the dilation of it.
    """
    p = xy + sole @ _rot2(yaw).T
    if not terrain.known(p).all():
        return False
    return bool(
        (np.abs(terrain.height(p) - z) < 5e-3).all() and (np.abs(terrain.height(p, dilated=True) - z) < 5e-3).all()
    )


def _sole_grid(sole_xy: np.ndarray, margin: float) -> np.ndarray:
    """Points over the sole rectangle grown by ``margin`` on every side (foot frame)."""
    lo, hi = sole_xy.min(0) - margin, sole_xy.max(0) + margin
    u, v = np.meshgrid(np.linspace(lo[0], hi[0], 7), np.linspace(lo[1], hi[1], 3))
    return np.stack([u.ravel(), v.ravel()], 1)


def foothold_box(
    terrain: Terrain, xy: np.ndarray, yaw: float, z: float, sole_xy: np.ndarray, cfg: StanceConfig
) -> np.ndarray:
    """(2, 2) [[back, forward], [right, left]] bounds (m, foot frame) on moving a foothold within its surface.

    The foothold may move along the foot and across it as long as the robot's sole, grown by
    ``cfg.margin``, stays on the surface it stood on (the same tread, away from its edges), and
    no further than ``cfg.max_shift``. A foothold whose sole does not fit there stays put.
    """
    sole = _sole_grid(sole_xy, cfg.margin)
    R = _rot2(yaw)
    box = np.zeros((2, 2))
    if not _on_surface(terrain, xy, yaw, z, sole):
        return box
    steps = np.arange(cfg.step, cfg.max_shift + 1e-9, cfg.step)
    for ax in range(2):
        for side, sign in enumerate((-1.0, 1.0)):
            reach = 0.0
            for d in steps:
                if not _on_surface(terrain, xy + R[:, ax] * sign * d, yaw, z, sole):
                    break
                reach = d
            box[ax, side] = sign * reach
    # the box's corners must fit too (a tread need not be a rectangle in the foot's frame)
    for _ in range(8):
        corners = [R @ [a, b] for a in box[0] for b in box[1]]
        if all(_on_surface(terrain, xy + c, yaw, z, sole) for c in corners):
            break
        box *= 0.5
    return box


def fit_stance(
    human: np.ndarray, ankles: np.ndarray, holds: list, scale: float, terrain: Terrain, sole_xy: np.ndarray,
    cfg: StanceConfig,
) -> tuple[list[np.ndarray], np.ndarray]:  # fmt: skip
    """Footholds and a pelvis path with the person's stance at the robot's size: (foothold xy per hold, pelvis dxy (T, 2)).

    The robot is ``scale`` times the person, so at the person's footholds its stance is 1/scale
    too long for its legs and it crouches. As in a motion scaled whole (GMR), each planted foot
    should be ``scale`` times the person's ankle-to-pelvis offset from the robot's pelvis; here
    the footholds move only within their own surface (:func:`foothold_box`), and the pelvis
    follows (``dxy``: the robot pelvis minus the person's). One bounded linear least-squares fit
    over the clip: per planted frame and foot, foothold - pelvis = scale * (person's ankle - pelvis),
    with the pelvis path smooth (``cfg.smooth`` on its second difference) and near the person's
    (``cfg.prior``).
    """
    from scipy.optimize import lsq_linear
    from scipy.sparse import coo_matrix
    from scipy.sparse.linalg import splu

    T = len(human)
    P = human[:, HUMAN_JOINTS.index("pelvis"), :2]
    n_h = len(holds)
    nv = 2 * n_h + 2 * T  # per hold: shift (along, across) in its foot frame; per frame: pelvis dxy
    rows, cols, vals, rhs = [], [], [], []
    r = 0

    def add(entries, b):
        nonlocal r
        for c, v in entries:
            rows.append(r)
            cols.append(c)
            vals.append(v)
        rhs.append(b)
        r += 1

    lo, hi = np.zeros(2 * n_h), np.zeros(2 * n_h)
    for j, (k, s, e, xy, yaw, z) in enumerate(holds):
        box = foothold_box(terrain, xy, yaw, z, sole_xy, cfg)
        lo[2 * j : 2 * j + 2], hi[2 * j : 2 * j + 2] = box[:, 0], box[:, 1]
        R = _rot2(yaw)
        for t in range(s, e):
            b = scale * (ankles[t, k, :2] - P[t]) + P[t] - xy  # R w - d(t) = b
            for ax in range(2):
                add([(2 * j, R[ax, 0]), (2 * j + 1, R[ax, 1]), (2 * n_h + 2 * t + ax, -1.0)], b[ax])
    for t in range(T):
        for ax in range(2):
            add([(2 * n_h + 2 * t + ax, cfg.prior)], 0.0)
            if 0 < t < T - 1:
                add([(2 * n_h + 2 * (t + o) + ax, cfg.smooth * c) for o, c in ((-1, 1.0), (0, -2.0), (1, 1.0))], 0.0)
    A = coo_matrix((vals, (rows, cols)), shape=(r, nv)).tocsc()
    b = np.array(rhs)
    # The pelvis shifts are unbounded: eliminate them (a sparse banded solve), then fit the few
    # bounded foothold shifts by bounded-variable least squares on the reduced, dense problem.
    Aw, Ad = A[:, : 2 * n_h].toarray(), A[:, 2 * n_h :]
    lu = splu((Ad.T @ Ad).tocsc())
    G = lu.solve(np.asarray(Ad.T @ np.column_stack([Aw, b])))  # d = -G[:, :-1] w + G[:, -1]
    Ar = Aw - Ad @ G[:, :-1]
    br = b - Ad @ G[:, -1]
    if n_h and (hi - lo).max() > 1e-9:
        w = np.clip(lsq_linear(Ar, br, bounds=(lo, hi + 1e-12), method="bvls").x, lo, hi).reshape(-1, 2)
        # the box bounds each axis; the reach bounds the distance (shrinking towards 0 stays in the box)
        w = (w * np.minimum(1.0, cfg.max_shift / np.maximum(np.linalg.norm(w, axis=1), 1e-12))[:, None]).ravel()
    else:
        w = np.zeros(2 * n_h)
    x = np.concatenate([w, G[:, -1] - G[:, :-1] @ w])
    moved = [h[3] + _rot2(h[4]) @ x[2 * j : 2 * j + 2] for j, h in enumerate(holds)]
    return moved, x[2 * n_h :].reshape(T, 2)
