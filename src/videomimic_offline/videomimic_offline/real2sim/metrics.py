"""Reconstruction metrics against synthetic ground truth (the SLOPER4D-style protocol).

Exactly what is computed (all positions in metres in, MPJPE in millimetres out):

- **WA-MPJPE**: split the sequence into consecutive, non-overlapping 100-frame chunks (the last
  chunk may be shorter). For each chunk, fit ONE similarity transform (Umeyama: scale, rotation,
  translation) mapping the predicted joints of *all* frames of the chunk onto the ground truth,
  apply it, and average the per-joint Euclidean error over ``EVAL_JOINTS`` and frames.
- **W-MPJPE**: same chunks, but the similarity is fitted on the joints of the chunk's *first two
  frames only* (as the original SLOPER4D/WHAM evaluation does) and then applied to the whole
  chunk, so drift over the chunk counts.
  Both are means over all frames of all chunks (a frame-weighted mean). Frames whose predicted
  joints are not finite (person not found) are left out of the fits and the means
  (``evaluate_reconstruction`` reports their share as ``valid_frac``).
- **Chamfer** (m): the reconstructed scene mesh is mapped into the ground-truth world by the
  rigid transform (no scale) that best aligns the reconstructed camera centres and pelvis
  trajectory to the ground truth ones. Then ``chamfer = (accuracy + completeness) / 2`` with
  *accuracy* = mean distance from area-uniform samples of the reconstruction to the ground-truth
  mesh (exact point-to-triangle distance; a sample farther than 10 cm from every seen
  ground-truth sample is scored by its distance to the seen samples instead, so geometry
  invented where the camera never looked counts against it), and *completeness* = mean exact
  distance from the seen ground-truth samples (``scene_seen_points``: depth-tested visible
  surface samples within 8 m of a camera) to the reconstructed mesh. The same range applies to
  the reconstruction: only its samples inside some ground-truth camera's image at a depth of at
  most ``seen_max_range_m`` (the clip's, 8 m) are scored for accuracy, so a wall correctly
  reconstructed at 9 m is not counted as invented geometry (anything inside that range and far
  from every seen sample still is: e.g. surfaces behind walls or under the floor). ``chamfer_terrain_m`` repeats this on the terrain
  parts only (floor + stairs/curb/bench; no wall or props), scoring the reconstruction samples
  whose nearest seen sample is terrain.
- **Scale error** (%): ``|1/s - 1| * 100`` with ``s`` the scale of the similarity transform that
  maps the reconstructed camera centres and pelvis trajectory onto the ground truth (``1/s`` is the
  reconstruction's size relative to the truth).
  ``scale_err_cams_pct`` is the same from the camera centres alone: the scale of the scene the
  cameras carry (the person's trajectory can mask it), but ill-conditioned for a short camera path:
  NaN where the true camera centres stay within ``MIN_CAMERA_PATH_M`` (10 cm) of their mean
  (tripod, pan/tilt, a hand held still).
- **Gravity error** (deg): per frame, the angle between the world up axis expressed in the camera
  frame by the reconstruction and by the ground truth, averaged over frames (independent of any
  world alignment).

Scene heights where the person touched it (what the simulator needs under the feet and the seat).
The reconstructed surface is the exported ``heightfield.npz`` (what the simulator loads; when a
reconstruction has none, the box tops of ``scene.json`` ``"solids"``), read as piecewise constant
per cell. "Height under a point" is the median of the surface at the point and at the eight points
``HEIGHT_SPREAD_M`` away along x and/or y (so one cell on a smeared step edge does not decide it);
the ground truth's is the highest upward-facing terrain face (floor, stairs, curb, seat) there.
No world alignment is needed: the reconstruction is queried under its *own* joints, the truth under
the true joints, in the same frames (the video's).

- **Support levels**: every ground-truth stance segment (a run of >= 3 frames in ``contacts`` for
  one foot) is one sample. Its height is the median over the segment's frames of the height under
  the *foot centre* (midpoint of ankle and toe joints, xy): in the truth under the true foot, in
  the reconstruction under the reconstructed foot of the same frames.
- **Floor**: the segments whose true height is within 1 cm of 0 (the floor). The reconstruction's
  floor is the median of their reconstructed heights (0, the contract's floor, when there are none
  or none is known).
- **step_height_err_m**: the segments above the floor are grouped by true height (levels within
  1 cm are one surface: a tread, a curb top, a landing). For each surface, the reconstructed
  height above the reconstructed floor (median over its segments) minus the true height above the
  floor; ``step_height_err_m`` is the mean absolute value over the surfaces, ``step_height_err_max_m``
  the largest; a surface unknown under every one of its segments counts in
  ``step_surfaces_missing`` instead. NaN where the person never stands above the floor.
- **seat_height_err_m**: over the frames of ``seat_contact``, the median height under the thighs
  (the pelvis, both hips and the points a third of the way from each hip to its knee, of the
  reconstructed joints) above the reconstructed floor, minus the true seat top (``seat_top_z``);
  absolute value. NaN without a seat; ``seat_missing`` = 1 when the reconstruction has no surface
  there at all.
- **chamfer_contact_m** (Chamfer over the contact-derived geometry, the figure for cameras that
  do not translate, where vision gives no scene): the *contact region* is every xy within
  ``CONTACT_RADIUS_M`` of a true foot centre during a contact or a true thigh point (as above)
  during ``seat_contact``. The truth is sampled on a ``CONTACT_GRID_M`` grid over that region at
  its top-surface height; the reconstructed heightfield's known cells are sampled 5 x 5 per cell at
  their heights, mapped into the ground-truth world by the same rigid transform as Chamfer, and
  kept inside the region. accuracy = mean distance from those samples to the nearest true sample
  (within the region grown by 10 cm, so a border sample is not scored against a cut-off truth),
  completeness = mean distance from the true samples to the nearest reconstructed sample (the
  same way round); ``chamfer_contact_m`` = their mean (inf when the reconstruction has nothing in
  the region). Grid sampling adds ~4 mm of its own at these spacings.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import numpy as np

from videomimic_offline.body.skeleton import EVAL_JOINTS, HUMAN_JOINTS
from videomimic_offline.errors import IncompatibleError

CHUNK = 100
N_FIRST = 2
#: Points around each query point whose median is "the height under it" (see the module docstring).
HEIGHT_SPREAD_M = 0.03
#: Contact region radius around the true foot centres and thigh points, and the truth's grid there.
CONTACT_RADIUS_M = 0.25
CONTACT_GRID_M = 0.01
#: Same surface / on the floor: true heights within this of each other / of 0.
LEVEL_TOL_M = 0.01
#: Depth range of the ground truth's seen samples when a clip's meta.json does not say (synthetic.clip).
SEEN_MAX_RANGE_M = 8.0


def umeyama(src: np.ndarray, dst: np.ndarray, with_scale: bool = True) -> tuple[float, np.ndarray, np.ndarray]:
    """Least-squares (s, R, t) with ``dst ≈ s * R @ src + t`` for point sets (N,3)."""
    src = np.asarray(src, dtype=np.float64).reshape(-1, 3)
    dst = np.asarray(dst, dtype=np.float64).reshape(-1, 3)
    mu_s, mu_d = src.mean(0), dst.mean(0)
    xs, xd = src - mu_s, dst - mu_d
    cov = xd.T @ xs / len(src)
    U, S, Vt = np.linalg.svd(cov)
    D = np.eye(3)
    if np.linalg.det(U) * np.linalg.det(Vt) < 0:
        D[2, 2] = -1
    R = U @ D @ Vt
    var_s = (xs**2).sum() / len(src)
    s = float(np.trace(np.diag(S) @ D) / var_s) if with_scale and var_s > 1e-12 else 1.0
    t = mu_d - s * R @ mu_s
    return s, R, t


def _apply(s: float, R: np.ndarray, t: np.ndarray, x: np.ndarray) -> np.ndarray:
    return s * x @ R.T + t


def _eval_idx(joint_names: tuple[str, ...] | list[str]) -> list[int]:
    names = list(joint_names)
    missing = [j for j in EVAL_JOINTS if j not in names]
    if missing:
        raise IncompatibleError(f"joints {missing} missing from the motion: it must use body.skeleton.HUMAN_JOINTS")
    return [names.index(j) for j in EVAL_JOINTS]


def _chunked_mpjpe(
    pred: np.ndarray, gt: np.ndarray, first: int | None, joint_names: tuple[str, ...], chunk: int, with_scale: bool
) -> float:
    pred, gt = np.asarray(pred, np.float64), np.asarray(gt, np.float64)
    if pred.shape != gt.shape:
        raise IncompatibleError(f"predicted joints {pred.shape} and ground truth {gt.shape} differ in shape")
    idx = _eval_idx(joint_names)
    pred, gt = pred[:, idx], gt[:, idx]
    # frames without a prediction (NaN: person not found) are left out of fits and means
    valid = np.isfinite(pred).all(axis=(1, 2))
    errs = []
    for a in range(0, len(gt), chunk):
        ok = valid[a : a + chunk]
        p, g = pred[a : a + chunk][ok], gt[a : a + chunk][ok]
        if len(p) == 0:
            continue
        n = len(p) if first is None else min(first, len(p))
        s, R, t = umeyama(p[:n].reshape(-1, 3), g[:n].reshape(-1, 3), with_scale)
        errs.append(np.linalg.norm(_apply(s, R, t, p) - g, axis=-1).mean(-1))
    if not errs:
        return float("nan")
    return float(np.concatenate(errs).mean() * 1000.0)


def wa_mpjpe_mm(
    pred: np.ndarray,
    gt: np.ndarray,
    joint_names: tuple[str, ...] = HUMAN_JOINTS,
    chunk: int = CHUNK,
    with_scale: bool = True,
) -> float:
    """World-aligned MPJPE (mm): one similarity per whole chunk (see module docstring)."""
    return _chunked_mpjpe(pred, gt, None, joint_names, chunk, with_scale)


def w_mpjpe_mm(
    pred: np.ndarray,
    gt: np.ndarray,
    joint_names: tuple[str, ...] = HUMAN_JOINTS,
    chunk: int = CHUNK,
    n_first: int = N_FIRST,
    with_scale: bool = True,
) -> float:
    """World MPJPE (mm): similarity fitted on each chunk's first ``n_first`` frames only."""
    return _chunked_mpjpe(pred, gt, n_first, joint_names, chunk, with_scale)


