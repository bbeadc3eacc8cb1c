"""Visual odometry from tracked background corners: the translating camera's model when SfM fails.

A camera that walks behind the person moves along its own optical axis: every background point
flows away from the focus of expansion, weakly near it. Pairwise two-view geometry of corners
tracked frame to frame (KLT, the person masked out) measures such a camera's rotation to ~0.1 deg
and its heading to ~1 deg, where SIFT-matched incremental SfM on the same clip drifted 3-4 deg of
rotation per keyframe (a follow-behind curb clip: 78 deg after 4 s; the joint fit then tilted
gravity by 32 deg). So

- ``two_view_rotations`` measures the relative rotation between keyframes from tracks alone, to
  check SfM's cameras (``sfm_rotation_error_deg``);
- ``track_odometry`` builds the whole path: the essential matrix between the first keyframe and the
  first with enough parallax, triangulated points, then each keyframe by PnP on the points seen so
  far and new points triangulated as the camera goes. The path is up to one unknown scale (the
  joint fit sets it with the person's body), like SfM's.
"""

from __future__ import annotations

import cv2
import numpy as np
from scipy.spatial.transform import Rotation

from videomimic_offline.errors import InputError


def _klt(g0: np.ndarray, g1: np.ndarray, pts: np.ndarray, bg1: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    from videomimic_offline.real2sim.cameras import _klt as klt

    return klt(g0, g1, pts, bg1)


def keyframe_tracks(
    gray: list[np.ndarray], bg: np.ndarray, keys: np.ndarray, stride: int, max_corners: int = 800
) -> list[dict[int, np.ndarray]]:
    """Background corners tracked through every ``stride``-th frame, kept at the keyframes ``keys``:
    one {track id: (x, y)} per keyframe. New corners are found at each keyframe away from live ones."""
    T = len(gray)
    obs: list[dict[int, np.ndarray]] = []
    pts = np.zeros((0, 2), np.float32)
    ids = np.zeros(0, int)
    next_id = 0
    frames = sorted(set(range(0, T, stride)) | {int(k) for k in keys})
    keyset = {int(k) for k in keys}
    prev = None
    for f in frames:
        if prev is not None and len(pts):
            pts, ok = _klt(gray[prev], gray[f], pts, bg[f])
            pts, ids = pts[ok], ids[ok]
        if f in keyset:
            if len(pts) < max_corners:
                mask = bg[f].copy()
                for x, y in pts.astype(int):
                    cv2.circle(mask, (int(x), int(y)), 8, 0, -1)
                new = cv2.goodFeaturesToTrack(gray[f], max_corners - len(pts), 0.01, 8, mask=mask)
                if new is not None:
                    new = new.reshape(-1, 2).astype(np.float32)
                    pts = np.concatenate([pts, new])
                    ids = np.concatenate([ids, np.arange(next_id, next_id + len(new))])
                    next_id += len(new)
            obs.append({int(i): p.copy() for i, p in zip(ids, pts, strict=True)})
        prev = f
    return obs


def _common(a: dict[int, np.ndarray], b: dict[int, np.ndarray]) -> tuple[list[int], np.ndarray, np.ndarray]:
    ids = sorted(set(a) & set(b))
    if not ids:
        return [], np.zeros((0, 2)), np.zeros((0, 2))
    return ids, np.array([a[i] for i in ids], float), np.array([b[i] for i in ids], float)


def two_view_rotations(obs: list[dict[int, np.ndarray]], K: np.ndarray, gap: int) -> list[tuple[int, int, np.ndarray]]:
    """Relative rotations (camera ``i`` -> camera ``j``, x_j = R x_i + t) between keyframes ``gap``
    apart, from the essential matrix of their common tracks (pairs with too few tracks are left out)."""
    out = []
    for i in range(0, len(obs) - gap):
        j = i + gap
        _, A, B = _common(obs[i], obs[j])
        if len(A) < 30:
            continue
        E, inl = cv2.findEssentialMat(A, B, K, cv2.RANSAC, 0.999, 1.0)
        if E is None or E.shape != (3, 3):
            continue
        _, R, _, _ = cv2.recoverPose(E, A, B, K, mask=inl.copy())
        out.append((i, j, R))
    return out


def sfm_rotation_error_deg(R_wc_keys: dict[int, np.ndarray], pairs: list[tuple[int, int, np.ndarray]]) -> float | None:
    """Median angle between SfM's relative rotations and the two-view ones (keyframe index -> SfM's
    camera-to-world rotation, for the keyframes it registered); None where no pair was measured."""
    errs = []
    for i, j, R in pairs:
        if i in R_wc_keys and j in R_wc_keys:
            R_sfm = R_wc_keys[j].T @ R_wc_keys[i]  # camera i -> camera j
            errs.append(np.degrees(Rotation.from_matrix(R.T @ R_sfm).magnitude()))
    return float(np.median(errs)) if errs else None


def _triangulate(
    P0: np.ndarray, P1: np.ndarray, A: np.ndarray, B: np.ndarray, K: np.ndarray, max_px: float = 2.0
) -> tuple[np.ndarray, np.ndarray]:
    """Points (N,3) from two 3x4 world-to-camera poses, and which are in front of both and
    reproject within ``max_px`` in both."""
    X = cv2.triangulatePoints(K @ P0, K @ P1, A.T.astype(float), B.T.astype(float))
    X = (X[:3] / np.where(np.abs(X[3]) < 1e-12, 1e-12, X[3])).T
    ok = np.ones(len(X), bool)
    for P, uv in ((P0, A), (P1, B)):
        c = X @ P[:, :3].T + P[:, 3]
        ok &= c[:, 2] > 1e-6
        proj = c @ K.T
        proj = proj[:, :2] / np.where(np.abs(proj[:, 2:]) < 1e-12, 1e-12, proj[:, 2:])
        ok &= np.linalg.norm(proj - uv, axis=1) < max_px
    return X, ok


def _angle_ok(X: np.ndarray, c0: np.ndarray, c1: np.ndarray, min_deg: float) -> np.ndarray:
    a, b = X - c0, X - c1
    cos = np.sum(a * b, axis=1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1) + 1e-12)
    return np.degrees(np.arccos(np.clip(cos, -1, 1))) >= min_deg


