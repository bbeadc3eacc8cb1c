"""Gravity and floor from the scene points and the person.

The person's spine says roughly which way is up; horizontal planes in the scene (floor, stair
treads, bench seat) say it precisely. Planes are found by RANSAC, those within a cone of the
person's up are kept, and one shared normal is fitted to all of them. The floor (z = 0) is the
lowest well-supported horizontal plane.
"""

from __future__ import annotations

import numpy as np


def ransac_plane(
    pts: np.ndarray, thr: float, iters: int, rng: np.random.Generator
) -> tuple[np.ndarray, float, np.ndarray]:
    """Best plane (unit normal n, offset d with n.x = d) and its inlier mask."""
    best_n, best_d, best_in = np.array([0.0, 0.0, 1.0]), 0.0, np.zeros(len(pts), bool)
    if len(pts) < 3:
        return best_n, best_d, best_in
    for _ in range(iters):
        a, b, c = pts[rng.choice(len(pts), 3, replace=False)]
        n = np.cross(b - a, c - a)
        nn = np.linalg.norm(n)
        if nn < 1e-12:
            continue
        n /= nn
        d = float(n @ a)
        inl = np.abs(pts @ n - d) < thr
        if inl.sum() > best_in.sum():
            best_n, best_d, best_in = n, d, inl
    return best_n, best_d, best_in


def horizontal_planes(
    pts: np.ndarray, up_guess: np.ndarray, thr: float, max_planes: int = 6, cone_deg: float = 25.0, seed: int = 0
) -> list[tuple[np.ndarray, float, np.ndarray]]:
    """Planes (n oriented along up_guess, d, inlier indices) whose normal is within ``cone_deg`` of up."""
    rng = np.random.default_rng(seed)
    remaining = np.arange(len(pts))
    out = []
    min_support = max(30, int(0.03 * len(pts)))
    for _ in range(max_planes * 2):
        if len(remaining) < min_support:
            break
        n, d, inl = ransac_plane(pts[remaining], thr, 300, rng)
        if inl.sum() < min_support:
            break
        idx = remaining[inl]
        remaining = remaining[~inl]
        if n @ up_guess < 0:
            n, d = -n, -d
        if np.degrees(np.arccos(np.clip(n @ up_guess, -1, 1))) <= cone_deg:
            out.append((n, d, idx))
            if len(out) >= max_planes:
                break
    return out


def fit_shared_normal(pts: np.ndarray, groups: list[np.ndarray], up_guess: np.ndarray) -> np.ndarray:
    """One normal for several parallel planes: smallest singular vector of the per-plane-centred points."""
    centred = np.concatenate([pts[g] - pts[g].mean(axis=0) for g in groups])
    _, _, vt = np.linalg.svd(centred, full_matrices=False)
    n = vt[-1]
    return n if n @ up_guess > 0 else -n


def rotation_to_z(up: np.ndarray, forward_hint: np.ndarray | None = None) -> np.ndarray:
    """Rotation R with R @ up = +z; x follows ``forward_hint`` projected on the horizontal plane."""
    z = up / np.linalg.norm(up)
    f = np.array([1.0, 0.0, 0.0]) if forward_hint is None else forward_hint
    x = f - (f @ z) * z
    if np.linalg.norm(x) < 1e-6:
        x = np.array([0.0, 1.0, 0.0]) - z[1] * z
    x /= np.linalg.norm(x)
    y = np.cross(z, x)
    return np.stack([x, y, z])  # rows: world axes expressed in the old frame