def chamfer_m(pred_points: np.ndarray, gt_points: np.ndarray) -> dict[str, float]:
    """Symmetric Chamfer (m): ``accuracy`` (pred->gt mean NN), ``completeness`` (gt->pred), ``chamfer``."""
    from scipy.spatial import cKDTree

    pred_points = np.asarray(pred_points, np.float64).reshape(-1, 3)
    gt_points = np.asarray(gt_points, np.float64).reshape(-1, 3)
    if len(pred_points) == 0 or len(gt_points) == 0:
        return {"accuracy": float("inf"), "completeness": float("inf"), "chamfer": float("inf")}
    acc = cKDTree(gt_points).query(pred_points)[0].mean()
    comp = cKDTree(pred_points).query(gt_points)[0].mean()
    return {"accuracy": float(acc), "completeness": float(comp), "chamfer": float(0.5 * (acc + comp))}


def scale_error_pct(pred_points: np.ndarray, gt_points: np.ndarray) -> float:
    """|1/s - 1| * 100 for the similarity mapping corresponding ``pred_points`` onto ``gt_points``."""
    s, _, _ = umeyama(pred_points, gt_points, with_scale=True)
    return float(abs(1.0 / s - 1.0) * 100.0)


#: A true camera path shorter than this (largest distance from its mean, m) carries no scale.
MIN_CAMERA_PATH_M = 0.10


