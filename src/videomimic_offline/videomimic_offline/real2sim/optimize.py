"""Joint human-scene optimisation: metric, gravity-aligned world motion from 2D keypoints + SfM.

Steps (each cheap, the last one the real optimisation):
1. per-frame camera-frame body: MediaPipe's 3D pose rescaled to the template bone lengths, placed
   by a linear least-squares solve of its 2D reprojection (depth from known body size);
2. a first SfM scale: the feet's metric depth vs. the SfM scene depth at the same pixels (the
   person's height is the ruler, as MegaHunter's scale variable against its point map);
3. gravity: shared normal of the horizontal scene planes (fallback: the person's spine), floor z=0;
4. torch L-BFGS over all world joints: robust confidence-weighted 2D reprojection, bone lengths,
   local-pose prior (its lean along the view partly removed, see ``unlean_towards_camera``),
   temporal smoothness and hidden joints behind the body part hiding them (``occlusion_pairs``);
   this first pass does not see the scene, so its body-to-camera offsets are metric;
5. the final scale from that pass: stance feet's ground points lie on the scene surface along
   their camera rays (``scale_from_stance_rays``);
6. a second pass adding foot contacts (no sliding) and feet on the surface (robust), with contacts
   detected on the first pass's result rather than on the jittery per-frame initialisation.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np
from scipy.signal import butter, filtfilt

from videomimic_offline.body.skeleton import HUMAN_JOINTS, HUMAN_PARENTS, index
from videomimic_offline.errors import InputError, NumericalError
from videomimic_offline.real2sim import gravity as grav
from videomimic_offline.real2sim.body_template import bone_lengths
from videomimic_offline.real2sim.keypoints import BODY_MODEL_SOLE_DROP, landmark_bone_scale, sole_drop

PELVIS, NECK = index("pelvis"), index("neck")
LHIP, RHIP = index("left_hip"), index("right_hip")
SPINE = index("spine")
FEET = (index("left_ankle"), index("right_ankle"))
TOES = (index("left_toe"), index("right_toe"))


@dataclass
class OptInputs:
    kp2d: np.ndarray  # (T,J,2) px
    conf: np.ndarray  # (T,J)
    local3d: np.ndarray  # (T,J,3) camera axes, metric-ish, NaN where missing
    K: np.ndarray  # (3,3)
    T_world_cam: np.ndarray  # (T,4,4) SfM frame
    points: np.ndarray  # (N,3) SfM frame
    fps: float
    height_m: float  # the metric ruler (the one place the fit reads the height from)
    keypoint_backend: str  # which detector produced kp2d (its landmarks' bone and sole offsets)


@dataclass
class OptResult:
    joints_w: np.ndarray  # (T,J,3) final world (z up, floor z=0)
    contacts: np.ndarray  # (T,2) bool
    T_world_cam: np.ndarray  # (T,4,4) metric, gravity aligned
    points: np.ndarray  # (N,3) metric, gravity aligned
    scale: float  # metres per SfM unit
    T_align: np.ndarray  # (4,4) maps scaled SfM frame -> final world
    info: dict


def _fill_missing(x: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Linear interpolation over frames where ``valid`` is False (held at the ends)."""
    out = x.copy()
    if valid.all() or not valid.any():
        return out
    t = np.arange(len(x))
    flat = x.reshape(len(x), -1)
    filled = np.stack([np.interp(t, t[valid], flat[valid, k]) for k in range(flat.shape[1])], axis=1)
    return filled.reshape(x.shape)


def rescale_local(local3d: np.ndarray, valid: np.ndarray, bones: np.ndarray) -> np.ndarray:
    """Scale MediaPipe's 3D pose so its median bone lengths match the template (one factor per clip)."""
    par = np.array(HUMAN_PARENTS)
    ch = np.flatnonzero(par >= 0)
    lens = np.linalg.norm(local3d[valid][:, ch] - local3d[valid][:, par[ch]], axis=2)
    ratio = np.median(bones[ch][None] / np.maximum(lens, 1e-6), axis=0)
    return local3d * float(np.median(ratio))


def place_in_camera(
    local: np.ndarray, kp2d: np.ndarray, conf: np.ndarray, K: np.ndarray, min_conf: float
) -> np.ndarray:
    """(T,3) translation putting each frame's metric local pose onto its 2D keypoints (linear LS);
    keypoints below ``min_conf`` are left out."""
    fx, fy, cx, cy = K[0, 0], K[1, 1], K[0, 2], K[1, 2]
    T = len(local)
    tau = np.zeros((T, 3))
    for t in range(T):
        w = conf[t]
        ok = (w > 0) & (w >= min_conf)
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


