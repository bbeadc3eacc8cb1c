"""The person in the camera frame, before any world geometry: the body size is the metric ruler.

MediaPipe's per-frame 3D pose (or any detector's) is rescaled to the template's bone lengths and
placed by a linear least-squares solve of its 2D reprojection, so its camera depth follows from
the known body size. Also here: which hidden joints lie behind which visible body part (the
occlusion term's data) and the pose prior's lean correction.
"""

from __future__ import annotations

import numpy as np

from videomimic_offline.body.skeleton import HUMAN_JOINTS, HUMAN_PARENTS, index

PELVIS, NECK = index("pelvis"), index("neck")


def fill_missing(x: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Linear interpolation over frames where ``valid`` is False (held at the ends)."""
    out = x.copy()
    if valid.all() or not valid.any():
        return out
    t = np.arange(len(x))
    flat = x.reshape(len(x), -1)
    filled = np.stack([np.interp(t, t[valid], flat[valid, k]) for k in range(flat.shape[1])], axis=1)
    return filled.reshape(x.shape)


def prior_from_ray(local3d: np.ndarray, kp2d: np.ndarray, K: np.ndarray, fraction: float = 1.0) -> np.ndarray:
    """(T,J,3) per-frame 3D pose estimates (pelvis-centred) turned from the person's viewing ray
    into the camera's axes.

    A keypoint model sees the person in a crop centred on them: its 3D pose is what a camera
    looking along the ray through the crop's centre would see. Off the image's centre that ray is
    turned from the optical axis (by ~30 deg at the edge of a wide phone frame), and so is the
    estimated pose: a walker crossing a tripod's view seems to turn towards the camera as they
    pass. Each frame is turned about the camera's vertical (y) axis by the horizontal angle of the
    ray through its pelvis keypoint, times ``fraction`` (frames without one are left as they are).
    Only the horizontal angle: MediaPipe's lean (about the camera's x axis) did not follow the
    ray's vertical angle, and the fit corrects the lean separately (``unlean_towards_camera``).
    On the three tripod dev clips, W-MPJPE went 205 -> 175, 436 -> 396 and 891 -> 872 mm (half
    the angle: 188, 406, 880).
    """
    c = np.asarray(kp2d, float)[:, PELVIS]
    yaw = fraction * np.arctan2((c[:, 0] - K[0, 2]) / K[0, 0], 1.0)
    yaw = np.where(np.isfinite(yaw), yaw, 0.0)
    cy, sy = np.cos(yaw), np.sin(yaw)
    R = np.zeros((len(c), 3, 3))
    R[:, 0, 0], R[:, 0, 2], R[:, 1, 1], R[:, 2, 0], R[:, 2, 2] = cy, sy, 1.0, -sy, cy  # takes +z to the ray
    return np.einsum("tij,tkj->tki", R, local3d)


def rescale_local(local3d: np.ndarray, valid: np.ndarray, bones: np.ndarray) -> np.ndarray:
    """Scale MediaPipe's 3D pose so its median bone lengths match the template (one factor per clip)."""
    par = np.array(HUMAN_PARENTS)
    ch = np.flatnonzero(par >= 0)
    lens = np.linalg.norm(local3d[valid][:, ch] - local3d[valid][:, par[ch]], axis=2)
    ratio = np.median(bones[ch][None] / np.maximum(lens, 1e-6), axis=0)
    return local3d * float(np.median(ratio))


def place_in_camera(local: np.ndarray, kp2d: np.ndarray, conf: np.ndarray, K: np.ndarray) -> np.ndarray:
    """(T,3) translation putting each frame's metric local pose onto its 2D keypoints (linear LS)."""
    fx, fy, cx, cy = K[0, 0], K[1, 1], K[0, 2], K[1, 2]
    T = len(local)
    tau = np.zeros((T, 3))
    for t in range(T):
        w = conf[t]
        ok = w > 0  # conf is already cut at the config's min_keypoint_conf
        if ok.sum() < 4 or not np.isfinite(local[t]).all():
            tau[t] = np.nan
            continue
        X, Y, Z = local[t, ok].T
        u, v = kp2d[t, ok].T
        a, b = (u - cx) / fx, (v - cy) / fy
        # fx(X+tx) = (u-cx)(Z+tz) -> tx - a tz = a Z - X ; same for y
        n = ok.sum()
        A = np.zeros((2 * n, 3))
        A[:n, 0], A[:n, 2] = 1.0, -a
        A[n:, 1], A[n:, 2] = 1.0, -b
        rhs = np.concatenate([a * Z - X, b * Z - Y])
        sw = np.sqrt(np.concatenate([w[ok], w[ok]]))
        tau[t] = np.linalg.lstsq(A * sw[:, None], rhs * sw, rcond=None)[0]
    return tau