def cams_scale_error_pct(pred_centres: np.ndarray, gt_centres: np.ndarray) -> float:
    """:func:`scale_error_pct` of the camera centres alone; NaN where the true camera (nearly) does not
    translate (tripod, pan/tilt, a hand held still): there is no path to take a scale from."""
    gt_centres = np.asarray(gt_centres, np.float64).reshape(-1, 3)
    if len(gt_centres) < 2 or np.linalg.norm(gt_centres - gt_centres.mean(0), axis=1).max() < MIN_CAMERA_PATH_M:
        return float("nan")
    return scale_error_pct(pred_centres, gt_centres)


def gravity_error_deg(pred_T_world_cam: np.ndarray, gt_T_world_cam: np.ndarray) -> float:
    """Mean angle (deg) between the up axis seen from each camera, reconstruction vs truth."""
    up = np.array([0.0, 0.0, 1.0])
    a = np.einsum("tba,b->ta", np.asarray(pred_T_world_cam)[:, :3, :3], up)  # R^T up
    b = np.einsum("tba,b->ta", np.asarray(gt_T_world_cam)[:, :3, :3], up)
    cos = np.clip(np.sum(a * b, 1) / (np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)), -1, 1)
    return float(np.degrees(np.arccos(cos)).mean())


def sample_mesh(vertices: np.ndarray, faces: np.ndarray, n: int, seed: int = 0) -> np.ndarray:
    """``n`` area-uniform samples on a triangle mesh (vertices themselves if it has no faces)."""
    vertices = np.asarray(vertices, np.float64)
    if faces is None or len(faces) == 0:
        return vertices
    tri = vertices[np.asarray(faces)]
    area = 0.5 * np.linalg.norm(np.cross(tri[:, 1] - tri[:, 0], tri[:, 2] - tri[:, 0]), axis=1)
    if area.sum() <= 0:
        return vertices
    rng = np.random.default_rng(seed)
    idx = rng.choice(len(tri), size=n, p=area / area.sum())
    r1, r2 = rng.random(n), rng.random(n)
    s = np.sqrt(r1)
    return tri[idx, 0] * (1 - s)[:, None] + tri[idx, 1] * (s * (1 - r2))[:, None] + tri[idx, 2] * (s * r2)[:, None]