def estimate_scale(
    cam_joints: np.ndarray,
    kp2d: np.ndarray,
    conf: np.ndarray,
    K: np.ndarray,
    T_wc: np.ndarray,
    points: np.ndarray,
    height_m: float,
) -> tuple[float, dict]:
    """Metres per SfM unit: metric depth of the ground under a foot / SfM depth of the scene there.

    The compared point is the ground under the stance foot (ankle-toe midpoint moved down by its
    height above the sole along the body axis), so both depths refer to the same physical point; a
    point above the ground would look up scene depth *behind* the foot and bias the scale low.
    """
    H_img = 2 * K[1, 2]
    radius = 0.04 * H_img
    # the body model's ankle-toe midpoint height above the sole: this first, coarse estimate keeps it
    # for every detector (``scale_from_stance_rays`` then uses the detector's own, keypoints.SOLE_DROP)
    lift = BODY_MODEL_SOLE_DROP * height_m
    ratios = []
    for t in range(len(cam_joints)):
        if not np.isfinite(cam_joints[t]).all():
            continue
        # the lower foot in the image is the likelier one on the ground
        cand = [(f, toe) for f, toe in zip(FEET, TOES) if conf[t, f] > 0.5]
        if not cand:
            continue
        f, toe = max(cand, key=lambda ft: kp2d[t, ft[0], 1])
        down = cam_joints[t, PELVIS] - cam_joints[t, NECK]
        down /= np.linalg.norm(down) + 1e-9
        ground = 0.5 * (cam_joints[t, f] + cam_joints[t, toe]) + lift * down
        if ground[2] <= 0.1:
            continue
        target = (K @ ground)[:2] / ground[2]
        R_cw = T_wc[t, :3, :3].T
        p_c = (points - T_wc[t, :3, 3]) @ R_cw.T
        front = p_c[:, 2] > 1e-6
        if front.sum() < 10:
            continue
        uv = (p_c[front] @ K.T)[:, :2] / p_c[front, 2:3]
        near = np.linalg.norm(uv - target, axis=1) < radius
        if near.sum() < 3:
            continue
        z_sfm = float(np.median(p_c[front][near, 2]))
        if z_sfm > 0:
            ratios.append(ground[2] / z_sfm)
    if len(ratios) < 3:
        raise InputError(
            "the scene around the person's feet was not reconstructed, so the metric scale is unknown: "
            "film the ground the person walks on (textured, in view)"
        )
    r = np.array(ratios)
    med = float(np.median(r))
    good = np.abs(np.log(r / med)) < 0.2
    return float(np.exp(np.mean(np.log(r[good])))), {"scale_samples": len(r), "scale_spread": float(np.std(np.log(r)))}