def estimate_gravity(
    points: np.ndarray, person_up: np.ndarray, scale_hint: float, feet: np.ndarray | None, ankle_h: float
) -> tuple[np.ndarray, float, dict]:
    """Up vector and floor offset (n.x = d) from scene points (metric), falling back to the person.

    ``scale_hint`` is a typical length in the points' units (e.g. the person's height) used to set
    the RANSAC inlier band. ``feet`` (N,3): positions of the person's lower foot early in the clip;
    the floor is the horizontal plane right under them (else the lowest well-supported plane).
    """
    up_p = person_up / np.linalg.norm(person_up)
    planes = horizontal_planes(points, up_p, thr=0.015 * scale_hint) if len(points) >= 50 else []
    info: dict = {"num_planes": len(planes), "source": "planes" if planes else "person"}
    up = fit_shared_normal(points, [g for _, _, g in planes], up_p) if planes else up_p
    foot_level = float(np.median(feet @ up)) - ankle_h if feet is not None and len(feet) else None
    if not planes:
        h = points @ up if len(points) else np.zeros(1)
        floor = foot_level if foot_level is not None else float(np.percentile(h, 5))
        info["floor"] = "feet" if foot_level is not None else "points"
        return up, floor, info
    offsets = np.array([np.median(points[g] @ up) for _, _, g in planes])
    support = np.array([len(g) for _, _, g in planes], float)
    info.update({"plane_offsets": offsets.tolist(), "plane_support": support.tolist()})
    if foot_level is not None:
        near = np.abs(offsets - foot_level) < 0.25 * scale_hint / 1.7
        if near.any():
            info["floor"] = "plane under the feet"
            return up, float(offsets[near][np.argmin(np.abs(offsets[near] - foot_level))]), info
        info["floor"] = "feet (no plane under them)"
        return up, foot_level, info
    strong = support >= 0.25 * support.max()
    info["floor"] = "lowest plane"
    return up, float(offsets[strong].min()), info


def body_axis_planes(
    kp2d: np.ndarray, conf: np.ndarray, K: np.ndarray, R_wc: np.ndarray, min_conf: float = 0.5
) -> np.ndarray:
    """(N,3) unit normals (world axes) of the planes through each camera and the person's 2D body axis.

    A standing or walking person is upright, so the up direction lies in the plane through the
    camera centre and the image line from the mid-ankles to the neck: the person's images at
    different places all point at the vertical vanishing point. This uses only the 2D keypoints,
    so it is free of the body-size depth's errors (which tilt the feet's levels) and of the pose
    model's lean along the view. Frames where the 2D axis is short (sitting, bending: below 0.8 x
    its 90th percentile) or a point is unsure are left out.
    """
    from videomimic_offline.body.skeleton import index

    ank = [index("left_ankle"), index("right_ankle")]
    neck = index("neck")
    a = 0.5 * (kp2d[:, ank[0]] + kp2d[:, ank[1]])
    b = kp2d[:, neck]
    ok = (conf[:, [*ank, neck]] > min_conf).all(axis=1) & np.isfinite(a).all(axis=1) & np.isfinite(b).all(axis=1)
    if ok.sum() < 3:
        return np.zeros((0, 3))
    length = np.linalg.norm(b - a, axis=1)
    ok &= length > 0.8 * np.percentile(length[ok], 90)
    Kinv = np.linalg.inv(K)
    pa = np.c_[a[ok], np.ones(ok.sum())] @ Kinv.T
    pb = np.c_[b[ok], np.ones(ok.sum())] @ Kinv.T
    m = np.cross(pa, pb)
    m /= np.linalg.norm(m, axis=1, keepdims=True)
    return np.einsum("tij,tj->ti", R_wc[ok], m)


