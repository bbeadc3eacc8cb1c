"""Our human joints and terrain, converted to what each retargeting peer reads (bench only).

Every peer gets the same 50 fps human joints that our solver tracks (``ClipTargets.human``) and
the same human->robot scale (``ClipTargets.scale``); only the layout changes:

* holosoma-retargeting ``lafan`` (robot_only; world joint positions, as its LAFAN examples):
  (T, 22, 3) in its y-up file convention. (Its ``smplh``/``smplx`` loaders face the robot from the
  human towards the world origin at frame 0, meant for an object there; LAFAN estimates the
  heading from the hips.)
* holosoma-retargeting ``mocap`` (climbing): (T, 53, 3) z-up in its mocap joint order; its loader
  keeps every 4th frame (120 Hz mocap), so each 50 fps frame is written 4 times.
* GMR ``bvh`` (LAFAN-style bodies): a position per body and the rotation that turns the robot's
  rest bone frame into the human's bone frame; the GMR driver turns that into the body
  orientation its IK config expects (it knows its own model and rotation offsets).
* the terrain as axis-aligned boxes (the multi-box object holosoma's climbing mode loads).
"""

from __future__ import annotations

import numpy as np
from videomimic_offline.body.skeleton import HUMAN_JOINTS
from videomimic_offline.retarget.keypoints import robot_keypoints
from videomimic_offline.retarget.terrain import Terrain

_I = HUMAN_JOINTS.index

#: holosoma's LAFAN joint order (config_types/data_type.py LAFAN_DEMO_JOINTS).
LAFAN_NAMES = (
    "Hips", "RightUpLeg", "RightLeg", "RightFoot", "RightToeBase", "LeftUpLeg", "LeftLeg", "LeftFoot",
    "LeftToeBase", "Spine", "Spine1", "Spine2", "Neck", "Head", "RightShoulder", "RightArm", "RightForeArm",
    "RightHand", "LeftShoulder", "LeftArm", "LeftForeArm", "LeftHand",
)  # fmt: skip
#: its LAFAN loader lowers ``Spine1`` (the point it pins the robot pelvis to) by this much [m]
LAFAN_SPINE1_DROP = 0.06
HAND_LENGTH_RATIO = 0.7  # wrist -> middle fingertip over elbow -> wrist, adult average


def _joint(j: np.ndarray, spec) -> np.ndarray:
    if isinstance(spec, str):
        return j[:, _I(spec)]
    a, b, s = spec
    return j[:, _I(a)] * (1 - s) + j[:, _I(b)] * s


def lafan_layout(j: np.ndarray) -> np.ndarray:
    """(T, 18, 3) ours -> (T, 22, 3) holosoma LAFAN layout in its y-up file convention ([x, z, y]).

    ``Spine1`` is put ``LAFAN_SPINE1_DROP`` above our pelvis so that after its loader's drop it
    lands on the pelvis, the robot point it is matched to.
    """
    up = np.array([0.0, 0.0, LAFAN_SPINE1_DROP])
    cols = {"Hips": j[:, _I("pelvis")], "Spine": j[:, _I("spine")], "Spine1": j[:, _I("pelvis")] + up,
            "Spine2": _joint(j, ("spine", "neck", 0.5)), "Neck": j[:, _I("neck")], "Head": j[:, _I("head")]}  # fmt: skip
    for s in ("Left", "Right"):
        lo = s.lower()
        cols.update({
            f"{s}UpLeg": j[:, _I(f"{lo}_hip")], f"{s}Leg": j[:, _I(f"{lo}_knee")],
            f"{s}Foot": j[:, _I(f"{lo}_ankle")], f"{s}ToeBase": j[:, _I(f"{lo}_toe")],
            f"{s}Shoulder": _joint(j, ("neck", f"{lo}_shoulder", 0.5)), f"{s}Arm": j[:, _I(f"{lo}_shoulder")],
            f"{s}ForeArm": j[:, _I(f"{lo}_elbow")], f"{s}Hand": j[:, _I(f"{lo}_wrist")],
        })  # fmt: skip
    return np.stack([cols[n] for n in LAFAN_NAMES], 1)[..., [0, 2, 1]]


def mocap_names() -> list[str]:
    """holosoma's 53 mocap joint names (its MOCAP_DEMO_JOINTS order)."""
    fingers = [f"{f}{k}" for f in ("Thumb", "Index", "Middle", "Ring", "Pinky") for k in (1, 2, 3)]
    names = ["Hips", "Spine", "Spine1", "Neck", "Head"]
    for s in ("Left", "Right"):
        names += [f"{s}Shoulder", f"{s}Arm", f"{s}ForeArm", f"{s}Hand"] + [f"{s}Hand{f}" for f in fingers]
    for s in ("Left", "Right"):
        names += [f"{s}UpLeg", f"{s}Leg", f"{s}Foot", f"{s}ToeBase"]
    return names + ["LeftFootMod", "RightFootMod"]