def track_odometry(
    obs: list[dict[int, np.ndarray]], K: np.ndarray, min_parallax_deg: float = 1.0
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray, dict]:
    """Keyframe poses from ``keyframe_tracks``: the (M,) keyframe indices located, their (M,3,3)
    camera-to-world rotations and (M,3) centres (world = the first keyframe's camera, unit = the
    initial baseline), (N,3) triangulated points seen in 3+ keyframes, (N,3) each one's first
    keyframe and pixel (k, x, y) and an info dict. Raises InputError when the tracks
    cannot carry it."""
    M = len(obs)
    # initial pair: the first keyframe and the first later one whose tracks move enough (median flow
    # >= 12 px), else the furthest one that still shares enough tracks
    j0 = None
    for j in range(1, M):
        _, A, B = _common(obs[0], obs[j])
        if len(A) < 50:
            break
        j0 = j
        if np.median(np.linalg.norm(B - A, axis=1)) >= 12.0:
            break
    if j0 is None:
        raise InputError("the background could not be tracked between keyframes")
    ids, A, B = _common(obs[0], obs[j0])
    E, inl = cv2.findEssentialMat(A, B, K, cv2.RANSAC, 0.999, 1.0)
    if E is None or E.shape != (3, 3):
        raise InputError("no two-view geometry between the first keyframes")
    _, R, t, _ = cv2.recoverPose(E, A, B, K, mask=inl.copy())
    P = [None] * M
    P[0] = np.hstack([np.eye(3), np.zeros((3, 1))])
    P[j0] = np.hstack([R, t.reshape(3, 1)])
    X, ok = _triangulate(P[0], P[j0], A, B, K)
    ok &= _angle_ok(X, np.zeros(3), -R.T @ t.ravel(), min_parallax_deg * 0.5)
    pts3d: dict[int, np.ndarray] = {i: x for i, x, k in zip(ids, X, ok, strict=True) if k}
    if len(pts3d) < 30:
        raise InputError("too little parallax to start the camera path")

    def centre(Pk: np.ndarray) -> np.ndarray:
        return -Pk[:, :3].T @ Pk[:, 3]

    def locate(k: int) -> bool:
        common = [i for i in obs[k] if i in pts3d]
        if len(common) < 20:
            return False
        Xw = np.array([pts3d[i] for i in common], float)
        uv = np.array([obs[k][i] for i in common], float)
        ok, rvec, tvec, inl = cv2.solvePnPRansac(
            Xw, uv, K, None, reprojectionError=2.0, iterationsCount=200, flags=cv2.SOLVEPNP_EPNP
        )
        if not ok or inl is None or len(inl) < 15:
            return False
        inl = inl.ravel()
        rvec, tvec = cv2.solvePnPRefineLM(Xw[inl], uv[inl], K, None, rvec, tvec)
        P[k] = np.hstack([cv2.Rodrigues(rvec)[0], tvec.reshape(3, 1)])
        return True

    def add_points(k: int) -> None:
        ck = centre(P[k])
        for m in range(max(0, k - 8), k):  # the widest baselines first
            if P[m] is None:
                continue
            ids_m, A, B = _common(obs[m], obs[k])
            new = [n for n, i in enumerate(ids_m) if i not in pts3d]
            if not new:
                continue
            X, ok = _triangulate(P[m], P[k], A[new], B[new], K)
            ok &= _angle_ok(X, centre(P[m]), ck, min_parallax_deg)
            for n, x, good in zip(new, X, ok, strict=True):
                if good:
                    pts3d[ids_m[n]] = x

    for k in range(1, j0):
        locate(k)
    add_points(j0)
    for k in range(j0 + 1, M):
        if not locate(k):
            raise InputError(f"the camera path was lost at keyframe {k}/{M} (too few tracked points)")
        add_points(k)
    located = [k for k in range(M) if P[k] is not None]
    ba = _bundle_adjust(obs, K, P, pts3d, located)
    located = [k for k in range(M) if P[k] is not None]
    R_wc = np.stack([P[k][:, :3].T for k in located])
    c_w = np.stack([centre(P[k]) for k in located])
    seen: dict[int, list] = {}
    for k, o in enumerate(obs):
        for i, uv in o.items():
            if i in pts3d:
                seen.setdefault(i, [k, float(uv[0]), float(uv[1]), 0])[3] += 1
    tid = [i for i in sorted(pts3d) if seen[i][3] >= 3]
    X = np.array([pts3d[i] for i in tid], float).reshape(-1, 3)
    where = np.array([seen[i][:3] for i in tid], float).reshape(-1, 3)
    info = {"odometry_init_pair": [0, int(j0)], "odometry_points": int(len(X)), **ba}
    return np.array(located), R_wc, c_w, X, where, info


