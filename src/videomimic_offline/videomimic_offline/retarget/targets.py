"""Per-frame retargeting targets from a human clip: 50 fps, contact anchors, scaled keypoints.

Everything that needs the whole clip is decided here, before the per-frame solve: the human's
scale (bone lengths over the clip), contact segments and where each planted foot is pinned
(one xy/yaw per segment, on the terrain surface), and a swing-foot offset that blends smoothly
between consecutive anchors so feet never jump at lift-off or touch-down.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from videomimic_offline.body.skeleton import HUMAN_JOINTS
from videomimic_offline.contracts.human_motion import HumanMotion, detect_foot_contacts
from videomimic_offline.errors import InputError
from videomimic_offline.retarget.config import ContactConfig
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
    motion: HumanMotion, terrain: Terrain, sole_xy: np.ndarray, contact: ContactConfig | None = None
) -> ClipTargets:
    """Resample, label contacts, pin planted feet to the terrain, and scale the skeleton to the G1.

    ``sole_xy`` (K, 2): sole corner points in the foot frame, used to rest a planted foot on the
    highest cell under its footprint and to check the scene covers it. The motion's own contacts
    are used when it has them; only a motion without labels has them detected (``contact``).
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
    for k, name in enumerate(("left", "right")):
        segs = _segments(contacts[:, k])
        offsets = np.full((T, 3), np.nan)
        for s, e in segs:
            xy = np.median(ankles[s:e, k, :2], axis=0)
            yaw = float(np.angle(np.mean(np.exp(1j * yaw_h[s:e, k]))))
            c, sn = np.cos(yaw), np.sin(yaw)
            corners = xy + sole_xy @ np.array([[c, sn], [-sn, c]])
            hs = terrain.height(corners, dilated=True)
            if not terrain.known(corners).all():
                raise InputError(
                    f"scene does not cover the motion: the {name} foot is planted at x={xy[0]:.2f}, "
                    f"y={xy[1]:.2f} m (frames {s}-{e - 1} at {OUT_FPS:.0f} fps), outside the heightfield "
                    f"or over unseen cells of {terrain.source or 'the scene'}; reconstruct a larger area or trim the clip"
                )
            anchor = np.array([xy[0], xy[1], float(hs.max()) + ANKLE_HEIGHT])
            foot_pos[s:e, k] = anchor
            foot_yaw[s:e, k] = yaw
            offsets[s:e] = anchor - adj[s:e, k]
        # Swing: the human's foot path plus an offset blended between the neighbouring anchors.
        have = np.isfinite(offsets[:, 0])
        if have.any():
            t = np.arange(T)
            for ax in range(3):
                offsets[:, ax] = np.interp(t, t[have], offsets[have, ax])
            swing = ~contacts[:, k]
            foot_pos[swing, k] = adj[swing, k] + offsets[swing]
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
    pelvis[:, 2] = ground_r + (pelvis_h[:, 2] - ground_h) * scale
    pelvis[:, 2] += kp.rest_points["pelvis"][2] - kp.rest_points["left_hip"][2] - scale * _pelvis_hip_drop(human)
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


def _pelvis_hip_drop(human: np.ndarray) -> float:
    """How far the human pelvis joint sits above the hip joints (median; often ~0 for SMPL-like skeletons)."""
    idx = HUMAN_JOINTS.index
    hips = 0.5 * (human[:, idx("left_hip"), 2] + human[:, idx("right_hip"), 2])
    return float(np.median(human[:, idx("pelvis"), 2] - hips))
