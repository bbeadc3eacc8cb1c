"""BVH reader (CMU cgspeed, LAFAN1, Mixamo-style names) -> HumanMotion in metres, z up.

Units and the up axis are *detected* from the skeleton (a human leg is 0.55-1.2 m; the spine
points up) and reported in ``conventions``; when detection is ambiguous the reader refuses and
asks for ``units=`` / ``up=`` instead of guessing. Known unit factors: m, cm, mm, inch and the
CMU ASF unit (0.056444 m, per the CMU FAQ).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from scipy.spatial.transform import Rotation

from videomimic_offline.body.skeleton import HUMAN_JOINTS
from videomimic_offline.contracts.human_motion import HumanMotion, from_named_joints
from videomimic_offline.errors import InputError

UNITS: dict[str, float] = {"m": 1.0, "cm": 0.01, "mm": 0.001, "inch": 0.0254, "cmu": 0.056444}
LEG_RANGE_M = (0.55, 1.2)

#: Candidate BVH joint names (lower-case, punctuation removed) for each skeleton joint, best first.
NAME_CANDIDATES: dict[str, tuple[str, ...]] = {
    "pelvis": ("hips", "pelvis", "hip", "root"),
    "spine": ("spine", "spine1", "lowerback", "chest"),
    "neck": ("neck", "neck1"),
    "head": ("head",),
}
for _s, _l in (("left", "l"), ("right", "r")):
    NAME_CANDIDATES.update({
        f"{_s}_hip": (f"{_s}upleg", f"{_s}thigh", f"{_s}hip", f"{_l}hip", f"{_l}thigh"),
        f"{_s}_knee": (f"{_s}leg", f"{_s}lowerleg", f"{_s}shin", f"{_s}knee", f"{_l}knee", f"{_l}shin"),
        f"{_s}_ankle": (f"{_s}foot", f"{_s}ankle", f"{_l}ankle", f"{_l}foot"),
        f"{_s}_toe": (f"{_s}toebase", f"{_s}toe", f"{_s}toes", f"{_l}toe", f"{_s}foottoe"),
        f"{_s}_shoulder": (f"{_s}arm", f"{_s}upperarm", f"{_l}shoulder", f"{_s}shoulder"),
        f"{_s}_elbow": (f"{_s}forearm", f"{_s}lowerarm", f"{_s}elbow", f"{_l}elbow"),
        f"{_s}_wrist": (f"{_s}hand", f"{_s}wrist", f"{_l}wrist", f"{_l}hand"),
    })  # fmt: skip


@dataclass
class BvhSkeleton:
    names: list[str] = field(default_factory=list)
    parents: list[int] = field(default_factory=list)
    offsets: list[np.ndarray] = field(default_factory=list)
    channels: list[list[str]] = field(default_factory=list)


def _norm(name: str) -> str:
    return re.sub(r"[^a-z0-9]", "", name.split(":")[-1].lower())


def parse(path: Path) -> tuple[BvhSkeleton, np.ndarray, float]:
    """(skeleton, motion channels (T, C), frame time)."""
    try:
        text = Path(path).read_text(errors="replace")
    except OSError as exc:
        raise InputError(f"cannot read {path}: {exc}") from exc
    if "HIERARCHY" not in text or "MOTION" not in text:
        raise InputError(f"{path} is not a BVH file (no HIERARCHY/MOTION sections)")
    head, motion = text.split("MOTION", 1)
    sk = BvhSkeleton()
    stack: list[int] = []
    tokens = head.split()
    i = 0
    pending_end = False
    while i < len(tokens):
        tok = tokens[i]
        if tok in ("ROOT", "JOINT"):
            sk.names.append(tokens[i + 1])
            sk.parents.append(stack[-1] if stack else -1)
            sk.offsets.append(np.zeros(3))
            sk.channels.append([])
            i += 2
            continue
        if tok == "End":
            pending_end = True
            i += 2
            continue
        if tok == "{":
            stack.append(-2 if pending_end else len(sk.names) - 1)
            pending_end = False
        elif tok == "}":
            stack.pop()
        elif tok == "OFFSET" and stack and stack[-1] >= 0:
            sk.offsets[stack[-1]] = np.array([float(x) for x in tokens[i + 1 : i + 4]])
            i += 4
            continue
        elif tok == "OFFSET":
            i += 4
            continue
        elif tok == "CHANNELS":
            n = int(tokens[i + 1])
            sk.channels[stack[-1]] = tokens[i + 2 : i + 2 + n]
            i += 2 + n
            continue
        i += 1
    lines = [ln for ln in motion.strip().splitlines() if ln.strip()]
    try:
        n_frames = int(lines[0].split(":")[1])
        frame_time = float(lines[1].split(":")[1])
        data = np.array([[float(x) for x in ln.split()] for ln in lines[2 : 2 + n_frames]])
    except (IndexError, ValueError) as exc:
        raise InputError(f"{path}: unreadable MOTION section ({exc})") from exc
    n_ch = sum(len(c) for c in sk.channels)
    if data.ndim != 2 or data.shape[1] != n_ch:
        raise InputError(f"{path}: motion rows have {data.shape[-1]} values but the hierarchy declares {n_ch} channels")
    return sk, data, frame_time


def forward_kinematics(sk: BvhSkeleton, data: np.ndarray) -> np.ndarray:
    """(T, N, 3) joint positions in file units and axes."""
    T = len(data)
    N = len(sk.names)
    pos = np.zeros((T, N, 3))
    rot: list[Rotation] = []
    col = 0
    for j in range(N):
        chans = sk.channels[j]
        vals = data[:, col : col + len(chans)]
        col += len(chans)
        trans = np.tile(sk.offsets[j], (T, 1))
        axes = ""
        angles = []
        for c, v in zip(chans, vals.T, strict=True):
            if c.endswith("position"):
                trans[:, "XYZ".index(c[0].upper())] += v
            elif c.endswith("rotation"):
                axes += c[0].upper()
                angles.append(v)
        local = Rotation.from_euler(axes, np.stack(angles, 1), degrees=True) if axes else Rotation.identity(T)
        p = sk.parents[j]
        if p < 0:
            pos[:, j] = trans
            rot.append(local)
        else:
            pos[:, j] = pos[:, p] + rot[p].apply(trans)
            rot.append(rot[p] * local)
    return pos


def _chain_length(sk: BvhSkeleton, child: int, ancestor: int) -> float:
    total, j = 0.0, child
    while j != ancestor and j >= 0:
        total += float(np.linalg.norm(sk.offsets[j]))
        j = sk.parents[j]
    return total


def map_joints(sk: BvhSkeleton, path: Path) -> dict[str, int]:
    """HUMAN_JOINTS name -> BVH joint index; wrong skeleton / missing joints fail clearly."""
    norm = {_norm(n): i for i, n in enumerate(sk.names)}
    found, missing = {}, []
    for joint in HUMAN_JOINTS:
        idx = next((norm[c] for c in NAME_CANDIDATES[joint] if c in norm), None)
        if idx is None:
            missing.append(joint)
        else:
            found[joint] = idx
    if len(found) < len(HUMAN_JOINTS) // 2:
        raise InputError(
            f"{path}: wrong skeleton: BVH joints {sk.names[:6]}... are not a human skeleton this reader "
            "knows (CMU, LAFAN1, Mixamo names); rename the joints or convert the file"
        )
    if missing:
        raise InputError(f"{path}: missing joints {missing} (BVH joints: {sk.names}); the retargeter needs all of them")
    return found


def detect_units(sk: BvhSkeleton, found: dict[str, int], path: Path) -> str:
    """Pick the unit whose implied leg length (hip-knee-ankle) is human; refuse if 0 or 2 fit."""
    leg = _chain_length(sk, found["left_ankle"], found["left_hip"])
    fits = [u for u, f in UNITS.items() if LEG_RANGE_M[0] <= leg * f <= LEG_RANGE_M[1]]
    if len(fits) != 1:
        raise InputError(
            f"{path}: cannot tell the length unit (leg = {leg:.3g} file units fits {fits or 'none'} of "
            f"{list(UNITS)}); pass units=... (--units) explicitly"
        )
    return fits[0]


def detect_up(sk: BvhSkeleton, found: dict[str, int], path: Path) -> str:
    """The axis the rest-pose spine (pelvis -> head) points along, e.g. '+y'."""
    v = np.zeros(3)
    j = found["head"]
    while j != found["pelvis"] and j >= 0:
        v += sk.offsets[j]
        j = sk.parents[j]
    k = int(np.argmax(np.abs(v)))
    if np.abs(v[k]) < 0.8 * np.linalg.norm(v):
        raise InputError(f"{path}: the rest pose is not upright; pass up=... (--up y|z) explicitly")
    return ("+" if v[k] > 0 else "-") + "xyz"[k]


def _to_z_up(p: np.ndarray, up: str) -> np.ndarray:
    """Proper rotation taking the ``up`` axis to +z."""
    x, y, z = p[..., 0], p[..., 1], p[..., 2]
    table = {
        "+z": (x, y, z), "-z": (x, -y, -z), "+y": (x, -z, y), "-y": (x, z, -y), "+x": (-z, y, x), "-x": (z, y, -x),
    }  # fmt: skip
    if up not in table:
        raise InputError(f"unknown up axis {up!r}; use one of {list(table)}")
    return np.stack(table[up], axis=-1)


def read_bvh(path: Path, units: str = "auto", up: str = "auto", floor: str = "auto") -> HumanMotion:
    """Read a BVH into HumanMotion. ``floor='auto'`` puts the lowest feet on z = 0 (reported)."""
    path = Path(path)
    sk, data, frame_time = parse(path)
    found = map_joints(sk, path)
    conv = {}
    if units == "auto":
        units = detect_units(sk, found, path)
        conv["units"] = f"{units} (detected from leg length)"
    else:
        conv["units"] = f"{units} (declared)"
    if units not in UNITS:
        raise InputError(f"unknown unit {units!r}; use one of {list(UNITS)}")
    if up == "auto":
        up = detect_up(sk, found, path)
        conv["up"] = f"{up} (detected from the rest-pose spine)"
    else:
        up = up if up[0] in "+-" else "+" + up
        conv["up"] = f"{up} (declared)"
    pos = forward_kinematics(sk, data) * UNITS[units]
    pos = _to_z_up(pos, up)
    names = list(HUMAN_JOINTS)
    joints = pos[:, [found[n] for n in names]]
    if floor == "auto":
        feet = joints[:, [HUMAN_JOINTS.index("left_toe"), HUMAN_JOINTS.index("right_toe")], 2]
        shift = float(np.percentile(feet.min(axis=1), 5))
        joints[..., 2] -= shift
        conv["floor"] = f"shifted by {-shift:+.3f} m so the lowest toes touch z = 0"
    else:
        conv["floor"] = "kept as in the file"
    # cgspeed's CMU conversions (and some exporters) start with a T-pose reference frame
    step = np.linalg.norm(np.diff(joints, axis=0), axis=-1).max(axis=1)
    if len(step) > 2 and step[0] > 0.1 and step[0] > 10 * np.median(step[1:]):
        joints = joints[1:]
        conv["first_frame"] = f"dropped: frame 0 jumps {step[0]:.2f} m to frame 1 (a T-pose reference)"
    if frame_time <= 0:
        raise InputError(f"{path}: Frame Time is {frame_time}; fix the header")
    return from_named_joints(names, joints, fps=1.0 / frame_time, source=str(path), conventions=conv)