def fuse_up(
    init: np.ndarray,
    person_up: np.ndarray | None = None,
    person_sigma_rad: float = 0.1,
    cam_x: np.ndarray | None = None,
    roll_sigma_rad: float = 0.05,
    levels: list[np.ndarray] | None = None,
    feet_sigma_m: float = 0.03,
    axis_planes: np.ndarray | None = None,
    axis_sigma_rad: float = 0.09,
    robust_iters: int = 5,
    lines_up: np.ndarray | None = None,
    lines_sigma_rad: float = 0.01,
) -> tuple[np.ndarray, dict]:
    """Up from the cues a scene without reconstructed planes still has, each weighted by its precision.

    - ``person_up``: the person's mean body axis; a standing or walking body is upright to within
      a few degrees, but its lean along the view is what a monocular pose knows least;
    - ``cam_x`` (T,3): the cameras' x axes; a phone or tripod is held with little roll, so they are
      horizontal (a panning camera's x axes span the whole horizontal plane);
    - ``axis_planes`` (N,3): normals of the planes holding the person's 2D body axis
      (``body_axis_planes``): up lies in each;
    - ``levels``: ground points (metres) where stance feet stood, one array per level (floor, each
      step); each level is horizontal, so the spread of its points fixes the tilt along it. Their
      heights scatter with the body-size depth's errors (a sitting or turning body is placed worse),
      so they are re-weighted ``robust_iters`` times (Cauchy, scale ``feet_sigma_m``);
    - ``lines_up``: the vertical vanishing point of the scene's lines (``vanishing.py``), a still
      camera's most precise cue.

    Minimises |n - person_up|^2 / s_p^2 + mean_t (n.x_t)^2 / s_r^2 + mean (n.m)^2 / s_a^2
    + sum w (n.(p - mean_level))^2 / s_f^2 over unit n. Returns n (oriented like ``init``) and how far it ended from each cue.
    """
    from scipy.optimize import minimize

    z = init / np.linalg.norm(init)
    e1 = np.cross(z, [1.0, 0.0, 0.0] if abs(z[0]) < 0.9 else [0.0, 1.0, 0.0])
    e1 /= np.linalg.norm(e1)
    e2 = np.cross(z, e1)
    A0 = np.zeros((3, 3))
    b = np.zeros(3)
    used: dict = {}
    if person_up is not None:
        u = person_up / np.linalg.norm(person_up)
        A0 += np.eye(3) / person_sigma_rad**2
        b += u / person_sigma_rad**2
        used["person"] = u
    if lines_up is not None:
        A0 += np.eye(3) / lines_sigma_rad**2
        b += lines_up / np.linalg.norm(lines_up) / lines_sigma_rad**2
        used["lines"] = True
    if cam_x is not None and len(cam_x):
        A0 += (cam_x.T @ cam_x) / len(cam_x) / roll_sigma_rad**2
        used["camera_roll"] = True
    if axis_planes is not None and len(axis_planes) >= 3:
        A0 += (axis_planes.T @ axis_planes) / len(axis_planes) / axis_sigma_rad**2
        used["body_axes"] = True
    levels = [p for p in (levels or []) if len(p) >= 2]
    weights = [np.ones(len(p)) for p in levels]
    n = z
    for it in range(max(1, robust_iters) if levels else 1):
        A = A0.copy()
        for p, w in zip(levels, weights, strict=True):
            q = p - (w[:, None] * p).sum(0) / w.sum()
            A += (q * w[:, None]).T @ q / feet_sigma_m**2

        def energy(ab: np.ndarray, A: np.ndarray = A, n0: np.ndarray = n) -> float:
            m = n0 + ab[0] * e1 + ab[1] * e2
            m /= np.linalg.norm(m)
            return float(m @ A @ m - 2 * b @ m)

        res = minimize(energy, np.zeros(2), method="Nelder-Mead", options={"xatol": 1e-7, "fatol": 1e-12})
        n = n + res.x[0] * e1 + res.x[1] * e2
        n /= np.linalg.norm(n)
        if it + 1 < robust_iters:
            for k, p in enumerate(levels):
                h = p @ n
                weights[k] = 1.0 / (1.0 + ((h - np.median(h)) / feet_sigma_m) ** 2)
    info: dict = {
        "source": "+".join(k for k in ("lines", "person", "camera_roll", "body_axes") if k in used)
        + ("+feet" if levels else "")
    }
    if "body_axes" in used:
        info["body_axis_frames"] = len(axis_planes)
    if "person" in used:
        info["angle_to_person_deg"] = round(float(np.degrees(np.arccos(np.clip(n @ used["person"], -1, 1)))), 2)
    if cam_x is not None and len(cam_x):
        info["camera_roll_deg"] = round(float(np.degrees(np.arcsin(np.clip(np.mean(cam_x @ n), -1, 1)))), 2)
    if levels:
        info["feet_points"] = int(sum(len(p) for p in levels))
    return n, info