def mocap_layout(j: np.ndarray) -> np.ndarray:
    """(T, 18, 3) ours -> (T, 53, 3) holosoma mocap layout; ``Spine1`` (its robot-pelvis point) = our pelvis.

    Fingers lie on the forearm line past the wrist (the climbing mapping tracks the middle fingertip).
    """
    cols: dict[str, np.ndarray] = {
        "Hips": j[:, _I("pelvis")], "Spine": j[:, _I("spine")], "Spine1": j[:, _I("pelvis")],
        "Neck": j[:, _I("neck")], "Head": j[:, _I("head")],
    }  # fmt: skip
    for s in ("Left", "Right"):
        lo = s.lower()
        wrist, elbow = j[:, _I(f"{lo}_wrist")], j[:, _I(f"{lo}_elbow")]
        tip = wrist + HAND_LENGTH_RATIO * (wrist - elbow)
        cols.update({
            f"{s}Shoulder": _joint(j, ("neck", f"{lo}_shoulder", 0.5)), f"{s}Arm": j[:, _I(f"{lo}_shoulder")],
            f"{s}ForeArm": elbow, f"{s}Hand": wrist, f"{s}UpLeg": j[:, _I(f"{lo}_hip")],
            f"{s}Leg": j[:, _I(f"{lo}_knee")], f"{s}Foot": j[:, _I(f"{lo}_ankle")],
            f"{s}ToeBase": j[:, _I(f"{lo}_toe")], f"{s}FootMod": j[:, _I(f"{lo}_ankle")],
        })  # fmt: skip
        for f in ("Thumb", "Index", "Middle", "Ring", "Pinky"):
            for k in (1, 2, 3):
                cols[f"{s}Hand{f}{k}"] = wrist + (k / 3) * (tip - wrist)
    return np.stack([cols[n] for n in mocap_names()], 1)


# -- GMR: body positions and bone-frame rotations -------------------------------------------------

#: GMR's bvh_to_g1 human bodies -> (our joint for its position, our bone frame for its rotation).
GMR_BODIES = {
    "Hips": ("pelvis", "pelvis"), "Spine2": (("spine", "neck", 0.5), "torso"),
    "LeftUpLeg": ("left_hip", "left_thigh"), "LeftLeg": ("left_knee", "left_shin"),
    "LeftFootMod": ("left_ankle", "left_foot"), "RightUpLeg": ("right_hip", "right_thigh"),
    "RightLeg": ("right_knee", "right_shin"), "RightFootMod": ("right_ankle", "right_foot"),
    "LeftArm": ("left_shoulder", "left_upper_arm"), "LeftForeArm": ("left_elbow", "left_forearm"),
    "LeftHand": ("left_wrist", "left_forearm"), "RightArm": ("right_shoulder", "right_upper_arm"),
    "RightForeArm": ("right_elbow", "right_forearm"), "RightHand": ("right_wrist", "right_forearm"),
}  # fmt: skip


def _unit(v: np.ndarray) -> np.ndarray:
    return v / np.maximum(np.linalg.norm(v, axis=-1, keepdims=True), 1e-9)


def _frame(primary: np.ndarray, secondary: np.ndarray) -> np.ndarray:
    """(T, 3, 3) rotation with columns [primary, secondary made orthogonal, their cross]."""
    x = _unit(primary)
    y = _unit(secondary - np.sum(secondary * x, -1, keepdims=True) * x)
    return np.stack([x, y, np.cross(x, y)], -1)