def point_mesh_distance(points: np.ndarray, vertices: np.ndarray, faces: np.ndarray) -> np.ndarray:
    """Exact distance (m) from each point (N,3) to a triangle mesh (Open3D raycasting BVH)."""
    import open3d as o3d

    scene = o3d.t.geometry.RaycastingScene()
    scene.add_triangles(
        o3d.core.Tensor(np.ascontiguousarray(vertices, dtype=np.float32)),
        o3d.core.Tensor(np.ascontiguousarray(faces, dtype=np.uint32)),
    )
    q = o3d.core.Tensor(np.ascontiguousarray(np.asarray(points).reshape(-1, 3), dtype=np.float32))
    return scene.compute_distance(q).numpy().astype(np.float64)


def scene_chamfer_m(
    pred_vertices: np.ndarray,
    pred_faces: np.ndarray,
    gt_vertices: np.ndarray,
    gt_faces: np.ndarray,
    gt_seen_points: np.ndarray,
    *,
    n_samples: int = 100_000,
    near: float = 0.10,
    in_range=None,  # Callable[[np.ndarray], np.ndarray] | None: which reconstruction samples to score
) -> dict[str, float]:
    """Chamfer over the seen region with exact point-to-mesh distances (see module docstring)."""
    from scipy.spatial import cKDTree

    pred_faces = np.asarray(pred_faces).reshape(-1, 3)
    seen = np.asarray(gt_seen_points, np.float64).reshape(-1, 3)
    if len(pred_vertices) == 0 or len(seen) == 0:
        return {"accuracy": float("inf"), "completeness": float("inf"), "chamfer": float("inf")}
    pts = sample_mesh(pred_vertices, pred_faces, n_samples)
    if in_range is not None:
        pts = pts[in_range(pts)]
        if len(pts) == 0:
            return {"accuracy": float("inf"), "completeness": float("inf"), "chamfer": float("inf")}
    d_seen = cKDTree(seen).query(pts)[0]
    d_mesh = point_mesh_distance(pts, gt_vertices, gt_faces)
    acc = np.where(d_seen < near, d_mesh, d_seen).mean()
    if len(pred_faces):
        comp = point_mesh_distance(seen, pred_vertices, pred_faces).mean()
    else:
        comp = cKDTree(pts).query(seen)[0].mean()
    return {"accuracy": float(acc), "completeness": float(comp), "chamfer": float(0.5 * (acc + comp))}


def in_camera_range(
    points: np.ndarray, T_world_cam: np.ndarray, K: np.ndarray, image_size, max_depth: float, every: int = 5
) -> np.ndarray:
    """(N,) True where some camera (every ``every``-th) has the point in its image within ``max_depth``."""
    points = np.asarray(points, np.float64).reshape(-1, 3)
    w, h = (float(x) for x in image_size)
    out = np.zeros(len(points), bool)
    for T in np.asarray(T_world_cam)[::every]:
        Tcw = np.linalg.inv(T)
        pc = points @ Tcw[:3, :3].T + Tcw[:3, 3]
        z = pc[:, 2]
        with np.errstate(divide="ignore", invalid="ignore"):
            u = K[0, 0] * pc[:, 0] / z + K[0, 2]
            v = K[1, 1] * pc[:, 1] / z + K[1, 2]
        out |= (z > 0.05) & (z <= max_depth) & (u >= 0) & (u < w) & (v >= 0) & (v < h)
    return out


HeightFn = Callable[[np.ndarray], np.ndarray]  # xy (...,2) -> surface height (...), NaN = unknown


def height_under(height: HeightFn, xy: np.ndarray, spread: float = HEIGHT_SPREAD_M) -> np.ndarray:
    """Median surface height (N,) at each xy (N,2) and its 8 neighbours ``spread`` away (NaN-skipping)."""
    xy = np.asarray(xy, np.float64).reshape(-1, 2)
    off = np.array([(dx, dy) for dx in (-spread, 0.0, spread) for dy in (-spread, 0.0, spread)])
    h = np.asarray(height(xy[:, None, :] + off[None]), np.float64)
    out = np.full(len(xy), np.nan)
    ok = np.isfinite(h).any(1)
    out[ok] = np.nanmedian(h[ok], axis=1)
    return out