def scale_from_stance_rays(
    joints: np.ndarray,
    cams: np.ndarray,
    pts: np.ndarray,
    fps: float,
    sole_drop_m: float,
    contact_speed: float,
    radius: float = 0.35,
) -> tuple[float | None, dict]:
    """Scale correction k (about the world origin) from where stance feet meet the scene surface.

    ``joints`` must come from a fit that did not use the scene (the first pass): the body's offset
    from each camera is then metric (bone lengths against the 2D keypoints) and independent of the
    scene scale. For each frame with a slow, lower foot, the ground point under it (``sole_drop_m``
    below the ankle-toe midpoint) lies on the camera ray through it; the same ray meets the scene
    surface there, a plane fitted to the scene points around that ground point. The distances along
    the ray agree only at the right scale, so k = median(metric distance / scene distance).

    Unlike a depth look-up at the foot's pixel (``estimate_scale``), the plane keeps no bias from
    perspective or from the masked-out person around the foot: on synthetic clips the per-frame
    ratio at the true foot pixel scatters 0.8 % (interquartile) against 3-6 % for the median depth.
    """
    from scipy.spatial import cKDTree

    if len(pts) < 50:
        return None, {"stance_scale": "too few scene points"}
    tree = cKDTree(pts)
    T = len(joints)
    ratios = []
    for side, (f, toe) in enumerate(zip(FEET, TOES)):
        p = joints[:, f]
        speed = np.full(T, np.inf)
        speed[1:-1] = np.linalg.norm(p[2:] - p[:-2], axis=1) * fps / 2
        lower = p[:, 2] <= joints[:, FEET[1 - side], 2] + 0.05
        for t in np.flatnonzero((speed < contact_speed) & lower):
            g = 0.5 * (joints[t, f] + joints[t, toe])
            g[2] -= sole_drop_m
            ray = g - cams[t]
            dist = float(np.linalg.norm(ray))
            ray /= dist
            nb = tree.query_ball_point(g, radius)
            if len(nb) < 8:
                continue
            q = pts[nb]
            for _ in range(3):  # least-squares plane, refitted to the points near it (one level of a step)
                mu = q.mean(axis=0)
                normal = np.linalg.svd(q - mu)[2][2]
                close = np.abs((q - mu) @ normal) < 0.03
                if close.all() or close.sum() < 8:
                    break
                q = q[close]
            along = float(normal @ ray)
            if abs(normal[2]) < 0.8 or abs(along) < 0.2:  # a support surface, not seen edge-on
                continue
            hit = float(normal @ (mu - cams[t])) / along
            if hit > 0:
                ratios.append(dist / hit)
    if len(ratios) < 10:
        return None, {"stance_scale": f"only {len(ratios)} stance frames over a reconstructed surface"}
    r = np.log(np.array(ratios))
    k = float(np.exp(np.median(r)))
    info = {
        "stance_scale": k,
        "stance_scale_samples": len(r),
        "stance_scale_iqr": float(np.subtract(*np.percentile(r, [75, 25]))),
    }
    if not 0.8 < k < 1.25:
        info["stance_scale"] = f"rejected {k:.3f}"
        return None, info
    return k, info


def root_quaternions(joints: np.ndarray) -> np.ndarray:
    """(T,4) wxyz pelvis orientation: x forward, y left (hips), z up (pelvis to spine)."""
    from scipy.spatial.transform import Rotation

    y = joints[:, LHIP] - joints[:, RHIP]
    z0 = joints[:, SPINE] - joints[:, PELVIS]
    y /= np.linalg.norm(y, axis=1, keepdims=True) + 1e-9
    z = z0 - np.sum(z0 * y, axis=1, keepdims=True) * y
    z /= np.linalg.norm(z, axis=1, keepdims=True) + 1e-9
    x = np.cross(y, z)
    q = Rotation.from_matrix(np.stack([x, y, z], axis=2)).as_quat()  # xyzw
    q = np.concatenate([q[:, 3:], q[:, :3]], axis=1)
    for t in range(1, len(q)):  # keep the sign continuous
        if q[t] @ q[t - 1] < 0:
            q[t] = -q[t]
    return q


def detect_contacts(joints: np.ndarray, fps: float, speed: float, height: float, floor_z: np.ndarray) -> np.ndarray:
    """(T,2) feet in contact: slow and close to the surface under them."""
    out = np.zeros((len(joints), 2), bool)
    for k, f in enumerate(FEET):
        p = joints[:, f]
        v = np.zeros(len(p))
        v[1:-1] = np.linalg.norm(p[2:] - p[:-2], axis=1) * fps / 2
        v[0], v[-1] = v[1] if len(v) > 2 else 0, v[-2] if len(v) > 2 else 0
        out[:, k] = (v < speed) & (p[:, 2] - floor_z[:, k] < height)
    return out


def lowpass(x: np.ndarray, fps: float, cutoff: float) -> np.ndarray:
    """Zero-phase Butterworth low-pass along time (no lag, like a bidirectional One-Euro)."""
    if cutoff <= 0 or len(x) < 16 or cutoff >= fps / 2:
        return x
    b, a = butter(2, cutoff / (fps / 2))
    return filtfilt(b, a, x, axis=0, padlen=min(len(x) - 1, 12))


def surface_height(points: np.ndarray, xy: np.ndarray, radius: float) -> np.ndarray:
    """Height of the scene under each xy (median z of the highest nearby points; floor 0 if none)."""
    from scipy.spatial import cKDTree

    out = np.zeros(len(xy))
    if len(points) == 0:
        return out
    tree = cKDTree(points[:, :2])
    for i, nb in enumerate(tree.query_ball_point(xy, radius)):
        if len(nb) >= 3:
            z = points[nb, 2]
            out[i] = float(np.percentile(z, 75))
    return np.maximum(out, 0.0)


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


