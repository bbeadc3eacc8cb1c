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
  cameras carry (the person's trajectory can mask it), but ill-conditioned for a short camera path.
- **Gravity error** (deg): per frame, the angle between the world up axis expressed in the camera
  frame by the reconstruction and by the ground truth, averaged over frames (independent of any
  world alignment).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from videomimic_offline.body.skeleton import EVAL_JOINTS, HUMAN_JOINTS
from videomimic_offline.errors import IncompatibleError

CHUNK = 100
N_FIRST = 2
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


def evaluate_reconstruction(clip_dir: Path, recon_dir: Path, n_scene_samples: int = 50_000) -> dict[str, float]:
    """All benchmark metrics for one clip: reads ``clip_dir/gt.npz`` and the reconstruction
    folder (``motion.npz``, ``cameras.npz``, ``scene_mesh.ply``)."""
    from videomimic_offline.contracts.cameras import read_cameras
    from videomimic_offline.contracts.human_motion import read_human_motion
    from videomimic_offline.real2sim.synthetic.clip import load_gt

    gt = load_gt(clip_dir)
    recon_dir = Path(recon_dir)
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
        "scale_err_cams_pct": scale_error_pct(pc[cam_fin], gc[cam_fin]),
        "gravity_err_deg": gravity_error_deg(Twc[:T][cam_ok], gt["T_world_cam"][:T][cam_ok]),
    }
    mesh_path = recon_dir / "scene_mesh.ply"
    out["chamfer_m"] = float("nan")
    if mesh_path.is_file():
        import trimesh

        mesh = trimesh.load(mesh_path, process=False)
        pv = np.asarray(mesh.vertices, np.float64)
        pf = np.asarray(getattr(mesh, "faces", np.zeros((0, 3), int)))
        _, R, t = umeyama(src, dst, with_scale=False)
        pv = pv @ R.T + t
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