def stance_segments(contacts: np.ndarray, min_frames: int = 3) -> list[tuple[int, int, int]]:
    """(foot, start, end) of every run of >= ``min_frames`` contact frames, end exclusive."""
    out = []
    c = np.asarray(contacts, bool)
    for f in range(c.shape[1]):
        e = np.flatnonzero(np.diff(np.r_[0, c[:, f].astype(np.int8), 0]))
        out += [(f, int(a), int(b)) for a, b in zip(e[0::2], e[1::2], strict=True) if b - a >= min_frames]
    return sorted(out, key=lambda x: (x[1], x[0]))


def foot_centres(joints: np.ndarray) -> np.ndarray:
    """(T,2,2) xy midpoint of ankle and toe joints of the (left, right) foot."""
    idx = HUMAN_JOINTS.index
    ank = joints[:, [idx("left_ankle"), idx("right_ankle")], :2]
    toe = joints[:, [idx("left_toe"), idx("right_toe")], :2]
    return 0.5 * (ank + toe)


def thigh_points(joints: np.ndarray) -> np.ndarray:
    """(T,5,2) xy under the seated thighs: pelvis, both hips, a third of the way from each hip to its knee."""
    idx = HUMAN_JOINTS.index
    p = [joints[:, idx("pelvis")], joints[:, idx("left_hip")], joints[:, idx("right_hip")]]
    for side in ("left", "right"):
        hip, knee = joints[:, idx(f"{side}_hip")], joints[:, idx(f"{side}_knee")]
        p.append(hip + (knee - hip) / 3.0)
    return np.stack(p, axis=1)[..., :2]


def support_heights(height: HeightFn, joints: np.ndarray, segments: list[tuple[int, int, int]]) -> np.ndarray:
    """(S,) median height under the foot centre over each stance segment (NaN where never known)."""
    centres = foot_centres(joints)
    out = np.full(len(segments), np.nan)
    for k, (f, a, b) in enumerate(segments):
        h = height_under(height, centres[a:b, f])
        if np.isfinite(h).any():
            out[k] = float(np.nanmedian(h))
    return out


def floor_level(gt_z: np.ndarray, rec_z: np.ndarray, tol: float = LEVEL_TOL_M) -> float:
    """The reconstruction's floor: median reconstructed height of the segments truly on the floor (else 0)."""
    on = (np.abs(gt_z) <= tol) & np.isfinite(rec_z)
    return float(np.median(rec_z[on])) if on.any() else 0.0


def step_height_errors(gt_z: np.ndarray, rec_z: np.ndarray, tol: float = LEVEL_TOL_M) -> dict[str, float]:
    """Per-surface step height errors from per-segment true / reconstructed heights (module docstring)."""
    gt_z, rec_z = np.asarray(gt_z, np.float64), np.asarray(rec_z, np.float64)
    floor = floor_level(gt_z, rec_z, tol)
    above = np.flatnonzero(np.abs(gt_z) > tol)
    errs, missing, levels = [], 0, 0
    order = above[np.argsort(gt_z[above])]
    k = 0
    while k < len(order):  # one surface: consecutive true heights within tol of the group's lowest
        grp = [order[k]]
        while k + 1 < len(order) and gt_z[order[k + 1]] - gt_z[grp[0]] <= tol:
            k += 1
            grp.append(order[k])
        k += 1
        levels += 1
        rec = rec_z[grp]
        if not np.isfinite(rec).any():
            missing += 1
            continue
        errs.append(float(np.nanmedian(rec) - floor - np.median(gt_z[grp])))
    nan = float("nan")
    return {
        "step_height_err_m": float(np.mean(np.abs(errs))) if errs else nan,
        "step_height_err_max_m": float(np.max(np.abs(errs))) if errs else nan,
        "step_surfaces": float(levels),
        "step_surfaces_missing": float(missing),
    }


def seat_height_error(
    height: HeightFn, joints: np.ndarray, seat_contact: np.ndarray, seat_top: float, floor: float
) -> dict[str, float]:
    """|reconstructed seat height above its floor - true seat top| over the seated frames (module docstring)."""
    seated = np.asarray(seat_contact, bool)
    if not np.isfinite(seat_top) or not seated.any():
        return {"seat_height_err_m": float("nan"), "seat_missing": 0.0}
    h = height_under(height, thigh_points(joints[seated]).reshape(-1, 2))
    if not np.isfinite(h).any():
        return {"seat_height_err_m": float("nan"), "seat_missing": 1.0}
    return {"seat_height_err_m": float(abs(np.nanmedian(h) - floor - seat_top)), "seat_missing": 0.0}