def optimize(inp: OptInputs, cfg, progress: bool = False) -> OptResult:  # type: ignore[no-untyped-def]
    """Run the whole joint optimisation (see module docstring); ``cfg`` is the ``FitConfig``."""
    import torch

    t0 = time.perf_counter()
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # small problem: thread hand-offs cost more than they gain on a shared CPU
    try:
        return _optimize(inp, cfg, t0)
    finally:
        torch.set_num_threads(threads)


def _optimize(inp: OptInputs, cfg, t0: float) -> OptResult:  # type: ignore[no-untyped-def]
    import torch

    T, J = inp.conf.shape
    # fit in the detector's landmark space (see keypoints.MEDIAPIPE_BONE_SCALE)
    bones = bone_lengths(inp.height_m, cfg.body_backend, cfg.smpl_model_dir) * landmark_bone_scale(inp.keypoint_backend)
    conf = np.where(inp.conf >= cfg.min_keypoint_conf, inp.conf, 0.0)
    valid = np.isfinite(inp.local3d).all(axis=(1, 2)) & (conf.sum(axis=1) > 0)
    if valid.sum() < 2:
        raise InputError("the person was not found in enough frames to reconstruct: use a clip where they are visible")
    local = rescale_local(np.nan_to_num(inp.local3d), valid, bones)
    local = _fill_missing(local, valid)
    tau = place_in_camera(local, np.nan_to_num(inp.kp2d), conf, inp.K, cfg.min_keypoint_conf)
    ok_tau = np.isfinite(tau).all(axis=1) & (tau[:, 2] > 0.2)
    if ok_tau.sum() < 2:
        raise InputError("the person's keypoints could not be placed in 3D: is a whole person visible?")
    tau = _fill_missing(np.nan_to_num(tau), ok_tau)
    pinfo: dict = {}
    if cfg.opt_proportions:
        from videomimic_offline.real2sim.proportions import apply_factors, estimate_proportions

        leg, arm, pinfo = estimate_proportions(local, tau, np.nan_to_num(inp.kp2d), conf, inp.K, bones)
        bones = apply_factors(bones, leg, arm)
        local = _fill_missing(rescale_local(np.nan_to_num(inp.local3d), valid, bones), valid)
        tau = place_in_camera(local, np.nan_to_num(inp.kp2d), conf, inp.K, cfg.min_keypoint_conf)
        ok_tau = np.isfinite(tau).all(axis=1) & (tau[:, 2] > 0.2)
        tau = _fill_missing(np.nan_to_num(tau), ok_tau)
    cam_joints = local + tau[:, None]

    # --- scale from the feet vs. scene depth ---
    scale, sinfo = estimate_scale(
        cam_joints, np.nan_to_num(inp.kp2d), conf, inp.K, inp.T_world_cam, inp.points, inp.height_m
    )
    Twc = inp.T_world_cam.copy()
    Twc[:, :3, 3] *= scale
    pts = inp.points * scale
    R = Twc[:, :3, :3]
    joints0 = np.einsum("tij,tkj->tki", R, cam_joints) + Twc[:, None, :3, 3]

    # --- gravity + floor ---
    person_up = np.nanmean(joints0[valid, NECK] - joints0[valid, PELVIS], axis=0)
    cam_up = -np.mean(R[:, :, 1], axis=0)  # handheld cameras are held roughly upright
    up_guess = person_up / np.linalg.norm(person_up) + 0.5 * cam_up / np.linalg.norm(cam_up)
    # keep only points near where the person and camera were (drops far background and sky)
    centre = np.median(joints0[:, PELVIS], axis=0)
    reach = np.linalg.norm(joints0[:, PELVIS] - centre, axis=1).max() + 8.0
    near = np.linalg.norm(pts - centre, axis=1) < reach
    # the lower foot over the first third of the clip marks the floor (z = 0)
    first = slice(0, max(3, T // 3))
    fj = joints0[first][:, list(FEET)]
    low = np.argmin(fj @ (up_guess / np.linalg.norm(up_guess)), axis=1)
    early_feet = fj[np.arange(len(fj)), low]
    up, floor_d, ginfo = grav.estimate_gravity(pts[near], up_guess, inp.height_m, early_feet, cfg.ankle_height_m)
    fwd = np.mean(R[:, :, 2], axis=0)
    Ra = grav.rotation_to_z(up, fwd)
    T_align = np.eye(4)
    T_align[:3, :3] = Ra
    T_align[2, 3] = -floor_d
    joints_init = joints0 @ Ra.T + T_align[:3, 3]
    pts_w = pts @ Ra.T + T_align[:3, 3]
    Twc_w = np.einsum("ij,tjk->tik", T_align, Twc)

    def feet_contacts(X: np.ndarray, height_slack: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
        """Contacts (T,2) and the scene surface height under each foot (T,2) for joints ``X``."""
        surf = surface_height(pts_w[near], X[:, list(FEET), :2].reshape(-1, 2), 0.15).reshape(T, 2)
        return detect_contacts(X, inp.fps, cfg.contact_speed, cfg.contact_height + height_slack, surf), surf

    # --- torch refinement ---
    dt = torch.float64
    Rcw = torch.tensor(np.transpose(Twc_w[:, :3, :3], (0, 2, 1)), dtype=dt)
    Kt = torch.tensor(inp.K, dtype=dt)
    uv = torch.tensor(np.nan_to_num(inp.kp2d), dtype=dt)
    W2 = torch.tensor(conf, dtype=dt)
    par = np.array(HUMAN_PARENTS)
    ch = torch.tensor(np.flatnonzero(par >= 0))
    pa = torch.tensor(par[par >= 0])
    L = torch.tensor(bones[par >= 0], dtype=dt)
    local_w = np.einsum("tij,tkj->tki", np.einsum("ij,tjk->tik", Ra, R), local - local[:, PELVIS : PELVIS + 1])
    if cfg.opt_prior_lean < 1:
        local_w = unlean_towards_camera(local_w, np.einsum("ij,tjk->tik", Ra, R), cfg.opt_prior_lean)
    Lw = torch.tensor(local_w, dtype=dt)
    pose_w = torch.tensor(valid.astype(float), dtype=dt)
    feet = list(FEET)
    rho = cfg.reproj_robust_px
    rf = cfg.opt_floor_robust_m
    n2d = max(float(conf.sum()), 1.0)
    occ = occlusion_pairs(inp.kp2d, conf, tau[:, 2], inp.K, inp.height_m)
    n_occ = len(occ[0]) if cfg.w_occlusion > 0 else 0
    ot, oj, oa, ob = (torch.tensor(v) for v in occ[:4])
    os_t, ogap_t = torch.tensor(occ[4], dtype=dt), torch.tensor(occ[5], dtype=dt)

    def solve(X0: np.ndarray, contacts: np.ndarray | None, surf: np.ndarray | None) -> tuple[np.ndarray, float, float]:
        X = torch.tensor(X0, dtype=dt, requires_grad=True)
        cw = torch.tensor(Twc_w[:, :3, 3], dtype=dt)  # the current world's cameras (rescaled below)
        use_feet = contacts is not None and surf is not None
        if use_feet:
            C = torch.tensor(contacts.astype(float), dtype=dt)
            surf_t = torch.tensor(surf + cfg.ankle_height_m, dtype=dt)

        def loss_fn() -> torch.Tensor:
            pc = torch.einsum("tij,tkj->tki", Rcw, X - cw[:, None])
            z = pc[..., 2].clamp(min=0.05)
            proj = torch.einsum("ij,tkj->tki", Kt, pc)
            p2 = proj[..., :2] / z[..., None]
            e2 = ((p2 - uv) ** 2).sum(-1)
            l2d = (W2 * e2 / (e2 + rho**2)).sum() / n2d  # Geman-McClure: bad keypoints stop pulling
            bl = torch.linalg.norm(X[:, ch] - X[:, pa], dim=-1)
            lbone = ((bl - L) ** 2).mean() / 0.02**2
            rel = X - X[:, PELVIS : PELVIS + 1]
            lpose = (pose_w[:, None, None] * (rel - Lw) ** 2).sum(-1).mean() / 0.05**2
            acc = X[2:] - 2 * X[1:-1] + X[:-2]
            lsm = (acc**2).sum(-1).mean() / (0.01) ** 2
            loss = cfg.w_reproj * l2d + cfg.w_bone * lbone * 0.01 + cfg.w_pose_prior * lpose * 0.01
            loss = loss + cfg.w_smooth * lsm * 0.01
            if n_occ:
                # hidden joints stay behind the body part that hides them (camera depth)
                zo = (1 - os_t) * pc[ot, oa, 2] + os_t * pc[ot, ob, 2]
                short = torch.relu(zo + ogap_t - pc[ot, oj, 2])
                loss = loss + cfg.w_occlusion * (short**2).sum() / (T * J) / 0.03**2 * 0.01
            if use_feet:
                vel = X[1:, feet] - X[:-1, feet]
                both = C[1:] * C[:-1]
                lcon = (both[..., None] * vel**2).sum() / max(float(both.sum()), 1.0) / 0.005**2
                dz2 = (X[:, feet, 2] - surf_t) ** 2
                if rf > 0:  # a surface estimate far from the foot is more likely wrong than the foot
                    dz2 = dz2 / (1 + dz2 / rf**2)
                lfloor = (C * dz2).sum() / max(float(C.sum()), 1.0) / 0.02**2
                loss = loss + cfg.w_contact * lcon * 0.01 + cfg.w_floor * lfloor * 0.01
            return loss

        opt = torch.optim.LBFGS([X], lr=1.0, max_iter=cfg.opt_iters, history_size=20, line_search_fn="strong_wolfe")

        def closure() -> torch.Tensor:
            opt.zero_grad()
            loss = loss_fn()
            loss.backward()
            return loss

        with torch.no_grad():
            l0 = float(loss_fn())
        opt.step(closure)
        with torch.no_grad():
            l1 = float(loss_fn())
        return X.detach().numpy(), l0, l1

    def correct_scale(X: np.ndarray) -> float:
        """Rescale the world about its origin (on the floor) by the stance-ray correction for the
        scene-free joints ``X``; the body keeps its metric offset from each camera. Returns k."""
        nonlocal Twc_w, pts_w, scale
        k, kinfo = scale_from_stance_rays(
            X, Twc_w[:, :3, 3], pts_w[near], inp.fps, sole_drop(inp.keypoint_backend) * inp.height_m, cfg.contact_speed
        )
        sinfo.update(kinfo)
        if k is None:
            return 1.0
        Twc_w = Twc_w.copy()
        Twc_w[:, :3, 3] *= k
        pts_w = pts_w * k
        T_align[:3, 3] *= k
        scale *= k
        return k

    def moved(X: np.ndarray, k: float) -> np.ndarray:
        """Joints that kept their offsets from cameras whose centres were scaled by k."""
        return X + (k - 1) * Twc_w[:, None, :3, 3] / k

    if cfg.opt_contact_pass:
        # pass 1 without the scene; its result sets the scale (feet on the scene surface along
        # their camera rays), then contacts and the surface under the feet are read off its smooth
        # result instead of the per-frame initialisation, whose depth jitter hides slow feet
        # (missed contacts) and moves them over the wrong part of the scene (wrong surface)
        X1, loss0, _ = solve(joints_init, None, None)
        X1s = lowpass(X1, inp.fps, cfg.smooth_cutoff_hz)
        if cfg.surface_scale:
            k = correct_scale(X1s)
            X1, X1s = moved(X1, k), moved(X1s, k)
        contacts, surf = feet_contacts(X1s)
        joints, _, loss1 = solve(X1, contacts, surf)
    else:  # contacts from the per-frame initialisation (a looser height: it is noisier)
        if cfg.surface_scale:
            joints_init = moved(joints_init, correct_scale(lowpass(joints_init, inp.fps, cfg.smooth_cutoff_hz)))
        contacts, surf = feet_contacts(joints_init, 0.1)
        joints, loss0, loss1 = solve(joints_init, contacts, surf)
    if not np.isfinite(joints).all():
        raise NumericalError("the joint optimisation diverged (NaN); try a lower opt_iters or check the keypoints")
    joints = lowpass(joints, inp.fps, cfg.smooth_cutoff_hz)
    contacts, _ = feet_contacts(joints)
    info = {
        "scale": scale,
        **sinfo,
        "gravity": ginfo,
        "loss_init": loss0,
        "loss_final": loss1,
        "seconds": time.perf_counter() - t0,
        "frames_with_person": int(valid.sum()),
        "occluded_joint_frames": n_occ,
        **pinfo,
    }
    return OptResult(joints, contacts, Twc_w, pts_w, scale, T_align, info)


__all__ = ["OptInputs", "OptResult", "optimize", "root_quaternions", "HUMAN_JOINTS"]