def unlean_towards_camera(rel_w: np.ndarray, R_wc: np.ndarray, keep: float, upto_deg: float = 15.0) -> np.ndarray:
    """Scale the trunk's lean along the horizontal viewing direction of a pose prior by ``keep``.

    ``rel_w`` (T,J,3) pelvis-relative joints in the gravity-aligned world (z up), ``R_wc`` (T,3,3)
    camera-to-world rotations. A monocular 3D pose estimate sees the body's tilt towards or away
    from the camera only through tiny foreshortening, so that tilt is its least certain degree of
    freedom, and the 2D keypoints cannot correct it either; gravity is known here. Each frame's
    whole pose is rotated about the horizontal axis perpendicular to the view so that the
    pelvis-to-neck lean along the view becomes ``keep`` times its estimated value (sideways lean,
    which the image shows, is untouched). Only the first ``upto_deg`` of lean are shrunk: a real
    bend towards the camera (picking something up) is far larger than the estimator's typical
    error there (up to ~10 deg on synthetic clips) and keeps its excess.
    """
    from scipy.spatial.transform import Rotation

    fwd = R_wc[:, :, 2].copy()
    fwd[:, 2] = 0
    fwd /= np.linalg.norm(fwd, axis=1, keepdims=True) + 1e-9
    axis = np.cross(np.array([0.0, 0.0, 1.0]), fwd)  # horizontal, perpendicular to the view
    d = rel_w[:, NECK] - rel_w[:, PELVIS]
    d /= np.linalg.norm(d, axis=1, keepdims=True) + 1e-9
    lean = np.arcsin(np.clip(np.sum(d * fwd, axis=1), -1, 1))  # + = leaning away from the camera
    # a rotation by +a about up x fwd tips the top towards +fwd, so undo (1 - keep) of the lean
    fix = (1 - keep) * np.clip(lean, -np.radians(upto_deg), np.radians(upto_deg))
    rot = Rotation.from_rotvec(-axis * fix[:, None])
    return np.einsum("tij,tkj->tki", rot.as_matrix(), rel_w)


#: Capsule radii (m, for a 1.70 m person) for occlusion reasoning: the hidden joints' own, and the
#: body segments that can hide them (torso as three capsules, upper and lower limbs).
_JOINT_RADIUS = {"wrist": 0.03, "elbow": 0.04, "knee": 0.05, "ankle": 0.04, "toe": 0.03, "head": 0.09}
_SEGMENTS = (  # (joint a, joint b, radius)
    ("left_hip", "left_shoulder", 0.09), ("right_hip", "right_shoulder", 0.09), ("pelvis", "neck", 0.11),
    ("left_shoulder", "left_elbow", 0.045), ("left_elbow", "left_wrist", 0.035),
    ("right_shoulder", "right_elbow", 0.045), ("right_elbow", "right_wrist", 0.035),
    ("left_hip", "left_knee", 0.07), ("left_knee", "left_ankle", 0.05),
    ("right_hip", "right_knee", 0.07), ("right_knee", "right_ankle", 0.05),
)  # fmt: skip


def occlusion_pairs(
    kp2d: np.ndarray, conf: np.ndarray, depth: np.ndarray, K: np.ndarray, height_m: float
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Which visible body segment hides each joint that the detector reports as not visible.

    MediaPipe still places a hidden joint (its 2D is usually close) but guesses its depth, and puts
    the far-side arm of a side view well in front of where it is. A joint that is not visible
    although its 2D position lies on the image of a visible part of the same body must be behind
    that part (limbs do not pass through each other). ``conf`` (T,J) is 0 where not visible and
    ``depth`` (T,) the person's rough camera distance (pixel radii). Returns index arrays (frame,
    joint, segment end a, segment end b), the position ``s`` in [0,1] along the segment, and the
    minimum depth gap (sum of both radii) for each hidden joint that lies on a visible segment.
    """
    size = height_m / 1.70
    seg = np.array([(index(a), index(b)) for a, b, _ in _SEGMENTS])
    rad = np.array([r for *_, r in _SEGMENTS]) * size
    rj = np.array([_JOINT_RADIUS.get(n.split("_")[-1], np.nan) for n in HUMAN_JOINTS]) * size
    par = np.array(HUMAN_PARENTS)
    vis = conf > 0
    uv = np.nan_to_num(kp2d, nan=-1e6)
    inside = (uv[..., 0] >= 0) & (uv[..., 0] < 2 * K[0, 2]) & (uv[..., 1] >= 0) & (uv[..., 1] < 2 * K[1, 2])
    hidden = ~vis & inside & np.isfinite(rj)[None] & np.isfinite(depth)[:, None]  # (T,J)
    pa, pb = uv[:, seg[:, 0]], uv[:, seg[:, 1]]  # (T,S,2)
    d = pb - pa
    rel = uv[:, :, None] - pa[:, None]  # (T,J,S,2)
    s = np.clip((rel * d[:, None]).sum(-1) / np.maximum((d * d).sum(-1), 1e-9)[:, None], 0.0, 1.0)
    dist = np.linalg.norm(rel - s[..., None] * d[:, None], axis=-1)  # px
    dist /= rad[None, None] * K[0, 0] / np.maximum(np.nan_to_num(depth, nan=1.0), 0.1)[:, None, None]
    own = (seg[None, :, 0] == np.arange(len(par))[:, None]) | (seg[None, :, 1] == np.arange(len(par))[:, None])
    own |= (seg[None, :, 0] == par[:, None]) | (seg[None, :, 1] == par[:, None])  # (J,S): its own limb
    ok = hidden[..., None] & ~own[None] & (vis[:, seg[:, 0]] & vis[:, seg[:, 1]])[:, None] & (dist < 1)
    dist = np.where(ok, dist, np.inf)
    best = np.argmin(dist, axis=2)  # (T,J)
    t, j = np.nonzero(np.isfinite(np.min(dist, axis=2)))
    k = best[t, j]
    return t, j, seg[k, 0], seg[k, 1], s[t, j, k], rad[k] + rj[j]