def contact_region_xy(joints: np.ndarray, contacts: np.ndarray, seat_contact: np.ndarray | None) -> np.ndarray:
    """(N,2) xy the person touched: foot centres in contact, thigh points while seated."""
    c = foot_centres(joints)[np.asarray(contacts, bool)]
    pts = [c.reshape(-1, 2)]
    if seat_contact is not None and np.asarray(seat_contact, bool).any():
        pts.append(thigh_points(joints[np.asarray(seat_contact, bool)]).reshape(-1, 2))
    return np.concatenate(pts)


def heightfield_samples(heights: np.ndarray, origin_xy: np.ndarray, resolution: float, sub: int = 5) -> np.ndarray:
    """(N,3) points on the known cells of a heightfield, ``sub`` x ``sub`` per cell at the cell's height."""
    rows, cols = np.nonzero(np.isfinite(heights))
    o = (np.arange(sub) + 0.5) / sub - 0.5
    ox, oy = (a.ravel() * resolution for a in np.meshgrid(o, o))
    x = origin_xy[0] + cols[:, None] * resolution + ox[None]
    y = origin_xy[1] + rows[:, None] * resolution + oy[None]
    z = np.repeat(heights[rows, cols][:, None], sub * sub, axis=1)
    return np.stack([x.ravel(), y.ravel(), z.ravel()], axis=1)


def contact_chamfer_m(
    rec_points: np.ndarray,
    gt_height: HeightFn,
    region_xy: np.ndarray,
    radius: float = CONTACT_RADIUS_M,
    grid: float = CONTACT_GRID_M,
) -> dict[str, float]:
    """Chamfer between reconstructed surface samples (N,3, ground-truth frame) and the true top
    surface over the contact region (module docstring)."""
    from scipy.spatial import cKDTree

    inf = {"chamfer_contact_m": float("inf"), "chamfer_contact_accuracy_m": float("inf"),
           "chamfer_contact_completeness_m": float("inf")}  # fmt: skip
    region_xy = np.asarray(region_xy, np.float64).reshape(-1, 2)
    if len(region_xy) == 0:
        return {k: float("nan") for k in inf}
    tree = cKDTree(region_xy)
    pad = radius + 0.10
    lo, hi = region_xy.min(0) - pad, region_xy.max(0) + pad
    gx, gy = np.meshgrid(np.arange(lo[0], hi[0], grid), np.arange(lo[1], hi[1], grid))
    g = np.column_stack([gx.ravel(), gy.ravel()])
    dg = tree.query(g, distance_upper_bound=pad)[0]
    g, dg = g[dg <= pad], dg[dg <= pad]
    gt_pts = np.column_stack([g, gt_height(g)])
    gt_in = dg <= radius
    rec = np.asarray(rec_points, np.float64).reshape(-1, 3)
    rec = rec[np.isfinite(rec).all(1) & (rec[:, :2] >= lo).all(1) & (rec[:, :2] <= hi).all(1)]
    dr = tree.query(rec[:, :2], distance_upper_bound=pad)[0] if len(rec) else np.zeros(0)
    rec_in, rec_pad = rec[dr <= radius], rec[dr <= pad]
    if len(rec_in) == 0 or not gt_in.any():
        return inf
    acc = float(cKDTree(gt_pts).query(rec_in)[0].mean())
    comp = float(cKDTree(rec_pad).query(gt_pts[gt_in])[0].mean())
    return {"chamfer_contact_m": 0.5 * (acc + comp), "chamfer_contact_accuracy_m": acc,
            "chamfer_contact_completeness_m": comp}  # fmt: skip