def bone_frames(j: np.ndarray, foot_pitch: np.ndarray | None = None) -> dict[str, np.ndarray]:
    """Per-frame bone frames (T, 3, 3) from joint positions (T, 18, 3) only.

    A limb's twist comes from its bend plane (knee / elbow axis), falling back smoothly to the
    pelvis / shoulder line when the limb is straight. ``foot_pitch`` (T, 2) overrides the
    ankle->toe pitch (rad) so a flat human foot maps to a flat robot foot.
    """
    P = lambda n: j[:, _I(n)]  # noqa: E731
    up = np.broadcast_to([0.0, 0.0, 1.0], (len(j), 3))
    hip_left = _unit(P("left_hip") - P("right_hip"))
    sh_left = _unit(P("left_shoulder") - P("right_shoulder"))
    out = {"pelvis": _frame(hip_left, P("neck") - P("pelvis")), "torso": _frame(sh_left, P("neck") - P("spine"))}
    for k, s in enumerate(("left", "right")):
        thigh, shin = _unit(P(f"{s}_knee") - P(f"{s}_hip")), _unit(P(f"{s}_ankle") - P(f"{s}_knee"))
        knee_axis = np.cross(thigh, shin) + 0.3 * hip_left
        out[f"{s}_thigh"], out[f"{s}_shin"] = _frame(thigh, knee_axis), _frame(shin, knee_axis)
        upper, fore = _unit(P(f"{s}_elbow") - P(f"{s}_shoulder")), _unit(P(f"{s}_wrist") - P(f"{s}_elbow"))
        elbow_axis = -np.cross(upper, fore) + 0.3 * sh_left
        out[f"{s}_upper_arm"], out[f"{s}_forearm"] = _frame(upper, elbow_axis), _frame(fore, elbow_axis)
        toe = P(f"{s}_toe") - P(f"{s}_ankle")
        if foot_pitch is not None:
            yaw = np.arctan2(toe[:, 1], toe[:, 0])
            pt = foot_pitch[:, k]
            toe = np.stack([np.cos(pt) * np.cos(yaw), np.cos(pt) * np.sin(yaw), np.sin(pt)], 1)
        out[f"{s}_foot"] = _frame(toe, up)
    return out


def _pitch(v: np.ndarray) -> np.ndarray:
    return np.arcsin(np.clip(_unit(v)[..., 2], -1, 1))


def gmr_inputs(human: np.ndarray, contacts: np.ndarray) -> tuple[list[str], np.ndarray, np.ndarray]:
    """(body names, positions (T, B, 3), rest->human bone rotations (T, B, 3, 3)) for GMR.

    The rotation is D = B_human(t) B_robot_rest^T, world frame; applied to a robot body at its
    rest orientation it gives the orientation GMR's target should have. The ankle->toe pitch is
    re-based on the planted-foot pitch, as our own targets do (a human ankle sits higher above
    the toes than the G1's), so both solvers see the same foot targets.
    """
    rest = robot_keypoints().rest_points
    rest_j = np.stack([rest[n] for n in HUMAN_JOINTS])[None]
    pitch_r = np.array([_pitch(rest_j[0, _I(f"{s}_toe")] - rest_j[0, _I(f"{s}_ankle")]) for s in ("left", "right")])
    pitch_h = np.stack([_pitch(human[:, _I(f"{s}_toe")] - human[:, _I(f"{s}_ankle")]) for s in ("left", "right")], 1)
    for k in range(2):
        ref = pitch_h[contacts[:, k], k] if contacts[:, k].any() else pitch_h[:, k]
        pitch_h[:, k] += pitch_r[k] - np.median(ref)
    Bh = bone_frames(human, pitch_h)
    Br = bone_frames(rest_j, pitch_r[None])
    names = list(GMR_BODIES)
    pos = np.stack([_joint(human, GMR_BODIES[n][0]) for n in names], 1)
    rot = np.stack([Bh[GMR_BODIES[n][1]] @ Br[GMR_BODIES[n][1]][0].T for n in names], 1)
    return names, pos, rot


# -- terrain as boxes --------------------------------------------------------------------------


def terrain_boxes(terrain: Terrain, tol: float = 5e-4) -> tuple[float, np.ndarray]:
    """(floor height, boxes (N, 2, 3) as [min corner, max corner]) covering the heightfield's solid.

    Cells of one height level are merged greedily into rectangles; each box rises from the floor
    (the lowest known height) to its level. Unknown cells count as floor.
    """
    field = terrain.field
    H = np.asarray(field.heights, np.float64)
    floor = float(np.nanmin(H))
    H = np.where(np.isfinite(H), H, floor)
    res, (ox, oy) = field.resolution, field.origin_xy
    boxes = []
    for level in np.unique(np.round(H[floor + tol < H], 4)):
        mask = np.abs(H - level) < tol
        while mask.any():
            r, c = np.argwhere(mask)[0]
            c1 = c
            while c1 < mask.shape[1] and mask[r, c1]:
                c1 += 1
            r1 = r
            while r1 < mask.shape[0] and mask[r1, c:c1].all():
                r1 += 1
            mask[r:r1, c:c1] = False
            lo = [ox + (c - 0.5) * res, oy + (r - 0.5) * res, floor]
            hi = [ox + (c1 - 0.5) * res, oy + (r1 - 0.5) * res, float(level)]
            boxes.append([lo, hi])
    return floor, np.array(boxes, np.float64).reshape(-1, 2, 3)