def _bundle_adjust(
    obs: list[dict[int, np.ndarray]],
    K: np.ndarray,
    P: list,
    pts3d: dict[int, np.ndarray],
    located: list[int],
    max_nfev: int = 40,
) -> dict:
    """Refine the located poses (all but the first) and the points together on every observation
    (Huber, 1 px): chained PnP drifts (0.7 deg over a 1.5 m forward walk in the tests) where the
    whole set of tracks pins the rotations. Updates ``P`` and ``pts3d`` in place."""
    from scipy.optimize import least_squares
    from scipy.sparse import lil_matrix

    cams = [k for k in located if k != located[0]]
    cam_of = {k: n for n, k in enumerate(cams)}
    pid = sorted(pts3d)
    pt_of = {i: n for n, i in enumerate(pid)}
    ci, pi, uv = [], [], []
    for k in located:
        for i, p in obs[k].items():
            if i in pt_of:
                ci.append(cam_of.get(k, -1))
                pi.append(pt_of[i])
                uv.append(p)
    if not cams or len(uv) < 50:
        return {}
    ci_a, pi_a, uv_a = np.array(ci), np.array(pi), np.array(uv, float)
    P0 = P[located[0]]
    x0 = np.concatenate(
        [np.concatenate([cv2.Rodrigues(P[k][:, :3])[0].ravel(), P[k][:, 3]]) for k in cams]
        + [np.array([pts3d[i] for i in pid], float).ravel()]
    )
    nc = 6 * len(cams)

    def residuals(x: np.ndarray) -> np.ndarray:
        cam = np.vstack([x[:nc].reshape(-1, 6), np.r_[cv2.Rodrigues(P0[:, :3])[0].ravel(), P0[:, 3]]])
        X = x[nc:].reshape(-1, 3)
        c = cam[ci_a]  # index -1 = the fixed first camera
        Xc = Rotation.from_rotvec(c[:, :3]).apply(X[pi_a]) + c[:, 3:]
        z = np.where(np.abs(Xc[:, 2]) < 1e-9, 1e-9, Xc[:, 2])
        u = K[0, 0] * Xc[:, 0] / z + K[0, 2]
        v = K[1, 1] * Xc[:, 1] / z + K[1, 2]
        return np.concatenate([u - uv_a[:, 0], v - uv_a[:, 1]])

    n = len(uv_a)
    A = lil_matrix((2 * n, len(x0)), dtype=np.uint8)
    rows = np.arange(n)
    for r in (rows, rows + n):
        has = ci_a >= 0
        for j in range(6):
            A[r[has], 6 * ci_a[has] + j] = 1
        for j in range(3):
            A[r, nc + 3 * pi_a + j] = 1
    r0 = residuals(x0)
    sol = least_squares(
        residuals, x0, jac_sparsity=A, method="trf", loss="huber", f_scale=1.0, x_scale="jac", max_nfev=max_nfev
    )
    for k in cams:
        v = sol.x[6 * cam_of[k] : 6 * cam_of[k] + 6]
        P[k] = np.hstack([cv2.Rodrigues(v[:3])[0], v[3:].reshape(3, 1)])
    for i, x in zip(pid, sol.x[nc:].reshape(-1, 3), strict=True):
        pts3d[i] = x
    r1 = sol.fun
    med = lambda r: float(np.median(np.hypot(r[:n], r[n:])))  # noqa: E731
    return {"odometry_ba_px": [round(med(r0), 3), round(med(r1), 3)], "odometry_observations": int(n)}