def solids_heights(solids: list[dict], resolution: float = 0.02) -> tuple[np.ndarray, np.ndarray] | None:
    """Rasterise ``scene.json`` solids (boxes) into a heightfield of their top faces: (heights, origin_xy)."""
    boxes = []
    for s in solids:
        b = s.get("box", s)
        c, size, yaw = np.asarray(b["center"], float), np.asarray(b["size"], float), float(b.get("yaw", 0.0))
        boxes.append((c, size, yaw))
    if not boxes:
        return None
    corners = []
    for c, size, _yaw in boxes:
        r = 0.5 * np.hypot(size[0], size[1])
        corners += [c[:2] - r, c[:2] + r]
    lo, hi = np.min(corners, 0), np.max(corners, 0)
    nx, ny = (int(np.ceil((hi - lo)[i] / resolution)) + 1 for i in (0, 1))
    xs, ys = lo[0] + np.arange(nx) * resolution, lo[1] + np.arange(ny) * resolution
    X, Y = np.meshgrid(xs, ys)
    H = np.full(X.shape, np.nan)
    for c, size, yaw in boxes:
        ca, sa = np.cos(yaw), np.sin(yaw)
        u = (X - c[0]) * ca + (Y - c[1]) * sa
        v = -(X - c[0]) * sa + (Y - c[1]) * ca
        inside = (np.abs(u) <= size[0] / 2) & (np.abs(v) <= size[1] / 2)
        top = c[2] + size[2] / 2
        H = np.where(inside, np.fmax(H, top), H)
    return H, lo


def _recon_surface(recon_dir: Path):  # -> videomimic_offline.contracts.heightfield.Heightfield | None
    """The reconstruction's surface: its heightfield, else its scene.json solids, else None."""
    from videomimic_offline.contracts.heightfield import Heightfield, read_heightfield
    from videomimic_offline.contracts.scene import read_scene_info

    if (recon_dir / "heightfield.npz").is_file():
        return read_heightfield(recon_dir / "heightfield.npz")
    if (recon_dir / "scene.json").is_file():
        solids = [s.to_dict() for s in read_scene_info(recon_dir / "scene.json").solids]
        hs = solids_heights(solids)
        if hs is not None:
            return Heightfield(hs[0], hs[1], 0.02, name="scene.json solids")
    return None


def scene_height_metrics(
    gt: dict[str, np.ndarray], rec_joints: np.ndarray, surface, R: np.ndarray, t: np.ndarray
) -> dict[str, float]:
    """step/seat height errors and contact Chamfer for one clip (module docstring).

    ``rec_joints`` (T,J,3) reconstructed joints of the first T ground-truth frames, ``surface`` the
    reconstruction's Heightfield (or None; only its observed cells count), ``R, t`` the rigid map
    from the reconstruction's world into the ground truth's (as for Chamfer).
    """
    from videomimic_offline.real2sim.synthetic.heightfield import terrain_faces
    from videomimic_offline.real2sim.synthetic.scenes import top_surface_height

    T = len(rec_joints)
    gj = np.asarray(gt["joints_w"], np.float64)[:T]
    contacts = np.asarray(gt["contacts"], bool)[:T]
    seat = np.asarray(gt["seat_contact"], bool)[:T] if "seat_contact" in gt else np.zeros(T, bool)
    seat_top = float(gt["seat_top_z"]) if "seat_top_z" in gt else float("nan")
    gv, gf = gt["scene_vertices"], terrain_faces(gt)

    def gt_height(xy: np.ndarray) -> np.ndarray:
        return top_surface_height(gv, gf, xy)

    def rec_height(xy: np.ndarray) -> np.ndarray:
        if surface is None:
            return np.full(np.asarray(xy).shape[:-1], np.nan)
        return np.where(surface.known_at(xy), surface.height_at(xy), np.nan)

    segs = stance_segments(contacts)
    gt_z = support_heights(gt_height, gj, segs)
    rec_z = support_heights(rec_height, rec_joints, segs)
    out = step_height_errors(gt_z, rec_z)
    out.update(seat_height_error(rec_height, rec_joints, seat, seat_top, floor_level(gt_z, rec_z)))
    region = contact_region_xy(gj, contacts, seat)
    if surface is None:
        pts = np.zeros((0, 3))
    else:
        pts = heightfield_samples(surface.heights, surface.origin_xy, surface.resolution) @ R.T + t
    out.update(contact_chamfer_m(pts, gt_height, region))
    return out


#: Ground-truth arrays with one row per video frame.
PER_FRAME_GT = ("joints_w", "T_world_cam", "contacts", "seat_contact", "root_pos_w", "root_quat_w", "body_local_quat")


def first_frame(recon_dir: Path) -> int:
    """The video frame a reconstruction's first frame is: the start of the person's span, which
    the persons stage trims to where the person (with their legs) is in view (``report.json``)."""
    path = Path(recon_dir) / "report.json"
    if not path.is_file():
        return 0
    span = json.loads(path.read_text()).get("persons", {}).get("frame_span") or [0]
    return int(span[0])


