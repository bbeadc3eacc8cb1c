"""The metric scale of a translating camera's path (SfM or odometry come up to an unknown scale).

Three rulers, all metric through the person's body size: the scene's depth at the stance foot's
pixel (``estimate_scale``, coarse), stance feet meeting the scene surface along their camera rays
(``scale_from_stance_rays``, precise where the ground near the feet was reconstructed) and stance
feet that do not move in the world while the camera does (``scale_from_stance_feet``, needs no
scene at all).
"""

from __future__ import annotations

import numpy as np

from videomimic_offline.body.skeleton import index
from videomimic_offline.contracts.human_motion import point_speed
from videomimic_offline.errors import InputError
from videomimic_offline.real2sim.keypoints import BODY_MODEL_SOLE_DROP

PELVIS, NECK = index("pelvis"), index("neck")
FEET = (index("left_ankle"), index("right_ankle"))
TOES = (index("left_toe"), index("right_toe"))


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
    ratios = []
    for side, (f, toe) in enumerate(zip(FEET, TOES)):
        p = joints[:, f]
        speed = np.nan_to_num(point_speed(p, fps), nan=np.inf)  # the end frames have no speed
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


def scale_from_stance_feet(
    cam_feet: np.ndarray, R_wc: np.ndarray, c_wc: np.ndarray, fps: float, cutoff_hz: float = 3.0, cap: float = 1.0
) -> tuple[float | None, dict]:
    """Scale s of a camera path (centres ``c_wc`` (T,3), rotations ``R_wc`` (T,3,3)) that keeps the
    person's stance feet still in the world; ``cam_feet`` (T,2,3) are the feet in each camera (metric).

    A walking or standing person has a planted foot most of the time: in the world its velocity is
    zero. The world feet are R_t f_t + s c_t, so a wrong s leaves the planted foot moving with the
    error times the camera's velocity. s minimises the time-average of the slower foot's speed
    (capped at ``cap`` m/s, so flight phases and detector glitches count only so much). Needs no
    scene points, only that the camera moved while a foot was planted. Returns None when the
    camera barely moved or the minimum is not clear.
    """
    from scipy.optimize import minimize_scalar

    from videomimic_offline.real2sim.fit.contacts import lowpass

    ok = np.isfinite(cam_feet).all(axis=(1, 2))
    if ok.sum() < 10:
        return None, {"feet_scale": "too few frames with feet"}
    rot_feet = lowpass(np.einsum("tij,tkj->tki", R_wc, cam_feet), fps, cutoff_hz)  # (T,2,3)
    c = lowpass(c_wc, fps, cutoff_hz)
    dv_feet = np.gradient(rot_feet, axis=0) * fps
    dc = np.gradient(c, axis=0) * fps
    cam_speed = np.linalg.norm(dc, axis=1)
    path = float(np.sum(np.linalg.norm(np.diff(c_wc, axis=0), axis=1)))
    if path <= 0 or not np.isfinite(path):
        return None, {"feet_scale": "the camera did not move"}

    def cost(log_s: float) -> float:
        v = np.linalg.norm(dv_feet + np.exp(log_s) * dc[:, None], axis=2).min(axis=1)
        return float(np.mean(np.minimum(v[ok], cap)))

    # the camera path is between 5 cm and 200 m long in metres
    grid = np.linspace(np.log(0.05 / path), np.log(200.0 / path), 300)
    costs = np.array([cost(g) for g in grid])
    k = int(np.argmin(costs))
    lo, hi = grid[max(k - 1, 0)], grid[min(k + 1, len(grid) - 1)]
    best = minimize_scalar(cost, bounds=(lo, hi), method="bounded", options={"xatol": 1e-4})
    s = float(np.exp(best.x))
    # how much better than no camera motion at all (s -> 0) and than twice/half the scale
    c0, c_best = costs[0], float(best.fun)
    contrast = min(cost(best.x + np.log(2)), cost(best.x - np.log(2))) - c_best
    moving = s * np.median(cam_speed[ok])
    info = {
        "feet_scale": s,
        "feet_scale_residual_mps": round(c_best, 4),
        "feet_scale_contrast_mps": round(float(contrast), 4),
        "camera_speed_mps": round(float(moving), 3),
        "camera_path_m": round(s * path, 3),
    }
    if k in (0, len(grid) - 1) or contrast < 0.05 or c_best >= c0:
        info["feet_scale"] = f"rejected {s:.4g} (no clear minimum)"
        return None, info
    return s, info