def evaluate_reconstruction(clip_dir: Path, recon_dir: Path, n_scene_samples: int = 50_000) -> dict[str, float]:
    """All benchmark metrics for one clip: reads ``clip_dir/gt.npz`` and the reconstruction
    folder (``motion.npz``, ``cameras.npz``, ``scene_mesh.ply``, ``heightfield.npz`` or
    ``scene.json`` solids)."""
    from videomimic_offline.contracts.cameras import read_cameras
    from videomimic_offline.contracts.human_motion import read_human_motion
    from videomimic_offline.real2sim.synthetic.clip import load_gt

    gt = load_gt(clip_dir)
    recon_dir = Path(recon_dir)
    first = first_frame(recon_dir)
    if first:  # the reconstruction starts where the person's span does: compare the same frames
        gt = {k: (v[first:] if k in PER_FRAME_GT else v) for k, v in gt.items()}
    motion = read_human_motion(recon_dir / "motion.npz")  # joints in HUMAN_JOINTS order
    Twc = read_cameras(recon_dir / "cameras.npz").T_world_cam
    pj, gj = motion.joints_w, gt["joints_w"]
    T = min(len(pj), len(gj), len(Twc))
    if T < 2:
        raise IncompatibleError(f"{recon_dir} has {T} frames; expected about {len(gj)}")
    pj, gj = pj[:T], gj[:T]
    pc, gc = Twc[:T, :3, 3], gt["T_world_cam"][:T, :3, 3]
    cam_fin = np.isfinite(pc).all(1)
    pel = HUMAN_JOINTS.index("pelvis")
    src = np.concatenate([pc, pj[:, pel]])
    dst = np.concatenate([gc, gj[:, pel]])
    fin = np.isfinite(src).all(1)
    src, dst = src[fin], dst[fin]
    cam_ok = np.isfinite(Twc[:T]).all(axis=(1, 2))
    out = {
        "frames": float(T),
        "valid_frac": float(np.isfinite(pj).all(axis=(1, 2)).mean()),
        "wa_mpjpe_mm": wa_mpjpe_mm(pj, gj),
        "w_mpjpe_mm": w_mpjpe_mm(pj, gj),
        "scale_err_pct": scale_error_pct(src, dst),
        "scale_err_cams_pct": cams_scale_error_pct(pc[cam_fin], gc[cam_fin]),
        "gravity_err_deg": gravity_error_deg(Twc[:T][cam_ok], gt["T_world_cam"][:T][cam_ok]),
    }
    _, R_al, t_al = umeyama(src, dst, with_scale=False)
    out.update(scene_height_metrics(gt, pj, _recon_surface(recon_dir), R_al, t_al))
    mesh_path = recon_dir / "scene_mesh.ply"
    out["chamfer_m"] = float("nan")
    if mesh_path.is_file():
        import trimesh

        mesh = trimesh.load(mesh_path, process=False)
        pv = np.asarray(mesh.vertices, np.float64)
        pf = np.asarray(getattr(mesh, "faces", np.zeros((0, 3), int)))
        pv = pv @ R_al.T + t_al
        gv, gf, seen = gt["scene_vertices"], gt["scene_faces"], gt["scene_seen_points"]
        meta_path = Path(clip_dir) / "meta.json"
        max_range = SEEN_MAX_RANGE_M
        if meta_path.is_file():
            max_range = float(json.loads(meta_path.read_text()).get("seen_max_range_m", max_range))

        def in_range(x: np.ndarray) -> np.ndarray:
            return in_camera_range(x, gt["T_world_cam"], gt["K"], gt["image_size"], max_range)

        ch = scene_chamfer_m(pv, pf, gv, gf, seen, n_samples=n_scene_samples, in_range=in_range)
        out.update(
            chamfer_m=ch["chamfer"], chamfer_accuracy_m=ch["accuracy"], chamfer_completeness_m=ch["completeness"]
        )
        if "scene_seen_part" in gt and len(pf):
            names = [str(x) for x in gt["scene_part_names"]]
            terrain = [k for k, n in enumerate(names) if n in ("floor", "feature")]
            seen_t = np.isin(gt["scene_seen_part"], terrain)
            face_t = np.isin(gt["scene_face_part"], terrain)
            # keep the reconstruction's faces whose nearest seen sample is terrain
            from scipy.spatial import cKDTree

            centroids = pv[pf].mean(1)
            nearest = cKDTree(seen).query(centroids)[1]
            keep = seen_t[nearest]
            if keep.any() and seen_t.any():
                ch_t = scene_chamfer_m(
                    pv, pf[keep], gv, gf[face_t], seen[seen_t], n_samples=n_scene_samples, in_range=in_range
                )
                out["chamfer_terrain_m"] = ch_t["chamfer"]
    return out