def scale_from_ground_plane(
    cam_ground: np.ndarray, R_wc: np.ndarray, c_wc: np.ndarray, points: np.ndarray, up_guess: np.ndarray
) -> tuple[float | None, dict]:
    """Scale of a camera path from the camera's height above the ground the person stands on.

    ``cam_ground`` (T,3): the ground point under the lower foot in each camera (metric, from the
    body size; NaN where unknown); ``R_wc``/``c_wc`` the cameras and ``points`` the scene in SfM
    units, ``up_guess`` roughly up there. The scene's horizontal planes are found by RANSAC; for
    each, the camera's height above it is h_sfm(t) = n.c_t - d in SfM units and h(t) = -n.R_t g_t
    in metres, so s = h / h_sfm. The plane the person stands on gives the same s in every frame,
    so the plane with the steadiest ratio (over the frames whose ground point is near it) wins.

    Unlike a depth look-up at the foot's pixel (``estimate_scale``) this needs no scene points at
    the feet: a road or floor seen anywhere ahead or around carries the scale. Where the camera is
    close to level, depth errors of the body barely change h (the normal is across the view).
    """
    from videomimic_offline.real2sim.gravity import horizontal_planes

    ok = np.isfinite(cam_ground).all(axis=1)
    if ok.sum() < 5 or len(points) < 50:
        return None, {"ground_scale": "too few frames or scene points"}
    up = up_guess / np.linalg.norm(up_guess)
    spread = float(np.median(np.linalg.norm(points - np.median(points, axis=0), axis=1)))
    planes = horizontal_planes(points, up, thr=0.01 * spread, max_planes=6, cone_deg=30.0)
    best: tuple[float, float, int] | None = None
    for n, _, idx in planes:
        h_m = -np.einsum("j,tjk,tk->t", n, R_wc[ok], cam_ground[ok])
        h_s = c_wc[ok] @ n - float(np.median(points[idx] @ n))
        good = (h_m > 0.2) & (h_s > 0)
        if good.sum() < 5:
            continue
        r = np.log(h_m[good] / h_s[good])
        med = float(np.median(r))
        iqr = float(np.subtract(*np.percentile(r, [75, 25])))
        if best is None or iqr < best[1]:
            best = (float(np.exp(med)), iqr, int(good.sum()))
    if best is None:
        return None, {"ground_scale": f"no ground plane under the person ({len(planes)} horizontal planes)"}
    s, iqr, n_frames = best
    info = {"ground_scale": s, "ground_scale_iqr": round(iqr, 4), "ground_scale_frames": n_frames}
    if iqr > 0.15:
        info["ground_scale"] = f"rejected {s:.4g} (spread {iqr:.2f})"
        return None, info
    return s, info


def scale_from_ground_near_feet(
    cam_ground: np.ndarray,
    K: np.ndarray,
    T_wc: np.ndarray,
    points: np.ndarray,
    up_guess: np.ndarray,
    radius_frac: float = 0.15,
    min_points: int = 12,
) -> tuple[float | None, dict]:
    """Scale from the ground the camera reconstructed around (not at) the stance foot's pixel.

    The person hides the ground under their feet (and the mask removes it), but the camera usually
    sees the ground around them. For each frame, the scene points seen within ``radius_frac`` of the
    image height of the foot's ground point get a plane (its normal within 35 deg of up), and the
    foot's viewing ray meets it at the path-unit depth of the ground point whose metric depth
    ``cam_ground`` (T,3, camera frame) the body gives. s = median(metric / path-unit depth).
    """
    ok = np.isfinite(cam_ground).all(axis=1) & (cam_ground[:, 2] > 0.3)
    if ok.sum() < 5 or len(points) < 30:
        return None, {"ground_near_feet_scale": "too few frames or scene points"}
    H_img = 2 * K[1, 2]
    up = up_guess / np.linalg.norm(up_guess)
    ratios = []
    for t in np.flatnonzero(ok)[:: max(1, ok.sum() // 60)]:
        R_cw = T_wc[t, :3, :3].T
        pc = (points - T_wc[t, :3, 3]) @ R_cw.T
        front = pc[:, 2] > 1e-6
        uv = (pc[front] @ K.T)[:, :2] / pc[front, 2:3]
        g = cam_ground[t]
        target = (K @ g)[:2] / g[2]
        near = np.linalg.norm(uv - target, axis=1) < radius_frac * H_img
        if near.sum() < min_points:
            continue
        q = pc[front][near]
        n_c = R_cw @ up  # up in the camera
        mu, normal = q.mean(axis=0), n_c
        for _ in range(3):  # plane refit on the points close to it (one surface, no walls)
            d = (q - mu) @ normal
            close = np.abs(d) < 2 * np.median(np.abs(d)) + 1e-9
            if close.sum() < min_points // 2:
                break
            mu = q[close].mean(axis=0)
            normal = np.linalg.svd(q[close] - mu)[2][2]
            if normal @ n_c < 0:
                normal = -normal
        if normal @ n_c < np.cos(np.radians(35)):
            # a staircase's edges make a sloped plane: take a level one through the points that
            # are nearest the foot in the image (most likely the tread it stands on)
            nearest = np.argsort(np.linalg.norm(uv[near] - target, axis=1))[: max(min_points // 2, len(q) // 3)]
            normal = n_c
            mu = n_c * float(np.median(q[nearest] @ n_c))
        ray = g / np.linalg.norm(g)
        along = float(normal @ ray)
        if abs(along) < 0.1:
            continue
        depth_units = float(normal @ mu) / along * ray[2]
        if depth_units > 0:
            ratios.append(g[2] / depth_units)
    info: dict = {"ground_near_feet_samples": len(ratios)}
    if len(ratios) < 5:
        info["ground_near_feet_scale"] = f"only {len(ratios)} frames with ground around the feet"
        return None, info
    r = np.log(np.array(ratios))
    s = float(np.exp(np.median(r)))
    iqr = float(np.subtract(*np.percentile(r, [75, 25])))
    info.update({"ground_near_feet_scale": s, "ground_near_feet_iqr": round(iqr, 4)})
    if iqr > 0.3:
        info["ground_near_feet_scale"] = f"rejected {s:.4g} (spread {iqr:.2f})"
        return None, info
    return s, info
